/**
 * The `warm` section of scripts/bench.ts: `impl` taking a warm sandbox (`kinfra warm 1`) against the
 * raw sequence a user would type — `git worktree add`, `compose up -d`, then waiting for the health
 * endpoint — for a project whose database needs a few seconds to become healthy (the code service
 * waits for it: `depends_on: condition: service_healthy`). Both Compose flavours, each on its own
 * project. The background refill after each take is waited for before anything else is timed.
 */
import { join } from "../core/io/path.ts";
import { waitHealthy } from "../plugins/docker/health.ts";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

export interface WarmKit {
  rounds: number;
  work: string;
  home: string;
  /** Runs a command in `cwd` with extra environment; resolves to its wall time and stdout. */
  run: (
    cmd: string,
    args: string[],
    cwd: string,
    env?: Record<string, string>,
  ) => Promise<{ ms: number; stdout: string }>;
  main: string;
  /** The raw side's compose project prefix (cleaned up by the caller). */
  raw: string;
  /** The Compose flavours to measure: `command` as KINFRA_COMPOSE takes it, `argv` for the raw side. */
  flavours: { name: string; command: string; argv: string[] }[];
  row: (measurement: string, kinfra: number, baseline: number, note?: string) => void;
  median: (xs: number[]) => number;
}

const DB_DELAY_S = 4;

function composeFile(variable: string, base: number): string {
  return `services:
  db:
    image: kinfra-test/busybox:latest
    init: true
    command: ["sh", "-c", "sleep ${DB_DELAY_S}; exec httpd -f -p 80 -h /etc"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/hostname"]
      interval: 1s
      timeout: 1s
      retries: 60
  web:
    image: kinfra-test/busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]
    depends_on:
      db:
        condition: service_healthy
    ports:
      - "\${${variable}:-${base}}:8080"
`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function warmBench(kit: WarmKit): Promise<void> {
  for (const { name: short, command: flavour, argv } of kit.flavours) {
    const name = `warmbench${short}`;
    const variable = `${name.toUpperCase()}_WEB_PORT`;
    const base = short === "v2" ? 33000 : 33100;
    const repo = join(kit.work, name);
    const env = { KINFRA_COMPOSE: flavour };
    await Deno.mkdir(join(repo, "src"), { recursive: true });
    await Deno.mkdir(join(repo, ".devops-ai"));
    await Deno.writeTextFile(join(repo, "docker-compose.yml"), composeFile(variable, base));
    await Deno.writeTextFile(
      join(repo, ".devops-ai/infra.toml"),
      `[project]\nname = "${name}"\n[sandbox]\ncompose_file = "docker-compose.yml"\n` +
        `[sandbox.health]\nendpoint = "/health"\nport_var = "${variable}"\ntimeout = 60\n` +
        `[sandbox.ports]\n${variable} = ${base}\n[sandbox.mounts]\ncode = ["src/:/app/src"]\n` +
        `code_targets = ["web"]\n[sandbox.otel]\nenabled = false\n`,
    );
    await Deno.writeTextFile(join(repo, "src/health"), "ok\n");
    for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "warm bench"]]) {
      await kit.run("git", args, repo);
    }
    const kinfra = (...args: string[]) =>
      kit.run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, kit.main, ...args], repo, env);
    const registry = async () => JSON.parse(await Deno.readTextFile(join(kit.home, "registry.json")));
    const poolReady = async () => {
      const slots = Object.values((await registry()).slots) as {
        project: string;
        warm?: unknown;
        status: string;
      }[];
      const warm = slots.filter((s) => s.project === name && s.warm);
      return warm.length === 1 && warm[0].status === "running";
    };
    // One cold impl first, so the project's usage is known (as it would be after a day's work).
    await kinfra("impl", "first/M1");
    await kinfra("done", "first-M1", "--force");
    await kinfra("warm", "1");

    const t = { warm: [] as number[], raw: [] as number[] };
    for (let i = 0; i < kit.rounds; i++) {
      await waitFor("the warm sandbox", poolReady);
      const taken = await kinfra("--json", "impl", `w${i}/M1`);
      if (JSON.parse(taken.stdout).warm !== true) {
        throw new Error(`impl w${i}/M1 did not take the warm sandbox`);
      }
      t.warm.push(taken.ms);
      await waitFor("the refill", poolReady); // nothing else is timed while it runs
      await kinfra("done", `w${i}-M1`, "--force");

      const path = join(kit.work, `${name}-raw-${i}`);
      const override = join(kit.work, `${name}-raw-${i}.override.yml`);
      await Deno.writeTextFile(override, `services:\n  web:\n    volumes:\n      - ${path}/src:/app/src\n`);
      const files = [
        "-f",
        join(path, "docker-compose.yml"),
        "-f",
        override,
        "-p",
        `${kit.raw}-${short}-${i}`,
      ];
      const port = 33900 + (short === "v2" ? 0 : 50) + i;
      const vars = { [variable]: String(port) };
      const start = performance.now();
      await kit.run("git", ["worktree", "add", "-q", "-b", `raw/${i}`, path, "main"], repo);
      await kit.run(argv[0], [...argv.slice(1), ...files, "up", "-d"], path, vars);
      const healthy = await waitHealthy(
        `http://127.0.0.1:${port}/health`,
        60_000,
        AbortSignal.timeout(70_000),
      );
      if (!healthy.ok) throw new Error(`raw sandbox ${i} never became healthy`);
      t.raw.push(performance.now() - start);
      await kit.run(argv[0], [...argv.slice(1), ...files, "down"], path, vars);
      await kit.run("git", ["worktree", "remove", "--force", path], repo);
    }
    await kinfra("warm", "0");
    const note = `${flavour}; the database is healthy ~${DB_DELAY_S}s after it starts`;
    kit.row(
      `warm impl vs git worktree add + compose up -d + health (${short})`,
      kit.median(t.warm),
      kit.median(t.raw),
      note,
    );
  }
}
