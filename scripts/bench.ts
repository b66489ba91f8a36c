/**
 * Benchmarks kinfra against the raw commands it wraps, measured in the same run on the same files:
 *   1. `impl` vs `git worktree add` + `compose up -d`; `done` vs `compose down` + `git worktree remove`
 *      (no health check configured, so no health wait is included);
 *   2. start-up: `--version`, `worktrees --json`, `status --json` vs a bare `deno` hello-world;
 *   3. 8 concurrent `impl`s: distinct slots, and batch wall time vs one `impl` alone.
 * Usage: deno run -A scripts/bench.ts [--rounds 5]   (needs a Docker engine and the test image)
 */
import { join } from "node:path";

const ROUNDS = Number(Deno.args[Deno.args.indexOf("--rounds") + 1]) || 5;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "kinfra-bench-" }));
const home = join(work, "home");
const repo = join(work, "bench");
const env = {
  KINFRA_HOME: home,
  NO_COLOR: "1",
  GIT_AUTHOR_NAME: "b",
  GIT_AUTHOR_EMAIL: "b@x",
  GIT_COMMITTER_NAME: "b",
  GIT_COMMITTER_EMAIL: "b@x",
};
const BASE = 31000;

async function run(
  cmd: string,
  args: string[],
  cwd = repo,
  extraEnv: Record<string, string> = {},
): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...env, ...extraEnv },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}
const kinfra = (...args: string[]) => run(Deno.execPath(), ["run", "-A", "--quiet", MAIN, ...args]);
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

// The compose command kinfra would pick, so both sides call the same program.
const v2 = await new Deno.Command("docker", { args: ["compose", "version"], stdout: "null", stderr: "null" })
  .output();
const compose = v2.success ? ["docker", "compose"] : ["docker-compose"];

await Deno.mkdir(join(repo, "src"), { recursive: true });
await Deno.writeTextFile(
  join(repo, "docker-compose.yml"),
  `services:
  web:
    image: kinfra-test/busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]
    ports:
      - "\${BENCH_WEB_PORT:-${BASE}}:8080"
`,
);
await Deno.mkdir(join(repo, ".devops-ai"));
await Deno.writeTextFile(
  join(repo, ".devops-ai/infra.toml"),
  `[project]
name = "bench"
[sandbox.ports]
BENCH_WEB_PORT = ${BASE}
[sandbox.mounts]
code = ["src/:/app/src"]
code_targets = ["web"]
[sandbox.otel]
enabled = false
`,
);
await Deno.writeTextFile(join(repo, "src/health"), "ok\n");
await run("git", ["init", "-q", "-b", "main"]);
await run("git", ["add", "-A"]);
await run("git", ["commit", "-qm", "bench"]);

const rows: [string, string, string, string][] = [];
try {
  // 1. impl/done vs raw.
  const t = { impl: [] as number[], rawUp: [] as number[], done: [] as number[], rawDown: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    t.impl.push(await kinfra("impl", `f${i}/M1`));
    t.done.push(await kinfra("done", `f${i}-M1`));
    const path = join(work, `raw-${i}`);
    // The same stack kinfra runs: the worktree's compose file plus the code mount, by hand.
    const override = join(work, `raw-${i}.override.yml`);
    await Deno.writeTextFile(override, `services:\n  web:\n    volumes:\n      - ${path}/src:/app/src\n`);
    const files = ["-f", join(path, "docker-compose.yml"), "-f", override, "-p", `benchraw-slot-${i}`];
    const port = { BENCH_WEB_PORT: String(BASE + 1) };
    t.rawUp.push(
      await run("git", ["worktree", "add", "-q", "-b", `raw/${i}`, path, "main"]) +
        await run(compose[0], [...compose.slice(1), ...files, "up", "-d"], path, port),
    );
    t.rawDown.push(
      await run(compose[0], [...compose.slice(1), ...files, "down"], path, port) +
        await run("git", ["worktree", "remove", path]),
    );
  }
  rows.push([
    "impl vs git worktree add + compose up -d",
    fmt(median(t.impl)),
    fmt(median(t.rawUp)),
    (median(t.impl) / median(t.rawUp)).toFixed(2) + "×",
  ]);
  rows.push([
    "done vs compose down + git worktree remove",
    fmt(median(t.done)),
    fmt(median(t.rawDown)),
    (median(t.done) / median(t.rawDown)).toFixed(2) + "×",
  ]);

  // 2. Start-up against a bare deno hello-world.
  const hello = join(work, "hello.ts");
  await Deno.writeTextFile(hello, 'console.log("hello");\n');
  await kinfra("impl", "probe/M1");
  const times = async (fn: () => Promise<number>) => {
    const xs = [];
    for (let i = 0; i < 20; i++) xs.push(await fn());
    return median(xs.slice(3));
  };
  const base = await times(() => run(Deno.execPath(), ["run", "--quiet", hello]));
  for (const args of [["--version"], ["--json", "worktrees"], ["--json", "status", "probe-M1"]]) {
    const ms = await times(() => kinfra(...args));
    rows.push([
      `kinfra ${args.join(" ")} vs deno hello-world`,
      fmt(ms),
      fmt(base),
      (ms / base).toFixed(2) + "×",
    ]);
  }
  await kinfra("done", "probe-M1");

  // 3. Eight concurrent impls.
  const solo = median(t.impl);
  const start = performance.now();
  const each = await Promise.all(Array.from({ length: 8 }, (_, i) => kinfra("impl", `c${i}/M1`)));
  const wall = performance.now() - start;
  const registry = JSON.parse(await Deno.readTextFile(join(home, "registry.json")));
  const slots = Object.keys(registry.slots).map(Number).sort((a, b) => a - b);
  const ports = new Set(
    Object.values(registry.slots).map((s) => JSON.stringify((s as { ports: unknown }).ports)),
  );
  rows.push([
    "8 concurrent impls: batch wall vs one impl alone",
    fmt(wall),
    fmt(solo),
    (wall / solo).toFixed(2) + "×",
  ]);
  rows.push([
    "8 concurrent impls: batch wall vs slowest of the batch",
    fmt(wall),
    fmt(Math.max(...each)),
    (wall / Math.max(...each)).toFixed(2) + "×",
  ]);
  console.log(
    `8 concurrent impls got slots ${slots.join(",")} (${
      new Set(slots).size
    } distinct, ${ports.size} distinct port sets)`,
  );
  await Promise.all(Array.from({ length: 8 }, (_, i) => kinfra("done", `c${i}-M1`)));

  // The same 8-way concurrency with the raw commands, on the same cores.
  const rawEnv = (i: number) => ({ BENCH_WEB_PORT: String(BASE + 60 + i) });
  const rawFiles = (
    i: number,
  ) => ["-f", join(work, `rawc-${i}`, "docker-compose.yml"), "-p", `benchrawc-slot-${i}`];
  const rawStart = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, i) => {
    await run("git", ["worktree", "add", "-q", "-b", `rawc/${i}`, join(work, `rawc-${i}`), "main"]);
    await run(
      compose[0],
      [...compose.slice(1), ...rawFiles(i), "up", "-d"],
      join(work, `rawc-${i}`),
      rawEnv(i),
    );
  }));
  const rawWall = performance.now() - rawStart;
  rows.push([
    "8 concurrent impls vs 8 concurrent raw (add + up -d)",
    fmt(wall),
    fmt(rawWall),
    (wall / rawWall).toFixed(2) + "×",
  ]);
  await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        run(compose[0], [...compose.slice(1), ...rawFiles(i), "down"], join(work, `rawc-${i}`), rawEnv(i)),
    ),
  );
} finally {
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(
    `\ncompose: ${compose.join(" ")}; rounds: ${ROUNDS}; medians; ${navigator.hardwareConcurrency} cores\n`,
  );
  console.log(`${"measurement".padEnd(width)}  kinfra     raw/base   ratio`);
  for (const [name, a, b, r] of rows) {
    console.log(`${name.padEnd(width)}  ${a.padEnd(9)}  ${b.padEnd(9)}  ${r}`);
  }
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
