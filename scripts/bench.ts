/**
 * Benchmarks kinfra against the raw commands it wraps, measured in the same run on the same files.
 * The one place kinfra's performance figures come from (medians; ratios, never absolute targets):
 *   lifecycle    `impl` vs `git worktree add` + `compose up -d`; `done` vs `compose down` + `git
 *                worktree remove` (no health check configured, so no health wait is included), once
 *                per Compose flavour: kinfra (KINFRA_COMPOSE) and the raw side call the same program;
 *                with v2 the raw side also runs the plugin file directly, as kinfra does
 *   startup      `--version`, `worktrees --json`, `status --json`, `env` vs a deno hello-world, also
 *                with 500 registry entries across 50 projects
 *   concurrency  8 and 16 concurrent `impl`s vs as many concurrent raw `add + up -d`; distinct slots
 *   contention   1,000 claims on one registry from 10 processes: no slot held twice, p50/p99 latency
 *   health       how long after a service first answers 2xx the health gate notices
 *   data         seeding a slot from a 200 MB snapshot vs a raw `docker run … cp -a` between volumes
 *   ui           how soon `kinfra ui` pushes a change to its pages: a container killed / started (the
 *                engine's events), a worktree created (the registry), vs the raw command's own time
 *   proxy        `kinfra checkout` switch time vs `docker restart`; a request through the router or a
 *                canonical port vs direct (scripts/bench_proxy.ts)
 *   large        `impl --dry-run` on a generated 4.4 MB compose file (5,200 services merging anchors,
 *                520 published ports; scripts/large_compose.ts) vs `compose config` on the same file
 *   warm         `impl` taking a warm sandbox (`kinfra warm`) vs `git worktree add` + `compose up -d` +
 *                waiting for health, with a database that needs seconds; both Compose flavours
 *                (scripts/bench_warm.ts)
 *   remote       (root) a sandbox on scripts/remote_host.sh's engine in another network namespace: impl
 *                --host and done vs compose up/down over ssh, an edit served remotely vs one rsync pass,
 *                requests through the ssh tunnel and UDP round trips through the relay vs straight to
 *                the host (scripts/bench_remote.ts)
 * lifecycle and warm run once per Compose flavour; the other sections use the first (v2 when it is there).
 * Usage: deno run -A scripts/bench.ts [--rounds 5] [--only startup,health,data] [--compose v2,v1] [--json]
 * (needs a Docker engine and the test image; --json prints the rows as one JSON document)
 */
import { join } from "../core/io/path.ts";
import { waitHealthy } from "../plugins/docker/health.ts";
import { composePlugin } from "../core/compose/tool.ts";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

const flag = (name: string) => Deno.args[Deno.args.indexOf(name) + 1];
const ROUNDS = Number(flag("--rounds")) || 5;
const ONLY = Deno.args.includes("--only") ? flag("--only").split(",") : undefined;
const JSON_OUT = Deno.args.includes("--json");
const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = join(ROOT, "main.ts");
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
/** The bench project's port base (KINFRA_BENCH_BASE moves it off a port another run holds). */
const BASE = Number(Deno.env.get("KINFRA_BENCH_BASE")) || 31000;
/** The raw side's compose projects: this run's own (see cleanUp). */
const RAW = `benchraw${work.slice(-8)}`;

interface Row {
  measurement: string;
  kinfra_ms: number;
  baseline_ms: number;
  ratio: number;
  note?: string;
}
const rows: Row[] = [];
const row = (measurement: string, kinfra: number, baseline: number, note?: string) =>
  rows.push({ measurement, kinfra_ms: kinfra, baseline_ms: baseline, ratio: kinfra / baseline, note });
const log = (text: string) => !JSON_OUT && console.error(text);

async function run(cmd: string, args: string[], cwd = repo, extraEnv: Record<string, string> = {}) {
  const start = performance.now();
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...env, ...extraEnv },
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return { ms, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}
const kinfra = async (...args: string[]) =>
  (await run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, ...args], repo, {
    KINFRA_COMPOSE: compose.command,
  }))
    .ms;
/**
 * The artifact the tests run (scripts/build.ts --bundle --split), built on first use. A release
 * binary embeds its modules and loads each when imported, as the split bundle does.
 */
let artifact: Promise<string> | undefined;
const bundle = async (...args: string[]) => {
  artifact ??= run(Deno.execPath(), [
    ...["run", "-A", join(ROOT, "scripts/build.ts"), "--bundle", "--split", "--out", work],
  ]).then((r) => r.stdout.trim());
  return (await run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, await artifact, ...args], repo, {
    KINFRA_COMPOSE: compose.command,
  })).ms;
};
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) => xs.toSorted((a, b) => a - b)[Math.ceil(xs.length * p) - 1];
/**
 * `fn` and the floor `base` in turn, 3 warm-ups each and then 17 pairs: the medians of both. Taken
 * together, so load that comes and goes (a sandbox just started, the proxy's usage reads every few
 * seconds) weighs on both sides of a ratio alike, not on whichever was measured at the time.
 */
async function steadyPair(fn: () => Promise<number>, base: () => Promise<number>): Promise<[number, number]> {
  const [xs, bs] = [[] as number[], [] as number[]];
  for (let i = 0; i < 20; i++) {
    bs.push(await base());
    xs.push(await fn());
  }
  return [median(xs.slice(3)), median(bs.slice(3))];
}
const wanted = (section: string) => !ONLY || ONLY.includes(section);

/** One Compose flavour: kinfra is told to use it (KINFRA_COMPOSE) and the raw side runs it. */
interface Flavour {
  name: "v2" | "v1";
  command: string;
  argv: string[];
  version: string;
}
async function probeFlavour(command: string): Promise<Flavour | undefined> {
  const argv = command.split(" ");
  const out = await new Deno.Command(argv[0], {
    args: [...argv.slice(1), "version", "--short"],
    stderr: "null",
  })
    .output().catch(() => undefined);
  const version = out?.success ? new TextDecoder().decode(out.stdout).trim().replace(/^v/, "") : "";
  return version ? { name: version.startsWith("1.") ? "v1" : "v2", command, argv, version } : undefined;
}
const found = (await Promise.all(["docker compose", "docker-compose"].map(probeFlavour)))
  .filter((f): f is Flavour => f !== undefined);
const asked = Deno.args.includes("--compose") ? flag("--compose").split(",") : ["v2", "v1"];
const FLAVOURS = asked.flatMap((name) => found.filter((f) => f.name === name).slice(0, 1));
if (!FLAVOURS.length) {
  throw new Error(`No Compose of ${asked.join(", ")} here (found: ${found.map((f) => f.command)}).`);
}
/** The flavour being measured: lifecycle() goes through each, everything else uses the first. */
let compose = FLAVOURS[0];
const composeRun = (files: string[], args: string[], cwd: string, vars: Record<string, string>) =>
  run(compose.argv[0], [...compose.argv.slice(1), ...files, ...args], cwd, vars);

async function setUp() {
  await Deno.mkdir(join(repo, "src"), { recursive: true });
  await Deno.mkdir(join(repo, ".devops-ai"));
  await Deno.writeTextFile(
    join(repo, "docker-compose.yml"),
    `services:\n  web:\n    image: kinfra-test/busybox:latest\n    init: true\n` +
      `    command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]\n    ports:\n` +
      `      - "\${BENCH_WEB_PORT:-${BASE}}:8080"\n`,
  );
  await Deno.writeTextFile(
    join(repo, ".devops-ai/infra.toml"),
    `[project]\nname = "bench"\n[sandbox.ports]\nBENCH_WEB_PORT = ${BASE}\n[sandbox.mounts]\n` +
      `code = ["src/:/app/src"]\ncode_targets = ["web"]\n[sandbox.otel]\nenabled = false\n`,
  );
  await Deno.writeTextFile(join(repo, "src/health"), "ok\n");
  await run("git", ["init", "-q", "-b", "main"]);
  await run("git", ["add", "-A"]);
  await run("git", ["commit", "-qm", "bench"]);
}

async function lifecycle() {
  const t = {
    impl: [] as number[],
    done: [] as number[],
    bundleImpl: [] as number[],
    bundleDone: [] as number[],
    rawUp: [] as number[],
    rawDown: [] as number[],
    directUp: [] as number[],
    directDown: [] as number[],
  };
  const tag = compose.name;
  // v2 also raw through its plugin file, as kinfra runs it (core/compose/tool.ts): the fastest raw there is.
  const plugin = compose.name === "v2" ? await composePlugin() : undefined;
  for (let i = 0; i < ROUNDS; i++) {
    // Each build's proxy is stopped after its round (untimed): the two builds share this home, and an
    // impl that finds the other build's proxy replaces it, waiting for it to exit (~50–80 ms) — which
    // a user, with one kinfra, never pays. So each impl starts one, as the first sandbox of a day does.
    t.impl.push(await kinfra("impl", `f${tag}${i}/M1`));
    t.done.push(await kinfra("done", `f${tag}${i}-M1`));
    await kinfra("proxy", "stop");
    t.bundleImpl.push(await bundle("impl", `b${tag}${i}/M1`));
    t.bundleDone.push(await bundle("done", `b${tag}${i}-M1`));
    await bundle("proxy", "stop");
    const path = join(work, `raw-${tag}-${i}`);
    // The same stack kinfra runs: the worktree's compose file plus the code mount, by hand.
    const override = join(work, `raw-${tag}-${i}.override.yml`);
    await Deno.writeTextFile(override, `services:\n  web:\n    volumes:\n      - ${path}/src:/app/src\n`);
    const files = ["-f", join(path, "docker-compose.yml"), "-f", override, "-p", `${RAW}-slot-${tag}${i}`];
    const port = { BENCH_WEB_PORT: String(BASE + 1) };
    t.rawUp.push(
      (await run("git", ["worktree", "add", "-q", "-b", `raw/${tag}${i}`, path, "main"])).ms +
        (await composeRun(files, ["up", "-d"], path, port)).ms,
    );
    t.rawDown.push(
      (await composeRun(files, ["down"], path, port)).ms +
        (await run("git", ["worktree", "remove", path])).ms,
    );
    if (plugin) {
      const [cmd, ...pre] = plugin.argv;
      const direct = [...pre, ...files.slice(0, -1), `${files.at(-1)}d`];
      const env = { ...port, ...plugin.env };
      t.directUp.push(
        (await run("git", ["worktree", "add", "-q", "-b", `raw/${tag}${i}d`, path, "main"])).ms +
          (await run(cmd, [...direct, "up", "-d"], path, env)).ms,
      );
      t.directDown.push(
        (await run(cmd, [...direct, "down"], path, env)).ms +
          (await run("git", ["worktree", "remove", path])).ms,
      );
    }
  }
  const which = `[${compose.name}: ${compose.command}]`;
  for (
    const [name, impl, done] of [["kinfra", t.impl, t.done], ["bundle", t.bundleImpl, t.bundleDone]] as const
  ) {
    row(`${name} impl vs git worktree add + compose up -d ${which}`, median(impl), median(t.rawUp));
    row(`${name} done vs compose down + git worktree remove ${which}`, median(done), median(t.rawDown));
  }
  if (plugin) {
    const file = "[v2: its plugin file run directly, as kinfra does]";
    row(`bundle impl vs git worktree add + compose up -d ${file}`, median(t.bundleImpl), median(t.directUp));
    row(
      `bundle done vs compose down + git worktree remove ${file}`,
      median(t.bundleDone),
      median(t.directDown),
    );
  }
}

/** 499 more worktrees across 50 projects (and 19 more running slots) beside the real one. */
async function growRegistry(): Promise<string> {
  const file = join(home, "registry.json");
  const original = await Deno.readTextFile(file);
  const registry = JSON.parse(original);
  const at = new Date().toISOString();
  for (let i = 0; i < 499; i++) {
    const project = `p${i % 50}`;
    const path = join(work, "many", `${project}-impl-f${i}-M1`);
    await Deno.mkdir(path, { recursive: true });
    registry.worktrees[path] = {
      path,
      kind: "impl",
      project,
      project_root: join(work, "many", project),
      feature: `f${i}`,
      milestone: "M1",
      branch: `impl/f${i}-M1`,
      base: "main",
      created_at: at,
    };
    const id = i + 2;
    if (id <= 20) {
      const dir = join(home, "slots", `${project}-${id}`);
      await Deno.mkdir(dir, { recursive: true });
      registry.slots[String(id)] = {
        slot_id: id,
        project,
        worktree_path: path,
        slot_dir: dir,
        compose_file_copy: join(dir, "docker-compose.yml"),
        ports: { P_WEB_PORT: 40000 + id },
        claimed_at: at,
        status: "running",
      };
    }
  }
  await Deno.writeTextFile(file, JSON.stringify(registry, null, 2));
  return original;
}

async function startup() {
  const hello = join(work, "hello.ts");
  await Deno.writeTextFile(hello, 'console.log("hello");\n');
  await kinfra("impl", "probe/M1");
  const base = async () => (await run(Deno.execPath(), ["run", "--quiet", hello])).ms;
  const commands = [["--version"], ["--json", "worktrees"], ["--json", "status", "probe-M1"], [
    "env",
    "probe-M1",
  ]];
  const runners = [["kinfra", kinfra], ["bundle", bundle]] as const;
  const measure = async (args: string[], what = "") => {
    for (const [name, fn] of runners) {
      row(
        `${name} ${args.join(" ")}${what} vs deno hello-world`,
        ...await steadyPair(() => fn(...args), base),
      );
    }
  };
  for (const args of commands) await measure(args);
  const original = await growRegistry();
  for (const args of commands.slice(1, 3)) await measure(args, ", 500 worktrees,");
  await Deno.writeTextFile(join(home, "registry.json"), original);
  await kinfra("done", "probe-M1");
}

async function concurrency(n: number) {
  // A project's first two sandboxes prove its model template (core/compose/model_cache.ts); after
  // that a new slot needs no `compose config`. The burst below runs in that steady state.
  for (const target of ["warm1/M1", "warm2/M1"]) await kinfra("impl", target);
  await Promise.all(["warm1-M1", "warm2-M1"].map((name) => kinfra("done", name)));
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => kinfra("impl", `c${n}x${i}/M1`)));
  const wall = performance.now() - start;
  const registry = JSON.parse(await Deno.readTextFile(join(home, "registry.json")));
  const slots = Object.values(registry.slots) as { slot_id: number; ports: Record<string, number> }[];
  const distinct = new Set(slots.map((s) => s.slot_id)).size === n &&
    new Set(slots.map((s) => JSON.stringify(s.ports))).size === n;
  await Promise.all(Array.from({ length: n }, (_, i) => kinfra("done", `c${n}x${i}-M1`)));

  // The same stack kinfra runs, as in lifecycle(): the compose file plus the code mount.
  const files = (i: number) => [
    ...[
      "-f",
      join(work, `rawc${n}-${i}`, "docker-compose.yml"),
      "-f",
      join(work, `rawc${n}-${i}.override.yml`),
    ],
    ...["-p", `${RAW}c${n}-slot-${i}`],
  ];
  const vars = (i: number) => ({ BENCH_WEB_PORT: String(BASE + 60 + i) });
  // Concurrent `git worktree add`s in one repository race ("failed to read …/commondir"), so the raw
  // side takes them one at a time, as kinfra does; the `up -d`s run side by side.
  let gitTurn = Promise.resolve();
  const rawStart = performance.now();
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const add = gitTurn.then(() =>
      run("git", ["worktree", "add", "-q", "-b", `rawc${n}/${i}`, join(work, `rawc${n}-${i}`), "main"])
    );
    gitTurn = add.then(() => {}, () => {});
    await add;
    const mount = `services:\n  web:\n    volumes:\n      - ${join(work, `rawc${n}-${i}`)}/src:/app/src\n`;
    await Deno.writeTextFile(join(work, `rawc${n}-${i}.override.yml`), mount);
    await composeRun(files(i), ["up", "-d"], join(work, `rawc${n}-${i}`), vars(i));
  }));
  const rawWall = performance.now() - rawStart;
  await Promise.all(
    Array.from({ length: n }, (_, i) => composeRun(files(i), ["down"], join(work, `rawc${n}-${i}`), vars(i))),
  );
  row(
    `${n} concurrent impls vs ${n} concurrent raw (add + up -d)`,
    wall,
    rawWall,
    distinct ? `${n} distinct slots and port sets` : "SLOTS COLLIDED",
  );
}

async function contention() {
  const claimHome = join(work, "claims-home");
  const workers = 10, each = 100;
  const start = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      run(
        Deno.execPath(),
        [
          "run",
          "-A",
          "--quiet",
          new URL("bench_claims.ts", import.meta.url).pathname,
          String(w),
          String(each),
          "45000",
        ],
        work,
        { KINFRA_HOME: claimHome },
      )),
  );
  const wall = performance.now() - start;
  const claims = outputs.flatMap((o) =>
    o.stdout.trim().split("\n").map((l) =>
      JSON.parse(l) as { slot: number; from: number; to: number; ms: number }
    )
  );
  const bySlot = Map.groupBy(claims, (c) => c.slot);
  const overlaps =
    [...bySlot.values()].flatMap((list) =>
      list.toSorted((a, b) => a.from - b.from).filter((c, i, l) => i > 0 && c.from < l[i - 1].to)
    ).length;
  const latency = claims.map((c) => c.ms);
  row(
    `${claims.length} claims from ${workers} processes: p99 claim latency vs p50`,
    percentile(latency, 0.99),
    median(latency),
    `${
      overlaps === 0 ? "no slot ever held twice" : `${overlaps} OVERLAPPING HOLDS`
    }; ${bySlot.size} slots used; wall ${wall.toFixed(0)} ms`,
  );
}

/** A local server that starts answering 2xx after a random delay: how late does the health gate notice? */
async function health() {
  const lags: number[] = [];
  for (let i = 0; i < 20; i++) {
    const ready = performance.now() + 200 + Math.random() * 500;
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      () => performance.now() < ready ? new Response("starting", { status: 503 }) : new Response("ok"),
    );
    await waitHealthy(`http://127.0.0.1:${server.addr.port}/`, 5000, new AbortController().signal);
    lags.push(performance.now() - ready);
    await server.shutdown();
  }
  row(
    "health gate: ready → noticed, max vs median",
    Math.max(...lags),
    median(lags),
    "20 services ready after 200–700 ms",
  );
}

/**
 * Removes what this run started and a failure left running: containers labelled with the bench
 * home's id (kinfra's) or in the raw side's projects, and their default networks. Nothing else.
 */
async function cleanUp() {
  const id = (await Deno.readTextFile(join(home, "home-id")).catch(() => "")).trim();
  const format = '{{.ID}} {{.Label "com.docker.compose.project"}} {{.Label "dev.kinfra.home"}}';
  const { stdout } = await run("docker", ["ps", "-a", "--format", format], work);
  const mine = stdout.split("\n").map((l) => l.split(" ")).filter(([, project, owner]) =>
    (id && owner === id) || project?.startsWith(`${RAW}`)
  );
  if (!mine.length) return;
  await run("docker", ["rm", "-f", ...mine.map(([container]) => container)], work);
  for (const project of new Set(mine.map(([, project]) => project))) {
    await run("docker", ["network", "rm", `${project}_default`], work).catch(() => {});
  }
}

/**
 * A project with a named volume holding 200 MB (200 files of 1 MB), saved as a snapshot; then per
 * round an `impl --seed` and a plain `impl` (the seed's cost is the difference), against the raw copy
 * of the same snapshot volume into a fresh volume with the same helper image.
 */
async function data() {
  const dir = join(work, "benchdata");
  await Deno.mkdir(join(dir, ".devops-ai"), { recursive: true });
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "docker-compose.yml"),
    `services:\n  db:\n    image: kinfra-test/busybox:latest\n    init: true\n    command: ["sleep", "86400"]\n` +
      `    ports:\n      - "\${BD_PORT:-${
        BASE + 500
      }}:8080"\n    volumes:\n      - db:/data\nvolumes:\n  db:\n`,
  );
  await Deno.writeTextFile(
    join(dir, ".devops-ai/infra.toml"),
    `[project]\nname = "benchdata"\n[sandbox.ports]\nBD_PORT = ${
      BASE + 500
    }\n[sandbox.otel]\nenabled = false\n`,
  );
  await Deno.writeTextFile(
    join(home, "config.toml"),
    `[data]\nhelper_image = "kinfra-test/busybox:latest"\n`,
    {
      append: true,
    },
  );
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "data"]]) {
    await run("git", args, dir);
  }
  const k = (...args: string[]) =>
    run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, ...args], dir).then((r) => r.ms);
  await k("impl", "src/M1");
  const fill = "for i in $(seq 1 200); do dd if=/dev/urandom of=/data/f$i bs=1M count=1 2>/dev/null; done";
  await run("docker", ["exec", "benchdata-slot-1_db_1", "sh", "-c", fill], dir).catch(() =>
    run("docker", ["exec", "benchdata-slot-1-db-1", "sh", "-c", fill], dir)
  );
  await k("snapshot", "save", "big", "src-M1");
  const homeId = (await Deno.readTextFile(join(home, "home-id"))).trim();
  const t = { seeded: [] as number[], plain: [] as number[], raw: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    t.seeded.push(await k("impl", `s${i}/M1`, "--seed", "big"));
    await k("done", `s${i}-M1`);
    t.plain.push(await k("impl", `p${i}/M1`));
    await k("done", `p${i}-M1`);
    const volume = `benchraw-data-${i}`;
    const start = performance.now();
    await run("docker", ["volume", "create", volume], dir);
    await run("docker", [
      ...["run", "--rm", "-v", `kinfra-snapshot-${homeId}-big-db:/from:ro`, "-v", `${volume}:/to`],
      ...["kinfra-test/busybox:latest", "cp", "-a", "/from/.", "/to/"],
    ], dir);
    t.raw.push(performance.now() - start);
    await run("docker", ["volume", "rm", volume], dir);
  }
  await k("done", "src-M1");
  await k("snapshot", "rm", "big");
  const cost = median(t.seeded) - median(t.plain);
  row(
    "seed 200 MB: impl --seed minus impl, vs raw volume create + docker run cp -a",
    cost,
    median(t.raw),
    `impl --seed ${median(t.seeded).toFixed(0)} ms, impl ${median(t.plain).toFixed(0)} ms`,
  );
}

type UiBoard = { projects: { worktrees: { name: string; sandbox: { state: string } | null }[] }[] };

/**
 * Follows `kinfra ui`'s event stream. `next(pred)` must be called before the change is made: it
 * resolves with the time the first board after that call matching `pred` arrived.
 */
async function uiFeed(url: string) {
  const u = new URL(url);
  const response = await fetch(`${u.origin}/api/events?token=${u.searchParams.get("token")}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let waiter: { pred: (b: UiBoard) => boolean; resolve: (t: number) => void } | undefined;
  (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let i; (i = buffer.indexOf("\n\n")) >= 0;) {
        const event = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const board = event.startsWith("data: ") ? JSON.parse(event.slice(6)) : undefined;
        if (board && waiter?.pred(board)) (waiter.resolve(performance.now()), waiter = undefined);
      }
    }
  })().catch(() => {});
  return {
    next: (pred: (b: UiBoard) => boolean) => new Promise<number>((resolve) => waiter = { pred, resolve }),
    close: () => reader.cancel(),
  };
}

/** From a command's start to the board showing its effect, vs the command's own time. */
async function ui() {
  await kinfra("impl", "uibench/M1");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, "ui", "--port", "0"],
    cwd: repo,
    env: { ...env, KINFRA_UI_REFRESH: "3600" }, // only events may move the board
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) first += (await out.read()).value ?? "";
  const feed = await uiFeed(first.match(/http:\/\/\S+/)![0]);
  const worktrees = (b: UiBoard) => b.projects.flatMap((p) => p.worktrees);
  const state = (b: UiBoard) => worktrees(b).find((w) => w.name === "bench-impl-uibench-M1")?.sandbox?.state;
  const lag = { kill: [] as number[], start: [] as number[], spec: [] as number[] };
  const raw = { kill: [] as number[], start: [] as number[], spec: [] as number[] };
  const measure = async (
    key: keyof typeof lag,
    pred: (b: UiBoard) => boolean,
    cmd: string,
    args: string[],
  ) => {
    const told = feed.next(pred);
    const start = performance.now();
    raw[key].push((await run(cmd, args)).ms);
    lag[key].push((await told) - start);
    console.error("measured", key, lag[key].at(-1));
  };
  try {
    const status = await run(Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "--json",
      "status",
      "uibench-M1",
    ]);
    const project = JSON.parse(status.stdout).compose_project;
    const container =
      (await run("docker", ["ps", "-q", "--filter", `label=com.docker.compose.project=${project}`]))
        .stdout.trim();
    for (let i = 0; i < ROUNDS; i++) {
      await measure("kill", (b) => state(b) === "degraded", "docker", ["kill", container]);
      await measure("start", (b) => state(b) === "up", "docker", ["start", container]);
      const name = `bench-spec-uispec${i}`;
      await measure("spec", (b) => worktrees(b).some((w) => w.name === name), Deno.execPath(), [
        ...["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, "spec", `uispec${i}`],
      ]);
    }
  } finally {
    await feed.close();
    child.kill("SIGINT");
    await child.status;
    await out.cancel().catch(() => {});
  }
  const note = "from the command's start to the board on the page";
  row("ui: docker kill → page shows degraded, vs docker kill", median(lag.kill), median(raw.kill), note);
  row("ui: docker start → page shows up, vs docker start", median(lag.start), median(raw.start), note);
  row("ui: kinfra spec → its row on the page, vs kinfra spec", median(lag.spec), median(raw.spec), note);
}

/**
 * A monorepo-sized compose file: `impl --dry-run` (which reads every file, asks Compose for the model,
 * traces each published port and renders the override) against Compose's own `config` on it. Cold:
 * no cached model (Compose runs inside); cached: the model from the cache, kinfra's own work only.
 */
async function large() {
  const { largeCompose } = await import("./large_compose.ts");
  const dir = join(work, "large");
  const { compose: text, infraToml } = largeCompose(5200, { project: "large" });
  await Deno.mkdir(join(dir, ".devops-ai"), { recursive: true });
  await Deno.writeTextFile(join(dir, "docker-compose.yml"), text);
  await Deno.writeTextFile(join(dir, ".devops-ai/infra.toml"), infraToml);
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "large"]]) {
    await run("git", args, dir);
  }
  const mb = (new TextEncoder().encode(text).length / 1e6).toFixed(1);
  for (const flavour of FLAVOURS) {
    compose = flavour;
    const t = { cold: [] as number[], cached: [] as number[], raw: [] as number[] };
    const dryRun = ["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, "impl", "big/M1", "--dry-run"];
    const vars = { KINFRA_COMPOSE: flavour.command };
    const format = flavour.name === "v2" ? ["--format", "json"] : [];
    for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
      await Deno.remove(join(home, "cache"), { recursive: true }).catch(() => {});
      t.cold.push((await run(Deno.execPath(), dryRun, dir, vars)).ms);
      t.cached.push((await run(Deno.execPath(), dryRun, dir, vars)).ms);
      t.raw.push(
        (await composeRun(["-f", join(dir, "docker-compose.yml")], ["config", ...format], dir, {})).ms,
      );
    }
    const label = `[${flavour.name}] impl --dry-run, ${mb} MB compose (5,200 services)`;
    row(`${label} vs compose config`, median(t.cold), median(t.raw));
    row(`${label}, model cached, vs compose config`, median(t.cached), median(t.raw), "kinfra's own work");
  }
  compose = FLAVOURS[0];
}

try {
  await setUp();
  if (wanted("lifecycle")) {
    for (const flavour of FLAVOURS) {
      compose = flavour;
      await lifecycle();
    }
    compose = FLAVOURS[0];
  }
  if (wanted("startup")) await startup();
  if (wanted("concurrency")) { for (const n of [8, 16]) await concurrency(n); }
  if (wanted("contention")) await contention();
  if (wanted("health")) await health();
  if (wanted("data")) await data();
  if (wanted("ui")) await ui();
  if (wanted("large")) await large();
  if (wanted("proxy")) {
    await (await import("./bench_proxy.ts")).proxyBench({
      rounds: ROUNDS,
      repo,
      home,
      kinfra: async (...args) => {
        const r = await run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, MAIN, ...args], repo, {
          KINFRA_COMPOSE: compose.command,
        });
        return { ms: r.ms, stdout: r.stdout };
      },
      docker: async (...args) => (await run("docker", args)).ms,
      dockerOut: async (...args) => (await run("docker", args)).stdout,
      row,
      median,
    });
  }
  if (wanted("remote")) {
    await (await import("./bench_remote.ts")).remoteBench({
      rounds: ROUNDS,
      repo,
      main: MAIN,
      compose,
      run: (cmd, args, cwd, extra) => run(cmd, args, cwd, extra),
      row,
      median,
      log,
    });
  }
  if (wanted("warm")) {
    await (await import("./bench_warm.ts")).warmBench({
      rounds: ROUNDS,
      work,
      home,
      main: MAIN,
      raw: RAW,
      flavours: FLAVOURS.map((f) => ({ name: f.name, command: f.command, argv: f.argv })),
      run: (cmd, args, cwd, extra) => run(cmd, args, cwd, extra),
      row,
      median,
    });
  }
} finally {
  const header = {
    compose: FLAVOURS.map((f) => `${f.command} ${f.version} (${f.name})`).join(", "),
    rounds: ROUNDS,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
  };
  if (JSON_OUT) console.log(JSON.stringify({ ...header, rows }, null, 2));
  else {
    const width = Math.max(...rows.map((r) => r.measurement.length));
    console.log(`\ncompose: ${header.compose}; rounds: ${ROUNDS}; medians; ${header.cores} cores\n`);
    console.log(`${"measurement".padEnd(width)}  kinfra     raw/base   ratio`);
    for (const r of rows) {
      console.log(
        `${r.measurement.padEnd(width)}  ${`${r.kinfra_ms.toFixed(0)} ms`.padEnd(9)}  ${
          `${r.baseline_ms.toFixed(0)} ms`.padEnd(9)
        }  ${r.ratio.toFixed(2)}×${r.note ? `  ${r.note}` : ""}`,
      );
    }
  }
  await cleanUp();
  log(`(work dir ${work} removed)`);
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
