/**
 * `deno task build`: kinfra as one `deno compile`d binary per target, packed as
 * `dist/kinfra-<target>.tar.gz` with `dist/SHA256SUMS`; each binary knows its version, commit and
 * target (`kinfra version --json`). `--bundle` writes `dist/kinfra.js` instead: one JavaScript file
 * run by `deno run -A` (offline, no runtime download). `--bundle --split` writes `dist/kinfra/`: the
 * same code split at its dynamic imports, each part loaded when it runs — what the test suite and
 * the bench run, since one 1.9 MB file costs every command ~40 ms of parsing before it starts.
 *
 *   deno task build                       every target (needs https://dl.deno.land, or a cached runtime)
 *   deno task build --target <t>          one target (repeatable)
 *   DENORT_BIN=<denort> deno task build   this machine's target, from that runtime
 *   deno task build --bundle              dist/kinfra.js
 *   deno task build --bundle --split      dist/kinfra/kinfra.js and its parts
 *   --out <dir>                           instead of dist/
 *
 * Nothing in `--out` is replaced until every target built: a failed build leaves it as it was.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));

class BuildError extends Error {}

function parse(args: string[]) {
  const options = { targets: [] as string[], bundle: false, split: false, out: join(ROOT, "dist") };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--bundle") options.bundle = true;
    else if (arg === "--split") options.split = true;
    else if (arg === "--target" && args[i + 1]) options.targets.push(args[++i]);
    else if (arg === "--out" && args[i + 1]) options.out = resolve(args[++i]);
    else if (arg === "--help" || arg === "-h") {
      console.log("usage: deno task build [--target <target>]… [--bundle [--split]] [--out <dir>]");
      console.log(`targets: ${TARGETS.join(", ")}`);
      Deno.exit(0);
    } else throw new BuildError(`unknown argument "${arg}" (see --help)`);
  }
  if (options.split && !options.bundle) throw new BuildError("--split goes with --bundle");
  for (const target of options.targets) {
    if (/windows/.test(target)) {
      throw new BuildError(
        `${target}: Windows is not supported (kinfra relies on POSIX processes, signals and flock); use WSL.`,
      );
    }
    if (!TARGETS.includes(target)) {
      throw new BuildError(`unknown target "${target}"; one of ${TARGETS.join(", ")}`);
    }
  }
  return options;
}

async function run(cmd: string, args: string[]) {
  const env = { NO_COLOR: "1" };
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { ok: out.success, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function commit(): Promise<string> {
  const head = await run("git", ["rev-parse", "--short=12", "HEAD"]);
  if (!head.ok) return "unknown";
  const dirty = await run("git", ["status", "--porcelain", "--untracked-files=no"]);
  return dirty.stdout ? `${head.stdout}-dirty` : head.stdout;
}

/** An import map like deno.json's, with `#build` pointing at a stamped copy of build_info.ts. */
async function stamp(stage: string, target: string, hash: string): Promise<string> {
  const info = join(stage, `build_info.${target}.ts`);
  const build = { version: config.version, commit: hash, target };
  await Deno.writeTextFile(info, `export const BUILD = ${JSON.stringify(build)};\n`);
  const imports: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.imports as Record<string, string>)) {
    imports[key] = value.startsWith("./") ? pathToFileURL(join(ROOT, value)).href : value;
  }
  imports["#build"] = pathToFileURL(info).href;
  const map = join(stage, `import_map.${target}.json`);
  await Deno.writeTextFile(map, JSON.stringify({ imports }, null, 2));
  return map;
}

/** Deno's own error, without the backtrace; a runtime download that failed gets one clear message. */
function compileError(target: string, stderr: string): BuildError {
  const download = stderr.match(/error sending request for url \((https:\/\/dl\.deno\.land[^)]*)\)[^\n]*/);
  if (download) {
    const cause = stderr.match(/\d+: ([^\n]+)\n\s*\nStack backtrace/)?.[1] ?? download[0];
    return new BuildError(
      `deno compile needs the denort runtime for ${target}, and ${download[1]} cannot be downloaded ` +
        `from here (${cause.trim()}).\n` +
        `Build where dl.deno.land is reachable, or set DENORT_BIN to a denort ${Deno.version.deno} ` +
        `for this machine (${Deno.build.target}) to build that target only.`,
    );
  }
  return new BuildError(
    `deno compile for ${target} failed:\n${stderr.replace(/\n*Stack backtrace:[^]*$/, "")}`,
  );
}

async function compile(stage: string, target: string, hash: string): Promise<string> {
  const map = await stamp(stage, target, hash);
  const dir = join(stage, `kinfra-${target}`);
  await Deno.mkdir(dir, { recursive: true });
  console.error(`› compiling ${target}`);
  const compiled = await run(Deno.execPath(), [
    ...["compile", "-A", "--no-check", "--quiet", V8_FLAGS_ARG, "--import-map", map],
    ...["--target", target, "--output", join(dir, "kinfra"), join(ROOT, "main.ts")],
  ]);
  if (!compiled.ok) throw compileError(target, compiled.stderr);
  const archive = `kinfra-${target}.tar.gz`;
  const packed = await run("tar", ["-czf", join(stage, archive), "-C", dir, "kinfra"]);
  if (!packed.ok) throw new BuildError(`tar failed: ${packed.stderr}`);
  return archive;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * esbuild's runtime makes a `require` for the npm packages' CommonJS at the top of the bundle, and
 * importing `node:module` for it boots Node compatibility in every command (~15 ms). Only the YAML
 * library calls it (for `node:process` and `node:buffer`), so it is made when first called.
 */
const EAGER_REQUIRE =
  /^import \{ createRequire as __deno_internal_createRequire \} from "node:module";\nvar __require = __deno_internal_createRequire\(import\.meta\.url\);$/m;
const LAZY_REQUIRE = "var __require = (id) => process.getBuiltinModule(id);";

/** `deno bundle` into `dir`: one file (`kinfra.js`), or split at the dynamic imports (`split`). */
async function bundleInto(dir: string, map: string, split: boolean): Promise<void> {
  // `deno bundle` reads the npm packages from Deno's cache and fetches none: on a fresh machine it
  // fails with ERR_MODULE_NOT_FOUND unless they were installed first (as the lockfile pins them).
  const installed = await run(Deno.execPath(), ["install", "--quiet", "--entrypoint", join(ROOT, "main.ts")]);
  if (!installed.ok) {
    throw new BuildError(`deno install (the npm packages the bundle needs) failed:\n${installed.stderr}`);
  }
  const raw = split ? `${dir}.parts` : dir;
  const output = split ? ["--code-splitting", "--outdir", raw] : ["--output", join(dir, "kinfra.js")];
  const bundled = await run(Deno.execPath(), [
    ...["bundle", "--quiet", "--platform", "deno", "--import-map", map, ...output, join(ROOT, "main.ts")],
  ]);
  if (!bundled.ok) throw new BuildError(`deno bundle failed:\n${bundled.stderr}`);
  let replaced = 0;
  for await (const entry of Deno.readDir(raw)) {
    const file = join(raw, entry.name);
    const text = await Deno.readTextFile(file);
    if (!EAGER_REQUIRE.test(text)) continue;
    await Deno.writeTextFile(file, text.replace(EAGER_REQUIRE, LAZY_REQUIRE));
    replaced++;
  }
  // A bundler that writes its runtime differently would bring the cost back unseen: say so instead.
  if (replaced !== 1) {
    throw new BuildError(`expected esbuild's require shim in one file, found it in ${replaced}`);
  }
  if (split) {
    await fewerParts(raw, dir);
    await Deno.remove(raw, { recursive: true });
  }
}

/**
 * esbuild splits at every set of dynamic imports that share code: ~160 parts, 63 of them under
 * 1.5 KB, and `status` loads 60 (each one a file read, a parse and a link). Rollup merges the small
 * ones into parts loaded with them anyway, never changing what code runs when: 93 parts, and
 * `status` loads 33 of them for 6% more bytes (scripts/bench.ts measures it).
 */
const MIN_PART_BYTES = 1500;
async function fewerParts(from: string, to: string): Promise<void> {
  const { rollup } = await import("rollup");
  const build = await rollup({
    input: join(from, "main.js"),
    external: (id: string) => id.startsWith("node:"),
    treeshake: false, // esbuild has shaken it already
    logLevel: "warn", // not its report of the merged parts
    onwarn: (warning: { message: string }) => {
      throw new BuildError(`rollup: ${warning.message}`);
    },
  });
  await build.write({
    dir: to,
    format: "es",
    experimentalMinChunkSize: MIN_PART_BYTES,
    entryFileNames: "kinfra.js", // its parts import some of its code by that name
    chunkFileNames: "[name]-[hash].js",
  });
  await build.close();
}

async function bundle(stage: string, out: string, hash: string, split: boolean): Promise<void> {
  const map = await stamp(stage, "bundle", hash);
  const dir = join(stage, "kinfra");
  await Deno.mkdir(dir);
  await bundleInto(dir, map, split);
  const entry = join(dir, "kinfra.js");
  const text = await Deno.readTextFile(entry);
  await Deno.writeTextFile(
    entry,
    `#!/usr/bin/env -S deno run -A --quiet ${V8_FLAGS_ARG}\n${text.replace(/^#!.*\n/, "")}`,
  );
  await Deno.chmod(entry, 0o755);
  await Deno.mkdir(out, { recursive: true });
  if (!split) {
    await Deno.rename(entry, join(out, "kinfra.js"));
    return console.log(join(out, "kinfra.js"));
  }
  // Deno reads the config beside the entry: load each part when its import runs, not all at start.
  await Deno.writeTextFile(join(dir, "deno.json"), `{ "unstable": ["lazy-dynamic-imports"] }\n`);
  // The previous build's parts go with it (renamed into the stage, which is removed below).
  await Deno.rename(join(out, "kinfra"), join(stage, "previous")).catch(() => {});
  await Deno.rename(dir, join(out, "kinfra"));
  console.log(join(out, "kinfra", "kinfra.js"));
}

async function main() {
  const options = parse(Deno.args);
  const denort = Deno.env.get("DENORT_BIN");
  let targets = options.targets.length ? options.targets : TARGETS;
  if (denort && !options.bundle) {
    // One runtime is one target: compiling another target from it would make a binary that cannot run.
    const others = targets.filter((t) => t !== Deno.build.target);
    if (options.targets.length && others.length) {
      throw new BuildError(
        `DENORT_BIN is a runtime for one target; it cannot build ${others.join(", ")}. ` +
          `Drop DENORT_BIN, or build ${Deno.build.target} only.`,
      );
    }
    console.error(`› DENORT_BIN=${denort}: building ${Deno.build.target} only`);
    targets = [Deno.build.target];
  }
  const hash = await commit();
  await Deno.mkdir(options.out, { recursive: true });
  const stage = await Deno.makeTempDir({ dir: options.out, prefix: ".stage-" });
  try {
    if (options.bundle) return await bundle(stage, options.out, hash, options.split);
    const archives: string[] = [];
    for (const target of targets) archives.push(await compile(stage, target, hash));
    const sums = await Promise.all(archives.map(async (a) => `${await sha256(join(stage, a))}  ${a}\n`));
    // The previous build's archives go: SHA256SUMS must list exactly what dist/ holds.
    for await (const old of Deno.readDir(options.out)) {
      if (/^kinfra-.*\.tar\.gz$/.test(old.name)) await Deno.remove(join(options.out, old.name));
    }
    for (const archive of archives) await Deno.rename(join(stage, archive), join(options.out, archive));
    await Deno.writeTextFile(join(options.out, "SHA256SUMS"), sums.join(""));
    for (const archive of archives) console.log(join(options.out, archive));
    console.log(join(options.out, "SHA256SUMS"));
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    // An out dir this run created and left empty goes too.
    await Deno.remove(options.out).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
}
