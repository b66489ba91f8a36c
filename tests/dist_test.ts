/**
 * Distribution: `deno task build` (the stamped bundle; the one clear message when the compile
 * runtime cannot be downloaded) and `install.sh` end to end — from a local dist/, and through
 * `curl | sh` from a release server — with a tampered archive refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand, withSandbox } from "./helpers.ts";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BUILD = join(ROOT, "scripts/build.ts");
const INSTALL = join(ROOT, "install.sh");
const VERSION = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).version;
const TARGET = Deno.build.target;

async function head(): Promise<string> {
  const { stdout } = await runCommand("git", ["-C", ROOT, "rev-parse", "--short=12", "HEAD"]);
  return stdout.trim();
}

Deno.test("deno task build: offline, one clear message and nothing in dist/; Windows refused", () =>
  withSandbox(async (sb) => {
    // Offline for certain: no cached runtime (a DENO_DIR with only the npm cache), no reachable proxy.
    const { stdout } = await runCommand(Deno.execPath(), ["info", "--json"]);
    const denoDir = join(sb.dir, "deno-dir");
    await Deno.mkdir(denoDir);
    await Deno.symlink(join(JSON.parse(stdout).denoDir, "npm"), join(denoDir, "npm"));
    const out = join(sb.dir, "dist");
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, "SHA256SUMS"), "the previous build's\n");
    const env = { DENO_DIR: denoDir, HTTPS_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9" };
    const build = await runCommand(Deno.execPath(), ["run", "-A", BUILD, "--target", TARGET, "--out", out], {
      env,
    });
    assert.equal(build.code, 1, build.stderr);
    assert.match(
      build.stderr,
      /error: deno compile needs the denort runtime for .*cannot be downloaded from here/,
    );
    assert.match(build.stderr, /set DENORT_BIN to a denort/);
    assert.doesNotMatch(build.stderr, /Stack backtrace|Caused by|Uncaught/);
    assert.equal(build.stderr.match(/error:/g)?.length, 1, build.stderr);
    assert.deepEqual(
      Array.from(Deno.readDirSync(out), (e) => e.name),
      ["SHA256SUMS"],
      "nothing new in dist/, nothing staged left",
    );
    assert.equal(await Deno.readTextFile(join(out, "SHA256SUMS")), "the previous build's\n");

    const windows = await runCommand(Deno.execPath(), [
      "run",
      "-A",
      BUILD,
      "--target",
      "x86_64-pc-windows-msvc",
    ]);
    assert.equal(windows.code, 1);
    assert.match(windows.stderr, /Windows is not supported .*use WSL/);
  }));

Deno.test("deno task build --bundle: one executable file that says its version, commit and target", () =>
  withSandbox(async (sb) => {
    const build = await runCommand(Deno.execPath(), ["run", "-A", BUILD, "--bundle", "--out", sb.dir]);
    assert.equal(build.code, 0, build.stderr);
    const bundle = join(sb.dir, "kinfra.js");
    assert.equal(build.stdout.trim(), bundle);
    // Its `#!` line carries kinfra's V8 flags, as the compiled binaries do.
    const first = (await Deno.readTextFile(bundle)).split("\n", 1)[0];
    assert.equal(first, `#!/usr/bin/env -S deno run -A --quiet ${V8_FLAGS_ARG}`);
    // Run as a program (its shebang), from a directory that has nothing of the source tree.
    const run = await runCommand(bundle, ["version", "--json"], { cwd: sb.dir });
    assert.equal(run.code, 0, run.stderr);
    const info = JSON.parse(run.stdout);
    assert.equal(info.version, VERSION);
    assert.equal(info.commit.replace(/-dirty$/, ""), await head());
    assert.equal(info.target, "bundle");
  }));

Deno.test("deno task build --bundle --split: an entry and its parts, none of which boots Node at start", () =>
  withSandbox(async (sb) => {
    const build = await runCommand(Deno.execPath(), [
      ...["run", "-A", BUILD, "--bundle", "--split", "--out", sb.dir],
    ]);
    assert.equal(build.code, 0, build.stderr);
    const entry = join(sb.dir, "kinfra", "kinfra.js");
    assert.equal(build.stdout.trim(), entry);
    const run = await runCommand(entry, ["version", "--json"], { cwd: sb.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).target, "bundle");
    // Deno reads this beside the entry: each part loads when its import runs.
    const config = JSON.parse(await Deno.readTextFile(join(sb.dir, "kinfra", "deno.json")));
    assert.deepEqual(config.unstable, ["lazy-dynamic-imports"]);
    // esbuild's `require` for the CommonJS packages is made on first call, not by importing
    // node:module up front (which would load Node compatibility in every command).
    const parts = await Array.fromAsync(Deno.readDir(join(sb.dir, "kinfra")));
    const js = parts.filter((p) => p.name.endsWith(".js"));
    assert.ok(js.length > 20, "split at the dynamic imports");
    // The small parts are merged into those loaded with them (deno bundle alone leaves ~60 under 1.5 KB).
    const small = [];
    for (const part of js) {
      const text = await Deno.readTextFile(join(sb.dir, "kinfra", part.name));
      assert.doesNotMatch(text, /from "node:module"/, part.name);
      if (new TextEncoder().encode(text).length < 1500) small.push(part.name);
    }
    assert.ok(small.length <= 5, `parts under 1.5 KB: ${small.join(", ")}`);
  }));

/** A dist/ as a release has it, for this machine: the bundle packed as kinfra-<target>.tar.gz. */
async function makeDist(dir: string): Promise<string> {
  const dist = join(dir, "dist");
  const stage = join(dir, "stage");
  await Deno.mkdir(dist, { recursive: true });
  const build = await runCommand(Deno.execPath(), ["run", "-A", BUILD, "--bundle", "--out", stage]);
  assert.equal(build.code, 0, build.stderr);
  await Deno.rename(join(stage, "kinfra.js"), join(stage, "kinfra"));
  const archive = `kinfra-${TARGET}.tar.gz`;
  assert.equal((await runCommand("tar", ["-czf", join(dist, archive), "-C", stage, "kinfra"])).code, 0);
  const sums = await runCommand("sha256sum", [archive], { cwd: dist });
  await Deno.writeTextFile(join(dist, "SHA256SUMS"), sums.stdout);
  await Deno.copyFile(INSTALL, join(dist, "install.sh"));
  return dist;
}

const sh = (script: string, args: string[], env: Record<string, string>, cwd?: string) =>
  runCommand("sh", ["-c", script, "sh", ...args], { env, cwd });

Deno.test("install.sh --from dist/: verified, installed, idempotent; a tampered archive is refused", () =>
  withSandbox(async (sb) => {
    const dist = await makeDist(sb.dir);
    const prefix = join(sb.dir, "prefix");
    const env = { HOME: sb.dir };
    const first = await runCommand("sh", [INSTALL, "--from", dist, "--prefix", prefix], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Checksum OK: kinfra-.*\.tar\.gz sha256 [0-9a-f]{64}/);
    assert.match(
      first.stdout,
      new RegExp(`Installed kinfra ${VERSION.replaceAll(".", "\\.")} \\(${TARGET}\\)`),
    );
    assert.match(first.stdout, /is not on your PATH; add it: +export PATH=/);
    assert.match(first.stdout, /Next:\n {2}kinfra doctor .*\n {2}cd your-project && kinfra init/);
    const installed = join(prefix, "bin/kinfra");
    const version = await runCommand(installed, ["version", "--json"], { cwd: sb.dir });
    assert.equal(JSON.parse(version.stdout).version, VERSION);

    const again = await runCommand("sh", [INSTALL, "--from", dist, "--prefix", prefix], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already this build; nothing to do/);

    // One byte changed in the archive: refused, and the installed kinfra is left as it was.
    const before = await Deno.readFile(installed);
    const archive = join(dist, `kinfra-${TARGET}.tar.gz`);
    const bytes = await Deno.readFile(archive);
    bytes[bytes.length - 20] ^= 0xff;
    await Deno.writeFile(archive, bytes);
    for (const target of [prefix, join(sb.dir, "fresh")]) {
      const bad = await runCommand("sh", [INSTALL, "--from", dist, "--prefix", target], { env });
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /checksum mismatch for kinfra-.*\(expected [0-9a-f]{64}, got [0-9a-f]{64}\); nothing was installed/,
      );
    }
    assert.deepEqual(await Deno.readFile(installed), before);
    assert.equal(await Deno.stat(join(sb.dir, "fresh/bin/kinfra")).catch(() => null), null);

    const wrong = await runCommand("sh", [INSTALL, "--prefx", prefix], { env });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unknown argument: --prefx\nhint: sh install.sh --help/);
  }));

Deno.test("curl … | sh from a release server: latest, a named version, and one that does not exist", () =>
  withSandbox(async (sb) => {
    const dist = await makeDist(sb.dir);
    // GitHub's release URLs: /latest/download/<asset> and /download/v<version>/<asset>.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
      const path = new URL(request.url).pathname;
      const asset = path.match(new RegExp(`^/(?:latest/download|download/v${VERSION})/([^/]+)$`))?.[1];
      const file = asset && await Deno.readFile(join(dist, asset)).catch(() => undefined);
      return file ? new Response(file) : new Response("Not Found", { status: 404 });
    });
    try {
      const url = `http://127.0.0.1:${server.addr.port}`;
      const env = {
        HOME: sb.dir,
        KINFRA_DOWNLOAD_URL: url,
        PATH: `${join(sb.dir, ".local/bin")}:${Deno.env.get("PATH")}`,
      };
      const latest = await sh(`curl -fsSL ${url}/latest/download/install.sh | sh`, [], env, sb.dir);
      assert.equal(latest.code, 0, latest.stderr);
      assert.match(latest.stderr, new RegExp(`Downloading ${url}/latest/download/kinfra-${TARGET}.tar.gz`));
      assert.doesNotMatch(latest.stdout, /not on your PATH/);
      const onPath = await sh("kinfra --version", [], env, sb.dir);
      assert.equal(onPath.stdout.trim(), VERSION);

      const named = await sh(
        `curl -fsSL ${url}/latest/download/install.sh | sh -s -- --version "$1" --prefix "$2"`,
        [
          `v${VERSION}`,
          join(sb.dir, "named"),
        ],
        env,
      );
      assert.equal(named.code, 0, named.stderr);
      assert.match(named.stderr, new RegExp(`/download/v${VERSION}/`));
      assert.ok((await Deno.stat(join(sb.dir, "named/bin/kinfra"))).isFile);

      const missing = await sh(
        `curl -fsSL ${url}/latest/download/install.sh | sh -s -- --version 9.9.9`,
        [],
        env,
      );
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /could not download .*\/download\/v9\.9\.9\/kinfra-.*\nhint: is 9\.9\.9 a release\?/,
      );
    } finally {
      await server.shutdown();
    }
  }));

Deno.test("the release workflow passes actionlint, which does find a broken one", async () => {
  const { lintWorkflows } = await import("../scripts/lint_workflows.ts");
  assert.deepEqual(await lintWorkflows([join(ROOT, ".github/workflows/release.yml")]), []);
  const broken = await Deno.makeTempFile({ suffix: ".yml" });
  try {
    const text = await Deno.readTextFile(join(ROOT, ".github/workflows/release.yml"));
    await Deno.writeTextFile(
      broken,
      text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latst").replace(
        "github.ref_name",
        "github.ref_nam",
      ),
    );
    const findings = (await lintWorkflows([broken])).join("\n");
    assert.match(findings, /label "ubuntu-latst" is unknown/);
    assert.match(findings, /property "ref_nam" is not defined/);
  } finally {
    await Deno.remove(broken);
  }
});
