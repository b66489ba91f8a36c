/** The first hour, through the real CLI: what a new user trips over should not trip them. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { KINFRA, pathExists, runCommand, withSandbox, writeFiles } from "./helpers.ts";
import { dockerTest, IMAGE, makeProject, randomBase } from "./sandbox_helpers.ts";

dockerTest(
  "status in the main checkout lists the project's sandboxes; env of a stopped one is blocked (3)",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const empty = await sb.kinfra(["status"], { cwd: repo });
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /has no kinfra worktrees\. Start one with `kinfra impl/);

    const impl = await sb.kinfra(["impl", "shop/M1"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    assert.match(
      impl.stdout,
      /\n {2}next: cd ".*-impl-shop-M1" · kinfra status shop-M1 · kinfra done shop-M1\n?$/,
    );
    assert.equal((await sb.kinfra(["spec", "ideas"], { cwd: repo })).code, 0);

    const listed = await sb.kinfra(["--json", "status"], { cwd: repo });
    assert.equal(listed.code, 0, listed.stderr);
    const data = listed.json<
      { project: string; worktrees: { name: string; slot: number | null; status: string }[] }
    >();
    assert.equal(data.project, stem);
    assert.deepEqual(data.worktrees.map((w) => [w.name, w.slot, w.status]), [
      [`${stem}-impl-shop-M1`, 1, "running"],
      [`${stem}-spec-ideas`, null, "no sandbox"],
    ]);
    assert.match(
      (await sb.kinfra(["status"], { cwd: repo })).stdout,
      /-impl-shop-M1 +impl +slot 1 · running/,
    );

    assert.equal((await sb.kinfra(["down", "shop-M1"], { cwd: repo })).code, 0);
    const env = await sb.kinfra(["env", "shop-M1"], { cwd: repo });
    assert.equal(env.code, 3, env.stderr);
    assert.match(env.stderr, /is stopped: it has no slot.*\nhint: Start it with `kinfra up .*-impl-shop-M1`/);
  },
);

Deno.test("completions offer worktree names (bash, fish); fish's `observability up` is not the top-level `up`", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    for (const feature of ["alpha", "beta"]) {
      assert.equal((await sb.kinfra(["spec", feature], { cwd: repo })).code, 0);
    }
    // `kinfra` on PATH is this kinfra (the completion scripts call `kinfra worktrees --names`).
    const bin = join(sb.dir, "bin");
    await writeFiles(bin, { kinfra: `#!/bin/sh\nexec ${KINFRA.map((a) => `'${a}'`).join(" ")} "$@"\n` });
    await Deno.chmod(join(bin, "kinfra"), 0o755);
    const env = { PATH: `${bin}:${Deno.env.get("PATH")}`, KINFRA_HOME: sb.home };
    const names = await sb.kinfra(["worktrees", "--names"], { cwd: repo });
    assert.equal(names.stdout, "alpha\nbeta\n");

    const bash = (await sb.kinfra(["completions", "bash"])).stdout;
    const complete = async (line: string) =>
      (await runCommand("bash", [
        "-c",
        `${bash}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _kinfra; echo "\${COMPREPLY[*]}"`,
      ], { env }))
        .stdout.trim();
    assert.equal(
      await complete(`kinfra done ''`).then((s) => s.split(" ").filter((w) => !w.startsWith("-")).join(" ")),
      "alpha beta",
    );
    assert.equal(await complete("kinfra status b"), "beta");

    const script = join(sb.dir, "kinfra.fish");
    await Deno.writeTextFile(script, (await sb.kinfra(["completions", "fish"])).stdout);
    const fish = async (line: string) =>
      (await runCommand("fish", ["-c", `source ${script}; complete -C "${line}"`], { env })).stdout.split(
        "\n",
      )
        .map((l) => l.split("\t")[0]).filter(Boolean);
    assert.deepEqual(await fish("kinfra env "), ["alpha", "beta"]);
    assert.deepEqual(await fish("kinfra observability "), ["down", "status", "up"]);
    const afterUp = await fish("kinfra observability up ");
    assert.ok(!afterUp.includes("alpha") && !afterUp.includes("beta"), `not kinfra up's names: ${afterUp}`);
  }));

Deno.test(".worktreeinclude: ignored files it matches are copied into new worktrees, beside [worktree] copy", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".gitignore": ".env\n.env.*\nsecrets/\nbuild/\n",
      ".worktreeinclude": "# like .gitignore\n.env\n.env.local\nsecrets/\n",
    });
    await writeFiles(repo, {
      ".env": "A=1\n",
      ".env.local": "B=2\n",
      ".env.prod": "not listed\n",
      "secrets/key.pem": "k\n",
      "build/out.js": "ignored, not listed\n",
      "notes.txt": "untracked but not ignored\n",
    });
    const spec = await sb.kinfra(["spec", "inc"], { cwd: repo });
    assert.equal(spec.code, 0, spec.stderr);
    const path = join(sb.dir, "shop-spec-inc");
    const has = (f: string) => pathExists(join(path, f));
    assert.deepEqual(
      await Promise.all(
        [".env", ".env.local", "secrets/key.pem", ".env.prod", "build/out.js", "notes.txt"].map(has),
      ),
      [true, true, true, false, false, false],
    );
    assert.equal(await Deno.readTextFile(join(path, "secrets/key.pem")), "k\n");
    // Copies are kinfra's (done does not count them as work) until edited.
    assert.equal((await sb.kinfra(["done", "inc"], { cwd: repo })).code, 0);
  }));

dockerTest(
  "init --port VAR=BASE sets a base; an unknown VAR or bad value is refused; a mount with no target warns",
  async (sb) => {
    const compose =
      `services:\n  web:\n    build: .\n    image: x\n    ports:\n      - "8080:8080"\n  db:\n    image: y\n`;
    const fresh = async (name: string) => await sb.repo(name, { "docker-compose.yml": compose });
    const repo = await fresh("shop");
    const run = await sb.kinfra(
      ["init", "--yes", "--port", "SHOP_WEB_PORT=9100", "--mount", "src/:/app/src"],
      {
        cwd: repo,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const toml = await Deno.readTextFile(join(repo, ".devops-ai/infra.toml"));
    assert.match(toml, /^SHOP_WEB_PORT = 9100$/m);
    assert.match(
      await Deno.readTextFile(join(repo, "docker-compose.yml")),
      /"\$\{SHOP_WEB_PORT:-8080\}:8080"/,
    );
    assert.match(
      run.stderr,
      /No service receives the code mount \(src\/:\/app\/src\): add --code-target <service> \(built here: web\)/,
    );

    const other = await fresh("other");
    const unknown = await sb.kinfra(["init", "--yes", "--port", "NOPE=9000"], { cwd: other });
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /--port NOPE: init makes no such port variable\.\nhint: Its variables: OTHER_WEB_PORT/,
    );
    const bad = await sb.kinfra(["init", "--yes", "--port", "OTHER_WEB_PORT=99999"], { cwd: other });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port "OTHER_WEB_PORT=99999" is not VAR=BASE/);
    assert.equal(await pathExists(join(other, ".devops-ai")), false, "nothing written");
  },
);

dockerTest("status shows an http:// link only for ports that serve HTTP", async (sb, stem) => {
  const base = randomBase();
  const up = stem.toUpperCase();
  const repo = await sb.repo(stem, {
    "docker-compose.yml": `services:\n  web:\n    image: ${IMAGE}\n    init: true\n` +
      `    command: ["httpd", "-f", "-p", "8080", "-h", "/"]\n    ports:\n` +
      `      - "\${${up}_WEB_PORT:-${base}}:8080"\n      - "\${${up}_DB_PORT:-${base + 50}}:5432"\n`,
    ".devops-ai/infra.toml": `[project]\nname = "${stem}"\n[sandbox.ports]\n${up}_WEB_PORT = ${base}\n` +
      `${up}_DB_PORT = ${base + 50}\n[sandbox.otel]\nenabled = false\n` +
      `[sandbox.health]\nendpoint = "/etc/passwd"\nport_var = "${up}_WEB_PORT"\ntimeout = 20\n`,
  });
  const impl = await sb.kinfra(["--json", "impl", "links/M1"], { cwd: repo });
  assert.equal(impl.code, 0, impl.stderr);
  // Every plugin line in one style: `<plugin>: <message>`.
  const messages = impl.json<{ messages: string[] }>().messages;
  assert.ok(
    messages.length > 0 && messages.every((m) => /^(docker|networks|data|otel|agent-deck): /.test(m)),
    messages.join("\n"),
  );
  const status = (await sb.kinfra(["status", "links-M1"], { cwd: repo })).stdout;
  assert.match(status, new RegExp(`${up}_WEB_PORT=${base + 1}  http://127\\.0\\.0\\.1:${base + 1}/`));
  assert.match(status, new RegExp(`${up}_DB_PORT=${base + 51}\\n`), "a database port is no link");
});

Deno.test("a reader that stops early (`| head`) ends kinfra quietly with SIGPIPE's 141, not an internal error", async () => {
  // stdout's reading end is closed before kinfra writes a byte: its first write finds the pipe broken.
  const child = new Deno.Command(KINFRA[0], {
    args: [...KINFRA.slice(1), "--help"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await child.stdout.cancel();
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  assert.equal(status.code, 141, stderr);
  assert.equal(stderr, "");
});

Deno.test("-q drops the progress lines, never the result; -V after a command prints the version and runs nothing", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("quiet");
    const loud = await sb.kinfra(["spec", "loud"], { cwd: repo });
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /› /, "progress, without -q");
    const quiet = await sb.kinfra(["-q", "spec", "hush"], { cwd: repo });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    assert.match(quiet.stdout, /✓ Spec worktree ready: .*-spec-hush/);
    const listed = await sb.kinfra(["-q", "worktrees"], { cwd: repo });
    assert.match(listed.stdout, /-spec-hush/);

    const version = (await sb.kinfra(["-V"])).stdout;
    assert.match(version, /^\d+\.\d+\.\d+/);
    const late = await sb.kinfra(["done", "loud", "--version"], { cwd: repo });
    assert.equal(late.code, 0, late.stderr);
    assert.equal(late.stdout, version);
    assert.ok(await pathExists(join(sb.dir, "quiet-spec-loud")), "done did not run");
  }));
