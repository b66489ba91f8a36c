/**
 * No lost work, hostile input refused, clear errors (issue "Safe on a real machine") — the parts
 * that need git and real processes but no Docker engine.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, KINFRA, pathExists, runCommand, type Sandbox, withSandbox, writeFiles } from "./helpers.ts";
import { enableToml, writePlugin } from "./plugin_helpers.ts";

/** A repo with a plugin in a KINFRA_PLUGIN_PATH dir (no trust needed), enabled in infra.toml. */
async function withPathPlugin(sb: Sandbox, events: string[], cases: string, extraToml = "") {
  const repo = await sb.repo("shop", { ".devops-ai/infra.toml": enableToml("shop", ["probe"], extraToml) });
  const pluginPath = join(sb.dir, "plugins");
  await writePlugin(pluginPath, { name: "probe", events, cases });
  return { repo, env: { KINFRA_PLUGIN_PATH: pluginPath } };
}

const branches = async (repo: string) => (await git(repo, "branch", "--format=%(refname:short)")).split("\n");

Deno.test("done keeps a file written after its first clean check: exit 3, the file and the worktree stay", () =>
  withSandbox(async (sb) => {
    // The plugin plays an agent still writing while `done` runs (after the first check).
    const { repo, env } = await withPathPlugin(
      sb,
      ["worktree.removing"],
      `  worktree.removing) echo late > "$KINFRA_WORKTREE/late.txt" ;;`,
    );
    assert.equal((await sb.kinfra(["spec", "race"], { cwd: repo, env })).code, 0);
    const run = await sb.kinfra(["done", "race"], { cwd: repo, env });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /late\.txt/);
    assert.equal(await Deno.readTextFile(join(sb.dir, "shop-spec-race", "late.txt")), "late\n");
    assert.ok((await branches(repo)).includes("spec/race"));
  }));

Deno.test("an edited [worktree] copy file is work: done refuses with exit 3 and lists it", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".gitignore": ".env\n",
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\ncopy = [".env"]\n`,
    });
    await writeFiles(repo, { ".env": "TOKEN=original\n" });
    assert.equal((await sb.kinfra(["spec", "edit"], { cwd: repo })).code, 0);
    const copy = join(sb.dir, "shop-spec-edit", ".env");
    await Deno.writeTextFile(copy, "TOKEN=mine\n");
    const run = await sb.kinfra(["done", "edit"], { cwd: repo });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /\.env \(copied in by \[worktree\] copy, edited since\)/);
    assert.equal(await Deno.readTextFile(copy), "TOKEN=mine\n");
    // An unedited copy is still not work.
    await Deno.writeTextFile(copy, "TOKEN=original\n");
    assert.equal((await sb.kinfra(["done", "edit"], { cwd: repo })).code, 0);
  }));

Deno.test("Ctrl-C during done stops before removing anything: exit 130, one JSON document, work kept", () =>
  withSandbox(async (sb) => {
    const ready = join(sb.dir, "removing-started");
    const { repo, env } = await withPathPlugin(
      sb,
      ["worktree.removing"],
      `  worktree.removing) touch ${ready}; sleep 5 ;;`,
    );
    assert.equal((await sb.kinfra(["spec", "stop"], { cwd: repo, env })).code, 0);
    const child = new Deno.Command(KINFRA[0], {
      args: [...KINFRA.slice(1), "--json", "done", "stop"],
      cwd: repo,
      env: { KINFRA_HOME: sb.home, NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    for (let i = 0; i < 100 && !await pathExists(ready); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await pathExists(ready), "done reached worktree.removing");
    child.kill("SIGINT");
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
    const doc = JSON.parse(stdout); // throws on two documents
    assert.equal(doc.error.code, 130);
    assert.ok(await pathExists(join(sb.dir, "shop-spec-stop", "README.md")), "worktree kept");
    assert.ok((await branches(repo)).includes("spec/stop"), "branch kept");
  }));

/** A `git` on PATH that runs the real one but, for `worktree <sub>`, does `act` instead and hangs. */
async function hangingGit(sb: Sandbox, sub: "add" | "remove", act: string): Promise<string> {
  const real = (await runCommand("sh", ["-c", "command -v git"])).stdout.trim();
  const bin = join(sb.dir, "bin");
  await writeFiles(bin, {
    git: `#!/bin/sh
for a in "$@"; do [ "$a" = "${sub}" ] && hang=1; done
case " $* " in *" worktree "*) ;; *) hang= ;; esac
if [ -n "$hang" ]; then ${act}; touch ${join(sb.dir, "git-hanging")}; exec sleep 60; fi
exec ${real} "$@"
`,
  });
  await Deno.chmod(join(bin, "git"), 0o755);
  return `${bin}:${Deno.env.get("PATH")}`;
}

/** Starts kinfra with `args`, waits until the fake git hangs, then SIGKILLs kinfra and its git. */
async function killDuringGit(sb: Sandbox, repo: string, args: string[], path: string): Promise<void> {
  const child = new Deno.Command("setsid", {
    args: [...KINFRA, ...args],
    cwd: repo,
    env: { KINFRA_HOME: sb.home, NO_COLOR: "1", PATH: path },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const hanging = join(sb.dir, "git-hanging");
  for (let i = 0; i < 150 && !await pathExists(hanging); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await pathExists(hanging), "kinfra reached git worktree");
  Deno.kill(-child.pid, "SIGKILL"); // the whole process group, as a closed terminal would
  await child.status;
  await Deno.remove(hanging);
}

/** A spec worktree whose `done` was killed inside `git worktree remove`, after `act` ran there. */
async function specKilledDuringRemove(sb: Sandbox, feature: string, act: (wt: string) => string) {
  const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
  assert.equal((await sb.kinfra(["spec", feature], { cwd: repo })).code, 0);
  const wt = join(sb.dir, `shop-spec-${feature}`);
  await killDuringGit(sb, repo, ["done", feature], await hangingGit(sb, "remove", act(wt)));
  return { repo, wt };
}

Deno.test("a kill during git worktree add leaves a locked half checkout that gc removes with its branch", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
    // What git leaves when killed mid-checkout: the worktree registered, locked "initializing", empty.
    const path = await hangingGit(
      sb,
      "add",
      `${(await runCommand("sh", ["-c", "command -v git"])).stdout.trim()} -C ${repo} worktree add ` +
        `--lock --reason initializing --no-checkout -b spec/half ${join(sb.dir, "shop-spec-half")} main -q`,
    );
    await killDuringGit(sb, repo, ["spec", "half"], path);
    assert.ok(await pathExists(join(sb.dir, "shop-spec-half")));
    const run = await sb.kinfra(["--json", "gc"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json<{ worktrees: string[] }>().worktrees, [join(sb.dir, "shop-spec-half")]);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-half")), false);
    assert.ok(!(await branches(repo)).includes("spec/half"), "the branch it made is gone");
    assert.doesNotMatch(await git(repo, "worktree", "list"), /shop-spec-half/);
  }));

Deno.test("a kill during git worktree remove leaves a directory without .git that done finishes", () =>
  withSandbox(async (sb) => {
    // What git leaves when killed while deleting: the .git file already gone, the rest not yet.
    const { repo, wt } = await specKilledDuringRemove(sb, "gone", (wt) => `rm -f ${wt}/.git`);
    assert.ok(await pathExists(join(wt, "README.md")));
    assert.equal(await pathExists(join(wt, ".git")), false);
    const run = await sb.kinfra(["done", "gone"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Finished an interrupted removal/);
    assert.equal(await pathExists(wt), false);
    assert.doesNotMatch(await git(repo, "worktree", "list"), /shop-spec-gone/);
  }));

Deno.test("an interrupted removal of a worktree that has new changes keeps it", () =>
  withSandbox(async (sb) => {
    // Killed before git touched anything.
    const { repo, wt } = await specKilledDuringRemove(sb, "busy", () => "true");
    await writeFiles(wt, { "new-work.txt": "mine" });
    const run = await sb.kinfra(["gc"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await Deno.readTextFile(join(wt, "new-work.txt")), "mine");
    assert.equal((await sb.kinfra(["done", "busy"], { cwd: repo })).code, 3);
  }));

/** Marks a worktree's entry as a kinfra killed while `state` left it: a pid that is gone. */
async function leftBy(sb: Sandbox, wt: string, state: "creating" | "removing") {
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  const file = join(sb.home, "registry.json");
  const registry = JSON.parse(await Deno.readTextFile(file));
  Object.assign(registry.worktrees[wt], { state, pid: gone.pid, host: Deno.hostname() });
  await Deno.writeTextFile(file, JSON.stringify(registry));
}

Deno.test("a creation killed after git finished, worked in since: done keeps it (exit 3), --force removes it", () =>
  withSandbox(async (sb) => {
    // Killed while copying a large [worktree] copy file: the worktree is checked out, the entry says `creating`.
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
    assert.equal((await sb.kinfra(["spec", "late"], { cwd: repo })).code, 0);
    const wt = join(sb.dir, "shop-spec-late");
    await leftBy(sb, wt, "creating");
    await writeFiles(wt, { "notes.md": "mine", "README.md": "edited" });
    const run = await sb.kinfra(["done", "late"], { cwd: repo });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /notes\.md/);
    assert.equal(await Deno.readTextFile(join(wt, "notes.md")), "mine");
    const gc = await sb.kinfra(["--json", "gc"], { cwd: repo });
    assert.deepEqual(gc.json<{ worktrees: string[] }>().worktrees, [], "gc keeps it too");
    assert.equal(await Deno.readTextFile(join(wt, "notes.md")), "mine");
    assert.equal((await sb.kinfra(["done", "late", "--force"], { cwd: repo })).code, 0);
    assert.equal(await pathExists(wt), false);
  }));

Deno.test("done and gc never delete what a stale entry's path holds now: a clone, or files git has no record of", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
    const registry = join(sb.home, "registry.json");
    const stale = async (name: string, fill: (wt: string) => Promise<unknown>) => {
      assert.equal((await sb.kinfra(["spec", name], { cwd: repo })).code, 0);
      const wt = join(sb.dir, `shop-spec-${name}`);
      const entry = JSON.parse(await Deno.readTextFile(registry)).worktrees[wt];
      // The worktree went by hand, and something else took its path.
      await git(repo, "worktree", "remove", wt);
      await fill(wt);
      await writeFiles(wt, { "precious.txt": "not kinfra's" });
      const restore = async (state?: "removing") => {
        const reg = JSON.parse(await Deno.readTextFile(registry));
        reg.worktrees[wt] = entry;
        await Deno.writeTextFile(registry, JSON.stringify(reg));
        if (state) await leftBy(sb, wt, state);
      };
      return { wt, restore };
    };
    const intact = async (wt: string) =>
      assert.equal(await Deno.readTextFile(join(wt, "precious.txt")), "not kinfra's");
    const entries = async () => Object.keys(JSON.parse(await Deno.readTextFile(registry)).worktrees);

    const clone = await stale("clone", (wt) => git(sb.dir, "clone", "-q", repo, wt));
    await clone.restore("removing");
    assert.equal((await sb.kinfra(["done", "clone"], { cwd: repo })).code, 3, "its untracked file is work");
    await intact(clone.wt);
    assert.equal((await sb.kinfra(["gc"], { cwd: repo })).code, 0, "gc keeps it, and is not stopped by it");
    await intact(clone.wt);
    for (const state of ["removing", undefined] as const) {
      await clone.restore(state);
      const run = await sb.kinfra(["done", "clone", "--force"], { cwd: repo });
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout + run.stderr,
        /Left .*shop-spec-clone alone: it is not a worktree of .*a git repository of its own/,
      );
      await intact(clone.wt);
      assert.ok(await pathExists(join(clone.wt, ".git", "HEAD")));
      assert.deepEqual(await entries(), [], "only kinfra's record went");
    }

    const plain = await stale("plain", (wt) => Deno.mkdir(wt));
    await plain.restore("removing");
    const gc = await sb.kinfra(["gc"], { cwd: repo });
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stderr, /git has no record of it as a worktree, and it is not empty/);
    await intact(plain.wt);
    assert.deepEqual(await entries(), [], "gc dropped the stale record, and only that");
  }));

Deno.test("spec fails cleanly on a corrupt registry: exit 1, no worktree, no branch", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await Deno.mkdir(sb.home, { recursive: true });
    await Deno.writeTextFile(join(sb.home, "registry.json"), "{not json");
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /registry .* is corrupt/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
    assert.ok(!(await branches(repo)).includes("spec/x"));
  }));

Deno.test("a [worktree] copy entry that is a directory is refused with exit 2 before anything is made", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\ncopy = ["conf"]\n`,
      "conf/a.txt": "a",
    });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /"conf" is a directory/);
    assert.doesNotMatch(run.stderr, /Internal error/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
    assert.ok(!(await branches(repo)).includes("spec/x"));
  }));

Deno.test("[worktree] copy never writes through a symlink the base branch committed", () =>
  withSandbox(async (sb) => {
    const victim = join(sb.dir, "victim.txt");
    await Deno.writeTextFile(victim, "untouched\n");
    const repo = await sb.repo("shop", {
      ".gitignore": ".env\n",
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\ncopy = [".env"]\n`,
    });
    await git(repo, "checkout", "-qb", "evil");
    await Deno.symlink(victim, join(repo, ".env"));
    await git(repo, "add", "-f", ".env");
    await git(repo, "commit", "-qm", "link");
    await git(repo, "checkout", "-q", "main");
    await writeFiles(repo, { ".env": "SECRET=1\n" });
    const run = await sb.kinfra(["spec", "x", "--base", "evil"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /is a symlink; ".env" was not copied/);
    assert.equal(await Deno.readTextFile(victim), "untouched\n");
  }));

Deno.test("[worktree] copy skips, with a warning, a destination the base branch fills with a file or a directory", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".gitignore": "conf/\n.env\n",
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\ncopy = ["conf/.env", ".env"]\n`,
    });
    await git(repo, "checkout", "-qb", "other");
    await writeFiles(repo, { "conf": "a file on this branch\n", ".env/keep": "a directory here\n" });
    await git(repo, "add", "-f", "conf", ".env/keep");
    await git(repo, "commit", "-qm", "in the way");
    await git(repo, "checkout", "-q", "main");
    await writeFiles(repo, { "conf/.env": "A=1\n", ".env": "B=2\n" });
    const run = await sb.kinfra(["spec", "x", "--base", "other"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /something else at "conf\/\.env" or above it; it was not copied/);
    assert.match(run.stderr, /something else at "\.env" or above it; it was not copied/);
    const wt = join(sb.dir, "shop-spec-x");
    assert.equal(await Deno.readTextFile(join(wt, "conf")), "a file on this branch\n");
    assert.equal((await sb.kinfra(["done", "x"], { cwd: repo })).code, 0, "nothing of it counts as work");
  }));

Deno.test("[worktree] root may not lead out of the project's parent (exit 2, nothing made)", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\nroot = "../../.."\n`,
    });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /worktree\.root/);
    assert.ok(!(await branches(repo)).includes("spec/x"));
  }));

Deno.test("a [worktree] root below a file, or /dev/null, is refused (exit 2): no branch, no entry, done not needed", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\nroot = "../afile"\n`,
    });
    await Deno.writeTextFile(join(sb.dir, "afile"), "a file");
    await Deno.mkdir(sb.home, { recursive: true });
    await Deno.writeTextFile(join(sb.home, "config.toml"), '[worktree]\nroot = "/dev/null"\n');
    for (const cwd of [repo, await sb.repo("plain")]) {
      const run = await sb.kinfra(["spec", "x"], { cwd });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /is not a directory; nothing was created/);
      assert.doesNotMatch(run.stderr, /Internal error|Could not undo/);
      assert.ok(!(await branches(cwd)).includes("spec/x"), "no branch");
    }
    const registry = join(sb.home, "registry.json");
    if (await pathExists(registry)) {
      assert.deepEqual(JSON.parse(await Deno.readTextFile(registry)).worktrees, {});
    }
  }));

Deno.test("an absolute [worktree] root from the global config is honoured", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const elsewhere = join(sb.dir, "all-worktrees");
    await writeFiles(sb.home, { "config.toml": `[worktree]\nroot = "${elsewhere}"\n` });
    const run = await sb.kinfra(["--json", "spec", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json<{ path: string }>().path, join(elsewhere, "shop-spec-x"));
  }));

Deno.test("a lock held by a hung process: a visible, bounded wait naming the holder, then exit 1", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await Deno.mkdir(sb.home, { recursive: true });
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./fixtures/hold_lock.ts", import.meta.url).pathname,
        join(sb.home, "registry.lock"),
      ],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read(); // "locked"
    try {
      const started = Date.now();
      const run = await sb.kinfra(["spec", "x"], { cwd: repo, env: { KINFRA_LOCK_TIMEOUT: "2" } });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`Waiting for .*registry\\.lock, held by pid ${holder.pid}`));
      assert.match(run.stderr, new RegExp(`Gave up after 2s .* held by pid ${holder.pid}`));
      assert.ok(Date.now() - started < 15_000);
      assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
    } finally {
      holder.kill();
      reader.releaseLock();
      await holder.stdout.cancel();
      await holder.status;
    }
  }));

Deno.test("inside a project a name means that project's worktree; a symlinked path finds its worktree", () =>
  withSandbox(async (sb) => {
    const shop = await sb.repo("shop");
    const blog = await sb.repo("blog");
    assert.equal((await sb.kinfra(["spec", "login"], { cwd: shop })).code, 0);
    assert.equal((await sb.kinfra(["spec", "login"], { cwd: blog })).code, 0);
    const inShop = await sb.kinfra(["--json", "status", "login"], { cwd: shop });
    assert.equal(inShop.code, 0, inShop.stderr);
    assert.equal(inShop.json<{ path: string }>().path, join(sb.dir, "shop-spec-login"));
    await Deno.symlink(join(sb.dir, "blog-spec-login"), join(sb.dir, "link"));
    const viaLink = await sb.kinfra(["--json", "status", join(sb.dir, "link")], { cwd: shop });
    assert.equal(viaLink.code, 0, viaLink.stderr);
    assert.equal(viaLink.json<{ path: string }>().path, join(sb.dir, "blog-spec-login"));
    // Outside any project the name is ambiguous and says so.
    const outside = await sb.kinfra(["status", "login"], { cwd: sb.dir });
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /matches 2 worktrees/);
  }));

Deno.test("system errors are one line with the environment's exit code: read-only home, full disk", async (t) => {
  const unshare = await runCommand("unshare", ["-rm", "true"]).catch(() => ({ code: 1 }));
  if (unshare.code !== 0) throw new Error("needs `unshare -rm` (util-linux, user namespaces)");
  await withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    // A private mount namespace: a read-only and a 64 KiB tmpfs, seen only by this kinfra.
    const inNamespace = (mount: string, args: string[]) =>
      runCommand("unshare", [
        "-rm",
        "sh",
        "-c",
        `mkdir -p /tmp/kinfra-ns && mount -t tmpfs -o ${mount} tmpfs ${sb.home} && exec "$@"`,
        "sh",
        ...KINFRA,
        ...args,
      ], { cwd: repo, env: { KINFRA_HOME: join(sb.home, "h"), NO_COLOR: "1" } });
    await Deno.mkdir(sb.home, { recursive: true });
    await t.step("read-only home", async () => {
      const run = await inNamespace("ro,size=64k", ["spec", "ro"]);
      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stderr, /Cannot create the kinfra home .*Read-only file system/);
      assert.doesNotMatch(run.stderr, /Internal error| {4}at /);
      assert.equal(await pathExists(join(sb.dir, "shop-spec-ro")), false);
    });
    await t.step("full disk", async () => {
      // The registry's temp file cannot be written: the registry entry never lands, nothing is made.
      const fill = `dd if=/dev/zero of=${sb.home}/h/fill bs=1k count=200 2>/dev/null; `;
      // After kinfra: list what it left in the home (inside the namespace, where the tmpfs is).
      const after = `; status=$?; echo LEFT: $(ls -A ${sb.home}/h) >&2; exit $status`;
      const run = await runCommand("unshare", [
        "-rm",
        "sh",
        "-c",
        `mount -t tmpfs -o size=64k tmpfs ${sb.home} && mkdir ${sb.home}/h && ${fill} "$@"${after}`,
        "sh",
        ...KINFRA,
        "spec",
        "full",
      ], { cwd: repo, env: { KINFRA_HOME: join(sb.home, "h"), NO_COLOR: "1" } });
      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stderr, /No space left on device/);
      assert.match(run.stderr, /^LEFT: fill$/m, "nothing but the filler is left in the home");
      assert.doesNotMatch(run.stderr, /Internal error| {4}at /);
      assert.equal(await pathExists(join(sb.dir, "shop-spec-full")), false);
      assert.ok(!(await branches(repo)).includes("spec/full"));
    });
  });
});

Deno.test("a registry.json that is a directory, and names git rejects, get one-line errors", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const trailingDot = await sb.kinfra(["spec", "feature."], { cwd: repo });
    assert.equal(trailingDot.code, 2, trailingDot.stderr);
    assert.match(trailingDot.stderr, /Invalid feature name "feature\."/);
    await Deno.mkdir(join(sb.home, "registry.json"), { recursive: true });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /registry .* is a directory, not a file/);
    assert.doesNotMatch(run.stderr, /Internal error/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
  }));

Deno.test("a NUL byte in a path or a ref from infra.toml is a config error (exit 2)", () =>
  withSandbox(async (sb) => {
    const cases: [string, RegExp][] = [
      ['copy = ["a\\u0000b"]', /worktree\.copy/],
      ['base = "main\\u0000x"', /worktree\.base/],
    ];
    for (const [line, key] of cases) {
      const repo = await sb.repo(`shop-${key.source.slice(-4)}`, {
        ".devops-ai/infra.toml": `[project]\nname = "shop"\n[worktree]\n${line}\n`,
      });
      const run = await sb.kinfra(["spec", "x"], { cwd: repo });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, key);
      assert.doesNotMatch(run.stderr, /Internal error/);
    }
  }));

Deno.test("plugin trust covers symlink targets: editing a linked file outside the plugin untrusts it", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": enableToml("shop", ["linked"]) });
    const outside = join(sb.dir, "outside.sh");
    await Deno.writeTextFile(outside, `echo "ran" > ${join(sb.dir, "marker")}\n`);
    const dir = await writePlugin(join(repo, ".devops-ai", "plugins"), {
      name: "linked",
      events: ["worktree.created"],
      cases: `  worktree.created) . "$KINFRA_PLUGIN_DIR/lib.sh" ;;`,
    });
    await Deno.symlink(outside, join(dir, "lib.sh"));
    assert.equal((await sb.kinfra(["plugins", "trust", "linked"], { cwd: repo })).code, 0);
    await Deno.writeTextFile(outside, `echo "tampered" > ${join(sb.dir, "marker")}\n`);
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Plugin "linked" changed since it was trusted; skipped/);
    assert.equal(await pathExists(join(sb.dir, "marker")), false);
  }));

Deno.test("a plugin command never runs a file from the worktree (the branch's own script)", () =>
  withSandbox(async (sb) => {
    const marker = join(sb.dir, "marker");
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": enableToml("shop", ["shell"]),
      // Committed on the branch, so present in every new worktree: must never be what runs.
      "hook.sh": `echo pwned > ${marker}\n`,
    });
    await writeFiles(join(sb.dir, "plugins", "shell"), {
      "plugin.toml":
        `api = 1\nname = "shell"\nversion = "1"\ncommand = ["sh", "hook.sh"]\nevents = ["worktree.created"]\n`,
    });
    const run = await sb.kinfra(["spec", "x"], {
      cwd: repo,
      env: { KINFRA_PLUGIN_PATH: join(sb.dir, "plugins") },
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /"hook\.sh" is not a file of the plugin, but would be read from the working directory/,
    );
    assert.equal(await pathExists(marker), false);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false, "rolled back");
  }));

Deno.test("plugin env replies are checked: a newline or a bad key fails the plugin, nothing is written", () =>
  withSandbox(async (sb) => {
    for (const env of [`{"A":"1\\nB=2"}`, `{"A B":"1"}`]) {
      const { repo, env: vars } = await withPathPlugin(
        sb,
        ["worktree.created"],
        `  worktree.created) printf '%s\\n' '{"env": ${env}}' ;;`,
      );
      const run = await sb.kinfra(["spec", "x"], { cwd: repo, env: vars });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /Plugin "probe" failed during worktree\.created: env /);
      assert.equal(await pathExists(join(sb.dir, "shop-spec-x")), false);
      await Deno.remove(repo, { recursive: true });
    }
  }));

Deno.test("a plugin reply nested 100,000 deep is refused in one line (exit 1)", () =>
  withSandbox(async (sb) => {
    const deep = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    await writeFiles(sb.dir, { "deep.json": `{"compose":${deep}}` });
    const { repo, env } = await withPathPlugin(
      sb,
      ["worktree.created"],
      `  worktree.created) cat ${join(sb.dir, "deep.json")} ;;`,
    );
    const run = await sb.kinfra(["spec", "x"], { cwd: repo, env });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /nests deeper than 32 levels/);
    assert.doesNotMatch(run.stderr, /Internal error|Maximum call stack/);
  }));

Deno.test("no plugin process outlives its run: a detached background child is killed when the plugin exits", () =>
  withSandbox(async (sb) => {
    const pidFile = join(sb.dir, "child.pid");
    const { repo, env } = await withPathPlugin(
      sb,
      ["worktree.created"],
      `  worktree.created) setsid sh -c 'echo $$ > ${pidFile}; exec sleep 300' >/dev/null 2>&1 &
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -s ${pidFile} ] && break; sleep 0.1; done ;;`,
    );
    const run = await sb.kinfra(["spec", "x"], { cwd: repo, env });
    assert.equal(run.code, 0, run.stderr);
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    assert.ok(pid > 0);
    // Gone, or a zombie waiting for its reaper: either way no longer running.
    const state = await Deno.readTextFile(`/proc/${pid}/stat`).then((s) => s.split(") ")[1][0], () => "gone");
    assert.ok(state === "gone" || state === "Z", `process ${pid} outlived the plugin (state ${state})`);
  }));

Deno.test("without setsid on PATH a 1 s plugin timeout still ends the run in seconds", () =>
  withSandbox(async (sb) => {
    // A PATH with what kinfra and the hook need, and no setsid.
    const bin = join(sb.dir, "nosetsid");
    await Deno.mkdir(bin);
    for (const tool of ["git", "sh", "sleep", "cat"]) {
      const real = (await runCommand("sh", ["-c", `command -v ${tool}`])).stdout.trim();
      await Deno.symlink(real, join(bin, tool));
    }
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": enableToml("shop", ["slow"]) });
    const pluginPath = join(sb.dir, "plugins");
    await writePlugin(pluginPath, {
      name: "slow",
      events: ["worktree.created"],
      timeout: "1s",
      // The child keeps stdout open and ignores SIGTERM; the hook ignores it too.
      cases: `  worktree.created) trap '' TERM; (trap '' TERM; sleep 30) & sleep 30 ;;`,
    });
    const started = Date.now();
    const run = await sb.kinfra(["spec", "x"], {
      cwd: repo,
      env: { PATH: bin, KINFRA_PLUGIN_PATH: pluginPath },
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /timed out after 1s/);
    assert.ok(seconds < 12, `took ${seconds}s`);
  }));

Deno.test("doctor reports a corrupt registry or a broken config.toml as a failed check and runs the others", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
    await Deno.mkdir(sb.home, { recursive: true });
    type Checks = { checks: { name: string; ok: boolean; detail: string }[] };
    await Deno.writeTextFile(join(sb.home, "registry.json"), '{"version": 1, "slots": {');
    const corrupt = await sb.kinfra(["--json", "doctor"], { cwd: repo });
    const checks = corrupt.json<Checks>().checks;
    assert.ok(checks.some((c) => c.name === "registry" && !c.ok), JSON.stringify(checks));
    assert.ok(checks.some((c) => c.name === "git" && c.ok), "the other checks ran");
    assert.equal(corrupt.code, 4, corrupt.stderr);

    await Deno.remove(join(sb.home, "registry.json"));
    await Deno.writeTextFile(join(sb.home, "config.toml"), "[slots]\nmax = -1\n");
    const broken = await sb.kinfra(["--json", "doctor"], { cwd: repo });
    const config = broken.json<Checks>().checks.filter((c) => c.name === "config");
    assert.equal(config.length, 1, JSON.stringify(config));
    assert.match(config[0].detail, /slots\.max/);
    assert.ok(broken.json<Checks>().checks.some((c) => c.name === "git" && c.ok), "the other checks ran");
  }));

Deno.test("a refusal in a new home leaves only what it wrote whole: no home-id temp file", () =>
  withSandbox(async (sb) => {
    // The plugins (and the home id they ask for) load while git resolves the base; the refusal ends
    // the process then. Four fresh homes: the temp file was left in 7 of 8 such runs.
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": `[project]\nname = "shop"\n` });
    for (let i = 0; i < 4; i++) {
      const home = join(sb.dir, `home${i}`);
      const run = await sb.kinfra(["impl", "a/M1", "--no-sandbox", "--base", "nosuch"], {
        cwd: repo,
        env: { KINFRA_HOME: home },
      });
      assert.equal(run.code, 2, run.stderr);
      const left = await pathExists(home)
        ? (await Array.fromAsync(Deno.readDir(home))).map((e) => e.name)
        : [];
      assert.deepEqual(left.filter((n) => n.endsWith(".tmp")), [], `home ${i}: ${left}`);
    }
  }));
