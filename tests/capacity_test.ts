/**
 * Many sandboxes on one machine, end to end on the real engine: what a sandbox costs (status,
 * worktrees), the memory budget (`[slots] memory`), idle sandboxes stopped (`idle_stop`), and
 * warm sandboxes (`kinfra warm`) taken by `impl`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, KINFRA, type Sandbox, writeFiles } from "./helpers.ts";
import { eventually, rawGet, useRouterPort } from "./proxy_helpers.ts";
import {
  containersOf,
  docker,
  dockerTest,
  httpGet,
  IMAGE,
  randomBase,
  registryOf,
} from "./sandbox_helpers.ts";

const MiB = 1024 * 1024;

/** A web service that really holds `mib` MiB: it fills a tmpfs before it serves. */
const holding = (mib: number) =>
  `sh -c "dd if=/dev/zero of=/fill/data bs=1M count=${mib} 2>/dev/null; exec httpd -f -p 8080 -h /app/src"`;

interface Options {
  base: number;
  /** The web service's command (default: busybox httpd serving the code mount). */
  web?: string;
  /** More services, as compose text under `services:`; `depends` is the web service's depends_on. */
  services?: string;
  depends?: string;
  /** infra.toml lines added to [sandbox]. */
  sandbox?: string;
}

/** A committed project: `web` (code target, health /health) with its code mount, plus `services`. */
async function project(sb: Sandbox, name: string, o: Options): Promise<string> {
  const variable = `${name.toUpperCase()}_WEB_PORT`;
  const compose = `services:
  web:
    image: ${IMAGE}
    init: true
    tmpfs:
      - /fill
    command: ${o.web ?? `httpd -f -p 8080 -h /app/src`}
    ports:
      - "\${${variable}:-${o.base}}:8080"
${o.depends ?? ""}${o.services ?? ""}`;
  return await sb.repo(name, {
    "docker-compose.yml": compose,
    ".devops-ai/infra.toml": `[project]
name = "${name}"

[sandbox]
compose_file = "docker-compose.yml"
${o.sandbox ?? ""}

[sandbox.health]
endpoint = "/health"
port_var = "${variable}"
timeout = 30

[sandbox.ports]
${variable} = ${o.base}

[sandbox.mounts]
code = ["src/:/app/src"]
code_targets = ["web"]

[sandbox.otel]
enabled = false
`,
    "src/health": "ok\n",
  });
}

interface Usage {
  memory: number;
  cpu: number | null;
}

dockerTest("status and worktrees show what a sandbox uses, measured from the engine", async (sb, stem) => {
  const repo = await project(sb, stem, { base: randomBase(), web: holding(48) });
  const made = await sb.kinfra(["--json", "impl", "mem/M1"], { cwd: repo });
  assert.equal(made.code, 0, made.stderr);

  const status = (await sb.kinfra(["--json", "status", "mem-M1"], { cwd: repo })).json<{ usage: Usage }>();
  assert.ok(status.usage.memory >= 48 * MiB, `status: ${status.usage.memory} bytes, the tmpfs holds 48 MiB`);
  assert.ok(status.usage.memory < 200 * MiB);
  assert.equal(typeof status.usage.cpu, "number");
  const text = await sb.kinfra(["status", "mem-M1"], { cwd: repo });
  assert.match(text.stdout, /memory [0-9.]+ MB · cpu [0-9.]+%/);

  const rows = (await sb.kinfra(["--json", "worktrees"])).json<{ worktrees: { usage: Usage | null }[] }>();
  assert.ok(rows.worktrees[0].usage!.memory >= 48 * MiB);
  assert.match((await sb.kinfra(["worktrees"])).stdout, /SLOT\s+MEM\s+CPU\s+STATUS/);
  const onBoard = await dashboard(sb, (projects) => projects[0]?.worktrees[0]?.sandbox?.usage ?? undefined);
  assert.ok(onBoard.memory >= 48 * MiB, `the dashboard: ${onBoard.memory} bytes`);

  // Remembered per project once healthy: the budget's estimate for the next sandbox.
  const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
  assert.ok(registry.usage[stem].memory >= 48 * MiB, JSON.stringify(registry.usage));
});

dockerTest(
  "a sandbox that does not fit the memory budget is refused (exit 3) before anything is created; --force starts it",
  async (sb, stem) => {
    await Deno.mkdir(sb.home, { recursive: true });
    await Deno.writeTextFile(join(sb.home, "config.toml"), `[slots]\nmemory = "100m"\n`);
    const repo = await project(sb, stem, { base: randomBase(), web: holding(64) });
    // The first sandbox of a project: nothing known yet, never refused.
    const first = await sb.kinfra(["--json", "impl", "mem/M1"], { cwd: repo });
    assert.equal(first.code, 0, first.stderr);

    const refused = await sb.kinfra(["--json", "impl", "mem/M2"], { cwd: repo });
    assert.equal(refused.code, 3, refused.stderr);
    const error =
      refused.json<{ error: { message: string; details: string[]; data: Record<string, unknown> } }>().error;
    assert.match(
      error.message,
      /Not enough memory for another .* sandbox: it needs about [0-9.]+ MB .* of the 105 MB budget/,
    );
    assert.equal(error.data.budget, 100 * MiB);
    assert.ok((error.data.need as number) >= 64 * MiB);
    assert.ok((error.data.used as number) >= 64 * MiB);
    assert.deepEqual((error.data.freeable as { name: string }[]).map((s) => s.name), [`${stem}-impl-mem-M1`]);
    assert.ok(
      error.details.some((d) => d.startsWith(`kinfra down ${stem}-impl-mem-M1`)),
      error.details.join("\n"),
    );
    // Nothing was created: no worktree, no branch, no second slot.
    assert.equal(await git(repo, "branch", "--list", "impl/mem-M2"), "");
    assert.equal(Object.keys((await registryOf(sb)).slots).length, 1);
    assert.equal((await containersOf(`${stem}-slot-2`)).length, 0);

    const forced = await sb.kinfra(["--json", "impl", "mem/M2", "--force"], { cwd: repo });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.json<{ slot: number }>().slot, 2);

    // `up` checks the same budget: down one, and with the other still running, up is refused.
    assert.equal((await sb.kinfra(["down", "mem-M2"], { cwd: repo })).code, 0);
    const upRefused = await sb.kinfra(["up", "mem-M2"], { cwd: repo });
    assert.equal(upRefused.code, 3, upRefused.stderr);
    assert.match(upRefused.stderr, /Not enough memory/);
    assert.equal((await sb.kinfra(["up", "mem-M2", "--force"], { cwd: repo })).code, 0);
  },
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface BoardProject {
  name: string;
  worktrees: {
    name: string;
    idle_stopped: { text: string; slot: number } | null;
    sandbox: { usage: Usage | null } | null;
  }[];
  warm: { slot: number; status: string; usage: Usage | null }[];
}

/**
 * Runs `kinfra ui` until its board (GET /api/board, with the run's token) satisfies `check`, which
 * returns what the test wants from it; the board's own timer measures usage every 2 s here.
 */
async function dashboard<T>(sb: Sandbox, check: (projects: BoardProject[]) => T | undefined): Promise<T> {
  const child = new Deno.Command(KINFRA[0], {
    args: [...KINFRA.slice(1), "ui", "--port", "0"],
    cwd: sb.dir,
    env: { KINFRA_HOME: sb.home, NO_COLOR: "1", KINFRA_UI_REFRESH: "2" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!/http:\/\/\S+\s/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`kinfra ui ended: ${out}`);
      out += value;
    }
    const url = new URL(out.match(/http:\/\/\S+/)![0]);
    const token = url.searchParams.get("token")!;
    const found = await eventually(
      "the dashboard's board",
      async () => {
        const response = await fetch(`${url.origin}/api/board`, { headers: { "x-kinfra-token": token } });
        const board = await response.json() as { projects: BoardProject[] } | null;
        return board ? check(board.projects) : undefined;
      },
      (v) => v !== undefined,
      30_000,
    );
    return found!;
  } finally {
    child.kill("SIGINT");
    await child.status;
    reader.cancel().catch(() => {});
  }
}

dockerTest(
  "idle_stop stops an unused sandbox (down: slot and volumes kept), not one whose worktree changes; up restores the same slot",
  async (sb, stem) => {
    const repo = await project(sb, stem, { base: randomBase(), sandbox: `idle_stop = "5s"` });
    const made = await sb.kinfra(["--json", "impl", "idle/M1"], { cwd: repo });
    assert.equal(made.code, 0, made.stderr);
    const { path, slot } = made.json<{ path: string; slot: number }>();
    const status = async () => {
      const run = await sb.kinfra(["--json", "status", "idle-M1"], { cwd: repo });
      assert.equal(run.code, 0, run.stderr);
      return run.json<{ status: string; slot: number | null; idle_stopped: { slot: number } | null }>();
    };

    // Edited every 1.5 s for 9 s (longer than the window): never stopped.
    assert.equal((await status()).status, "running");
    for (let i = 0; i < 6; i++) {
      await sleep(1500);
      await writeFiles(path, { [`src/note-${i}.txt`]: `${i}\n` });
      assert.equal(
        (await status()).status,
        "running",
        `stopped although the worktree changed ${i * 1.5}s ago`,
      );
    }
    // Left alone for longer than the window: the next command, or the proxy process, stops it. A stop
    // under way reads as the slot's "stopping", never as "no sandbox".
    await sleep(6500);
    const seen: string[] = [];
    const stopped = await eventually(
      "the sandbox is stopped",
      async () => {
        const now = await status();
        seen.push(now.status);
        return now;
      },
      (now) => now.status === "stopped",
      20_000,
    );
    assert.deepEqual(
      seen.filter((s) => !["running", "stopping", "stopped"].includes(s)),
      [],
      seen.join(", "),
    );
    assert.equal(stopped.slot, null);
    assert.equal(stopped.idle_stopped?.slot, slot);
    assert.match((await sb.kinfra(["status", "idle-M1"], { cwd: repo })).stdout, /stopped after [5-9]s idle/);
    assert.equal((await containersOf(`${stem}-slot-${slot}`)).length, 0);
    assert.match((await sb.kinfra(["worktrees"])).stdout, /stopped after \d+s idle/);
    const row = await dashboard(
      sb,
      (projects) =>
        projects.flatMap((p) => p.worktrees).find((w) => w.name === `${stem}-impl-idle-M1` && w.idle_stopped),
    );
    assert.match(row.idle_stopped!.text, /^stopped after [5-9]s idle$/);

    // Its slot is kept while it is stopped: another sandbox goes elsewhere.
    const other = await sb.kinfra(["--json", "impl", "other/M1"], { cwd: repo });
    assert.equal(other.code, 0, other.stderr);
    assert.notEqual(other.json<{ slot: number }>().slot, slot);
    assert.match(other.stderr, /kept for .*idle-M1, stopped while idle/);

    const up = await sb.kinfra(["--json", "up", "idle-M1"], { cwd: repo });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.json<{ slot: number }>().slot, slot);
    const back = await status();
    assert.equal(back.status, "running");
    assert.equal(back.idle_stopped, null);
  },
);

/** A slow database (3 s before it answers, a Docker healthcheck) the code service waits for. */
const SLOW_DB = `  db:
    image: ${IMAGE}
    init: true
    command: sh -c "sleep 3; echo seeded-or-not > /data/mark.txt.new; [ -f /data/mark.txt ] || mv /data/mark.txt.new /data/mark.txt; exec httpd -f -p 80 -h /data"
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/mark.txt"]
      interval: 1s
      timeout: 1s
      retries: 30
volumes:
  data: {}
`;
const WAITS_FOR_DB = `    depends_on:
      db:
        condition: service_healthy
`;

const dbContainer = async (composeProject: string) =>
  await docker(
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${composeProject}`,
    "--filter",
    "label=com.docker.compose.service=db",
  );

for (const flavour of ["docker compose", "docker-compose"]) {
  dockerTest(
    `warm: impl takes a warm sandbox (${flavour}): only the code service starts, the database is the same container, seeded`,
    async (sb, stem) => {
      const env = { KINFRA_COMPOSE: flavour };
      const run = (args: string[], cwd: string) => sb.kinfra(args, { cwd, env });
      const repo = await project(sb, stem, {
        base: randomBase(),
        services: SLOW_DB,
        depends: WAITS_FOR_DB,
        sandbox: "",
      });
      // A snapshot to seed from: a sandbox whose database holds a marker, saved, then finished.
      await Deno.mkdir(sb.home, { recursive: true });
      await Deno.writeTextFile(join(sb.home, "config.toml"), `[data]\nhelper_image = "${IMAGE}"\n`);
      const seed = await run(["--json", "impl", "seed/M1"], repo);
      assert.equal(seed.code, 0, seed.stderr);
      await docker(
        "exec",
        // The slot impl took: slot 1's ports may be in use by something else on a busy machine.
        (await dbContainer(seed.json<{ compose_project: string }>().compose_project)).split("\n")[0],
        "sh",
        "-c",
        "echo from-snapshot > /data/mark.txt",
      );
      const saved = await run(["snapshot", "save", `${stem}-base`, "seed-M1"], repo);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal((await run(["done", "seed-M1", "--force"], repo)).code, 0);
      const toml = join(repo, ".devops-ai/infra.toml");
      await Deno.writeTextFile(
        toml,
        (await Deno.readTextFile(toml)) + `\n[sandbox.data]\nseed = "${stem}-base"\n`,
      );
      await git(repo, "commit", "-qam", "seed");

      const warmed = await run(["--json", "warm", "1"], repo);
      assert.equal(warmed.code, 0, warmed.stderr);
      const pool = warmed.json<{ warm: { slot: number; status: string; services: string[] }[] }>().warm;
      assert.deepEqual(pool.map((w) => [w.status, w.services]), [["running", ["db"]]]);
      const slot = pool[0].slot;
      const before = await dbContainer(`${stem}-slot-${slot}`);
      assert.ok(before, "the warm sandbox runs its database");
      assert.deepEqual(
        await containersOf(`${stem}-slot-${slot}`).then((c) => c.length),
        1,
        "only the database",
      );
      const overview = (await run(["--json", "status"], repo)).json<{ warm: { slot: number }[] }>();
      assert.deepEqual(overview.warm.map((w) => w.slot), [slot]);
      if (flavour === "docker compose") {
        // The dashboard shows it, with what it uses.
        const shown = await dashboard(
          sb,
          (projects) =>
            projects.find((p) => p.name === stem)?.warm.find((w) =>
              w.slot === slot && (w.usage?.memory ?? 0) > 0
            ),
        );
        assert.equal(shown.status, "running");
      }

      const made = await run(["--json", "impl", "feat/M1"], repo);
      assert.equal(made.code, 0, made.stderr);
      const impl = made.json<
        { warm: boolean; warm_refill: boolean; slot: number; ports: Record<string, number>; path: string }
      >();
      assert.equal(impl.warm, true);
      assert.equal(impl.slot, slot);
      assert.equal(
        await dbContainer(`${stem}-slot-${slot}`),
        before,
        "the database container was reused as it was",
      );
      assert.equal((await containersOf(`${stem}-slot-${slot}`)).length, 2);
      // The code service runs the new worktree's code; the database holds the seed.
      const port = Object.values(impl.ports)[0];
      await writeFiles(impl.path, { "src/fresh.txt": "from the worktree\n" });
      assert.deepEqual(await httpGet(`http://127.0.0.1:${port}/fresh.txt`), {
        status: 200,
        body: "from the worktree\n",
      });
      assert.equal(
        await docker("exec", before, "cat", "/data/mark.txt"),
        "from-snapshot",
        "the warm database was seeded from [sandbox.data] seed",
      );
      // The worktree's sandbox behaves as any other; the pool is refilled in the background.
      const after = (await run(["--json", "status", "feat-M1"], repo)).json<
        { status: string; slot: number }
      >();
      assert.deepEqual([after.status, after.slot], ["running", slot]);
      assert.equal(impl.warm_refill, true);
      const refilled = await eventually(
        "the warm pool is back to one",
        async () =>
          (await run(["--json", "status"], repo)).json<{ warm: { slot: number; status: string }[] }>().warm,
        (w) => w.length === 1 && w[0].status === "running",
        60_000,
      );
      assert.notEqual(refilled[0].slot, slot);

      // A warm sandbox of an older commit is not taken: impl starts everything (warm: false).
      await git(repo, "commit", "-q", "--allow-empty", "-m", "moved on");
      const cold = await run(["--json", "impl", "cold/M1"], repo);
      assert.equal(cold.code, 0, cold.stderr);
      assert.equal(cold.json<{ warm: boolean }>().warm, false);

      // `warm 0` and `gc` remove warm sandboxes, containers and all.
      assert.equal((await run(["warm", "1"], repo)).code, 0);
      const second = (await registryOf(sb)).slots;
      const warmSlot = Object.entries(second).find(([, s]) => (s as { warm?: unknown }).warm)![0];
      assert.equal(
        (await run(["--json", "warm", "0"], repo)).json<{ removed: number[] }>().removed.length,
        1,
      );
      assert.equal((await containersOf(`${stem}-slot-${warmSlot}`)).length, 0);
      assert.equal((await run(["warm", "1"], repo)).code, 0);
      const gc = await run(["--json", "gc"], repo);
      assert.equal(gc.json<{ warm: string[] }>().warm.length, 1, gc.stdout);
      assert.equal(
        Object.values((await registryOf(sb)).slots).filter((s) => (s as { warm?: unknown }).warm).length,
        0,
      );
    },
  );
}

dockerTest(
  "idle_stop: traffic through kinfra's router keeps a sandbox; the proxy process stops it once unused, with no command run",
  async (sb, stem) => {
    const router = await useRouterPort(sb);
    const repo = await project(sb, stem, { base: randomBase(), sandbox: `idle_stop = "5s"` });
    const made = await sb.kinfra(["--json", "impl", "a/M1"], { cwd: repo });
    assert.equal(made.code, 0, made.stderr);
    // The slot impl took: slot 1's ports may be held by something else on a busy machine.
    const { path, slot } = made.json<{ path: string; slot: number }>();
    const name = `a-m1.${stem}.localhost`;
    await eventually(
      "the router answers for the sandbox",
      () => rawGet(router, name, "/health").catch(() => ({ status: 0 })),
      (r) => r.status === 200,
    );

    // Used through its stable name every 1.5 s for 9 s (the worktree untouched): never stopped.
    for (let i = 0; i < 6; i++) {
      assert.equal((await rawGet(router, name, "/health")).status, 200);
      await sleep(1500);
      const run = await sb.kinfra(["--json", "status", "a-M1"], { cwd: repo });
      assert.equal(
        run.json<{ status: string }>().status,
        "running",
        `stopped although used 1.5s ago (${i}): ${run.stderr} ${await Deno.readTextFile(
          join(sb.home, "idle.json"),
        )} ${await Deno.readTextFile(join(sb.home, "proxy", "activity.json")).catch(() => "")}`,
      );
    }
    // Then left alone, and no kinfra command run: the proxy process's idle part stops it.
    const stopped = await eventually(
      "the proxy stops the idle sandbox",
      async () => {
        // Noted when the stop begins; done once the slot is released.
        const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
        const worktree = registry.worktrees[path];
        return worktree?.slot === undefined
          ? worktree?.idle_stopped as { slot: number } | undefined
          : undefined;
      },
      (v) => v !== undefined,
      25_000,
    );
    assert.equal(stopped!.slot, slot);
    assert.equal((await containersOf(`${stem}-slot-${slot}`)).length, 0);
  },
);

dockerTest(
  "idle_stop never touches another home's sandboxes, and is seen once set while they run",
  async (sb, stem) => {
    const otherHome = join(sb.dir, "other-home");
    const repo = await project(sb, stem, { base: randomBase() });
    const mine = await sb.kinfra(["--json", "impl", "mine/M1"], { cwd: repo });
    assert.equal(mine.code, 0, mine.stderr);
    const theirs = await sb.kinfra(["--json", "impl", "theirs/M1"], {
      cwd: repo,
      env: { KINFRA_HOME: otherHome },
    });
    assert.equal(theirs.code, 0, theirs.stderr);
    const theirSlot = theirs.json<{ slot: number; compose_project: string }>();
    // No idle_stop anywhere yet: commands learn that once and remember it (core/sandbox/idle_windows.ts).
    for (let i = 0; i < 2; i++) {
      assert.equal((await sb.kinfra(["status", "mine-M1"], { cwd: repo })).code, 0);
    }
    // Then this home stops sandboxes after 3 s unused; the other home has no idle_stop at all.
    await Deno.writeTextFile(join(sb.home, "config.toml"), `[slots]\nidle_stop = "3s"\n`);

    // This home's commands observe, wait out the window, and stop its own idle sandbox…
    const stopped = await eventually(
      "this home's sandbox is stopped",
      async () => {
        await sleep(1500);
        return (await sb.kinfra(["--json", "status", "mine-M1"], { cwd: repo })).json<{ status: string }>()
          .status;
      },
      (s) => s === "stopped",
      30_000,
    );
    assert.equal(stopped, "stopped");
    // …and never the other home's, of the same project, just as unused.
    assert.equal((await containersOf(theirSlot.compose_project)).length, 1);
    const other = JSON.parse(await Deno.readTextFile(join(otherHome, "registry.json")));
    assert.equal(other.slots[String(theirSlot.slot)].status, "running");
    assert.equal(
      (await sb.kinfra(["done", "theirs-M1", "--force"], { cwd: repo, env: { KINFRA_HOME: otherHome } }))
        .code,
      0,
    );
  },
);
