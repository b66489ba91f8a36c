/** Third-party plugins as real processes: trust, protocol, failures, vetoes, skeletons. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, pathExists, type Sandbox, withSandbox, writeFiles } from "./helpers.ts";
import { enableToml, type TestPlugin, writePlugin } from "./plugin_helpers.ts";

/** A repo whose project plugins dir holds `plugins`, all enabled; returns the repo and plugin root. */
async function projectWith(sb: Sandbox, plugins: TestPlugin[]): Promise<{ repo: string; root: string }> {
  const repo = await sb.repo("shop", {
    ".devops-ai/infra.toml": enableToml("shop", plugins.map((p) => p.name)),
  });
  const root = join(repo, ".devops-ai", "plugins");
  for (const p of plugins) await writePlugin(root, p);
  return { repo, root };
}

const marker = (sb: Sandbox) => join(sb.dir, "marker");
const recorder = (sb: Sandbox): TestPlugin => ({
  name: "recorder",
  events: ["worktree.created", "worktree.ready"],
  // Records argv, the KINFRA_* environment and the stdin document.
  cases:
    `  worktree.ready) { echo "$1|$KINFRA_EVENT|$KINFRA_PLUGIN_NAME|$KINFRA_PROJECT|$KINFRA_WORKTREE|$PWD"; echo "$input"; } > ${
      marker(sb)
    } ;;`,
});

Deno.test("an untrusted project plugin does not run; after trust it runs with the protocol's argv, env and stdin", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [recorder(sb)]);
    const first = await sb.kinfra(["spec", "one"], { cwd: repo });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Plugin "recorder" is not trusted; skipped/);
    assert.equal(await pathExists(marker(sb)), false, "untrusted plugin must not run");

    assert.equal((await sb.kinfra(["plugins", "trust", "recorder"], { cwd: repo })).code, 0);
    const second = await sb.kinfra(["spec", "two"], { cwd: repo });
    assert.equal(second.code, 0, second.stderr);
    const [line, json] = (await Deno.readTextFile(marker(sb))).split("\n");
    const worktree = join(sb.dir, "shop-spec-two");
    assert.equal(line, `worktree.ready|worktree.ready|recorder|shop|${worktree}|${worktree}`);
    const input = JSON.parse(json);
    assert.equal(input.api, 1);
    assert.equal(input.event, "worktree.ready");
    assert.deepEqual(input.worktree, { path: worktree, branch: "spec/two", kind: "spec", feature: "two" });
    assert.deepEqual(input.config, {});
  }));

Deno.test("editing a trusted plugin makes it untrusted again, and kinfra says so", () =>
  withSandbox(async (sb) => {
    const { repo, root } = await projectWith(sb, [recorder(sb)]);
    await sb.kinfra(["plugins", "trust", "recorder"], { cwd: repo });
    await Deno.writeTextFile(join(root, "recorder/bin/hook"), "\n# sneaky edit\n", { append: true });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 0);
    assert.match(run.stderr, /Plugin "recorder" changed since it was trusted; skipped/);
    assert.equal(await pathExists(marker(sb)), false);
    const listed = (await sb.kinfra(["--json", "plugins", "list"], { cwd: repo })).json<
      { plugins: { name: string; trust: string }[] }
    >();
    assert.equal(listed.plugins.find((p) => p.name === "recorder")?.trust, "changed");
  }));

Deno.test("garbage on stdout fails the setup step with an error naming the plugin, and rolls back", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "noisy",
      events: ["worktree.ready"],
      cases: `  worktree.ready) echo "hello, I am not JSON" ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "noisy"], { cwd: repo });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /Plugin "noisy" failed during worktree\.ready: printed something that is not JSON/,
    );
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false, "the fresh worktree was rolled back");
    assert.equal(await git(repo, "branch", "--list", "spec/x"), "");
  }));

Deno.test("exit 100 means not applicable: the step is skipped and setup goes on", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "shrug",
      events: ["worktree.ready"],
      cases: `  worktree.ready) echo "not mine" >&2; exit 100 ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "shrug"], { cwd: repo });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\[shrug\] not mine/, "stderr is shown prefixed with the plugin name");
  }));

Deno.test("a failing plugin exit code is an error carrying the code and the tail of stderr", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "grumpy",
      events: ["worktree.created"],
      cases: `  worktree.created) echo "database unreachable" >&2; exit 7 ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "grumpy"], { cwd: repo });
    const run = await sb.kinfra(["--json", "spec", "x"], { cwd: repo });
    assert.equal(run.code, 1);
    const error = run.json<{ error: { message: string; details: string[] } }>().error;
    assert.match(error.message, /Plugin "grumpy" failed during worktree\.created: exited with code 7/);
    assert.deepEqual(error.details, ["database unreachable"]);
  }));

Deno.test("a plugin that outlives its timeout is killed within the bound and setup rolls back", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "sleepy",
      events: ["worktree.created"],
      timeout: "1s",
      // Ignores SIGTERM and has a child holding stdout: only the group SIGKILL ends it.
      cases: `  worktree.created) trap "" TERM; sleep 60 & sleep 60 ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "sleepy"], { cwd: repo });
    const start = performance.now();
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    const seconds = (performance.now() - start) / 1000;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Plugin "sleepy" failed during worktree\.created: timed out after 1s/);
    assert.ok(seconds < 1 + 5 + 3, `took ${seconds.toFixed(1)}s; bound is timeout + 5 s grace`);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
  }));

Deno.test("a plugin crashing during teardown does not stop done; the failure is reported", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "crashy",
      events: ["worktree.removed"],
      cases: `  worktree.removed) kill -SEGV $$ ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "crashy"], { cwd: repo });
    assert.equal((await sb.kinfra(["spec", "x"], { cwd: repo })).code, 0);
    const run = await sb.kinfra(["--json", "done", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
    const failures = run.json<{ plugin_failures: { plugin: string; event: string }[] }>().plugin_failures;
    assert.deepEqual(failures.map((f) => [f.plugin, f.event]), [["crashy", "worktree.removed"]]);
  }));

Deno.test("done keeps a branch that moved while the worktree was being removed (its merge state is asked again)", () =>
  withSandbox(async (sb) => {
    // worktree.removed runs after git removed the worktree and before the branch is settled: a
    // commit landing on the branch then is one done must not delete with it. (The hook runs in the
    // project root: the worktree is gone.)
    const { repo } = await projectWith(sb, [{
      name: "late",
      events: ["worktree.removed"],
      cases: `  worktree.removed) r=$(pwd); g() { git -C "$r" -c user.name=t -c user.email=t@t "$@"; }
    c=$(g commit-tree -p refs/heads/spec/x -m late "$(g rev-parse 'refs/heads/spec/x^{tree}')") && g update-ref refs/heads/spec/x "$c" ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "late"], { cwd: repo });
    assert.equal((await sb.kinfra(["spec", "x"], { cwd: repo })).code, 0);
    const run = await sb.kinfra(["--json", "done", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    const branch = run.json<{ branch: { deleted: boolean; merged: boolean; reason?: string } }>().branch;
    assert.deepEqual([branch.deleted, branch.merged], [false, false], run.stdout);
    assert.match(branch.reason ?? "", /not merged/);
    assert.equal(await git(repo, "log", "-1", "--format=%s", "spec/x"), "late");
  }));

Deno.test("a veto blocks done with exit 3 and --force overrides it", () =>
  withSandbox(async (sb) => {
    const { repo } = await projectWith(sb, [{
      name: "guard",
      events: ["worktree.removing"],
      cases: `  worktree.removing) echo '{"veto": "agent still running"}' ;;`,
    }]);
    await sb.kinfra(["plugins", "trust", "guard"], { cwd: repo });
    assert.equal((await sb.kinfra(["spec", "x"], { cwd: repo })).code, 0);
    const blocked = await sb.kinfra(["done", "x"], { cwd: repo });
    assert.equal(blocked.code, 3);
    assert.match(blocked.stderr, /guard: agent still running/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), true);
    assert.equal((await sb.kinfra(["done", "x", "--force"], { cwd: repo })).code, 0);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
  }));

Deno.test("discovery: KINFRA_PLUGIN_PATH wins and shadows, invalid and reserved plugins are listed with a reason", () =>
  withSandbox(async (sb) => {
    const { repo, root } = await projectWith(sb, [{ name: "dup", events: ["status"], cases: "" }]);
    const extra = join(sb.dir, "extra-plugins");
    await writePlugin(extra, { name: "dup", events: ["status"], cases: "" });
    await writePlugin(extra, { name: "docker", events: ["status"], cases: "" });
    await writePlugin(extra, { name: "data", events: ["status"], cases: "" }); // every built-in's name
    await writeFiles(join(root, "broken"), { "plugin.toml": `api = 2\nname = "broken"\n` });
    await writeFiles(join(root, "misnamed"), {
      "plugin.toml": `api = 1\nname = "other"\nversion = "1"\ncommand = ["x"]\nevents = ["status"]\n`,
    });
    const run = await sb.kinfra(["--json", "plugins", "list"], {
      cwd: repo,
      env: { KINFRA_PLUGIN_PATH: extra },
    });
    assert.equal(run.code, 0, run.stderr);
    const rows = run.json<
      { plugins: { name: string; source: string; shadowed_by: string | null; error: string | null }[] }
    >().plugins;
    const get = (name: string, source: string) => rows.find((r) => r.name === name && r.source === source)!;
    assert.equal(get("dup", "path").shadowed_by, null);
    assert.equal(get("dup", "project").shadowed_by, join(extra, "dup"));
    assert.match(get("docker", "path").error!, /reserved for a built-in/);
    assert.match(get("data", "path").error!, /reserved for a built-in/);
    const taken = await sb.kinfra(["plugins", "new", "data"], { cwd: repo });
    assert.equal(taken.code, 2, taken.stderr);
    assert.match(taken.stderr, /"data" is reserved for a built-in plugin/);
    assert.match(get("broken", "project").error!, /api: must be 1/);
    assert.match(get("misnamed", "project").error!, /must equal its directory name/);
    // An invalid enabled plugin never stops kinfra.
    await Deno.writeTextFile(join(repo, ".devops-ai/infra.toml"), enableToml("shop", ["broken", "missing"]));
    const spec = await sb.kinfra(["spec", "y"], { cwd: repo });
    assert.equal(spec.code, 0, spec.stderr);
    assert.match(spec.stderr, /Plugin "broken" is invalid and was skipped/);
    assert.match(spec.stderr, /Plugin "missing" is enabled but not installed/);
  }));

Deno.test("plugins new writes working sh and ts skeletons", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": enableToml("shop", ["hello-sh", "hello-ts"]),
    });
    for (const [name, lang] of [["hello-sh", "sh"], ["hello-ts", "ts"]]) {
      const made = await sb.kinfra(["plugins", "new", name, "--lang", lang], { cwd: repo });
      assert.equal(made.code, 0, made.stderr);
      assert.equal((await sb.kinfra(["plugins", "trust", name], { cwd: repo })).code, 0);
    }
    const run = await sb.kinfra(["--json", "spec", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    const messages = run.json<{ messages: string[] }>().messages;
    assert.ok(messages.includes("hello-sh: hello from slot none"), JSON.stringify(messages));
    assert.ok(
      messages.includes(`hello-ts: hello from ${join(sb.dir, "shop-spec-x")}`),
      JSON.stringify(messages),
    );
    const again = await sb.kinfra(["plugins", "new", "hello-sh"], { cwd: repo });
    assert.equal(again.code, 3);
    assert.equal((await sb.kinfra(["plugins", "new", "docker"], { cwd: repo })).code, 2);
  }));

Deno.test("a plugin can call kinfra itself through $KINFRA_BIN, and gets the typed flags", () =>
  withSandbox(async (sb) => {
    const caller: TestPlugin = {
      name: "caller",
      events: ["worktree.ready"],
      cases: `  worktree.ready) { "$KINFRA_BIN" --version || echo "exit $?"; echo "$input"; } > ${
        marker(sb)
      } ;;`,
    };
    const { repo } = await projectWith(sb, [caller]);
    assert.equal((await sb.kinfra(["plugins", "trust", "caller"], { cwd: repo })).code, 0);
    const run = await sb.kinfra(["spec", "one", "--session"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    const [version, json] = (await Deno.readTextFile(marker(sb))).split("\n");
    assert.equal(
      version,
      JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).version,
    );
    assert.deepEqual(JSON.parse(json).flags, { session: true });
  }));

Deno.test("another runtime slots in: gc finds sandboxes through runtime.scan and removes them through sandbox.purge", () =>
  withSandbox(async (sb) => {
    // A user-level plugin for a made-up runtime, enabled globally: no project, no Docker involved.
    await writePlugin(join(sb.home, "plugins"), {
      name: "fleet",
      events: ["runtime.scan", "sandbox.purge"],
      cases: [
        `  runtime.scan) echo '{"ours": ["ghost-slot-4", "not-a-slot"], "foreign": ["theirs-slot-1"]}' ;;`,
        `  sandbox.purge) echo "$KINFRA_PROJECT|$PWD|$input" >> ${marker(sb)} ;;`,
      ].join("\n"),
    });
    await writeFiles(sb.home, {
      "config.toml": '[plugins]\nenable = ["fleet"]\n',
      "slots/ghost-7/docker-compose.yml": "services: {}\n",
    });

    const dry = (await sb.kinfra(["--json", "gc", "--dry-run"])).json<{ compose_projects: string[] }>();
    assert.deepEqual(dry.compose_projects, ["ghost-slot-4"]);
    assert.equal(await pathExists(marker(sb)), false, "a dry run purges nothing");

    const run = await sb.kinfra(["--json", "gc"]);
    assert.equal(run.code, 0, run.stderr);
    const removed = run.json<{ compose_projects: string[]; slot_dirs: string[] }>();
    assert.deepEqual(removed.compose_projects, ["ghost-slot-4"]);
    assert.deepEqual(removed.slot_dirs, [join(sb.home, "slots", "ghost-7")]);
    const purged = (await Deno.readTextFile(marker(sb))).trim().split("\n").map((line) => {
      const [project, cwd, json] = line.split("|");
      const input = JSON.parse(json);
      return {
        project,
        cwd,
        event: input.event,
        slot: input.slot,
        worktree: input.worktree,
        p: input.project,
      };
    });
    assert.deepEqual(purged, [
      {
        project: "",
        cwd: sb.home,
        event: "sandbox.purge",
        slot: { id: 7, dir: join(sb.home, "slots", "ghost-7"), compose_project: "ghost-slot-7" },
        worktree: null,
        p: null,
      },
      {
        project: "",
        cwd: sb.home,
        event: "sandbox.purge",
        slot: { id: 4, dir: join(sb.home, "slots", "ghost-4"), compose_project: "ghost-slot-4" },
        worktree: null,
        p: null,
      },
    ]);
  }));

Deno.test("plugins new refuses a name longer than a directory name may be: exit 2, nothing written", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const run = await sb.kinfra(["plugins", "new", "a".repeat(300)], { cwd: repo });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /Invalid plugin name [^]*\{0,63\}/);
    assert.equal(await pathExists(join(repo, ".devops-ai", "plugins")), false);
  }));
