/**
 * The kinfra proxy process for real: started on demand by `impl`, found and explained by `proxy
 * status` and `doctor`, restarted by the next command after a `kill -9` (the sandbox untouched),
 * gone once nothing needs it — and never recreating a home that was removed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathExists, type Sandbox } from "./helpers.ts";
import { containersOf, dockerTest, httpGet, makeProject, randomBase } from "./sandbox_helpers.ts";
import { alive, eventually, proxyStatus, rawGet, useRouterPort } from "./proxy_helpers.ts";

/** A project with one running sandbox (`impl a/M1`) and the proxy it started: the repo, the worktree, the pid. */
async function sandboxAndProxy(sb: Sandbox, stem: string, env?: Record<string, string>) {
  await useRouterPort(sb);
  const repo = await makeProject(sb, stem, { base: randomBase() });
  const impl = await sb.kinfra(["impl", "a/M1", "--json"], { cwd: repo, env });
  assert.equal(impl.code, 0, impl.stderr);
  const { pid } = await eventually("the proxy", () => proxyStatus(sb), (s) => s.running);
  return { repo, pid: pid!, worktree: impl.json<{ path: string }>().path };
}

dockerTest(
  "impl starts the proxy; a kill -9 loses no sandbox and the next command starts it again",
  async (sb, stem) => {
    const router = await useRouterPort(sb);
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base });
    const impl = await sb.kinfra(["impl", "a/M1", "--json"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    assert.equal(impl.json().url, `http://a-m1.${stem}.localhost:${router}/`);
    const slot = String(impl.json().slot);
    const first = await eventually("the proxy", () => proxyStatus(sb), (s) => s.running);
    assert.deepEqual((await rawGet(router, `a-m1.${stem}.localhost`, "/health")).body, "ok\n");
    // What went through is recorded per slot, for an idle check.
    const activity = await eventually(
      "activity.json",
      () => Deno.readTextFile(join(sb.home, "proxy/activity.json")).then(JSON.parse, () => ({ slots: {} })),
      (a) => a.slots[slot]?.requests >= 1,
    );
    assert.equal(activity.slots[slot].worktree_path, impl.json().path);
    assert.ok(activity.slots[slot].bytes > 0 && Date.parse(activity.slots[slot].last_traffic) > 0);

    const doctor = await sb.kinfra(["doctor", "--json"], { cwd: repo });
    const check = doctor.json<{ checks: { name: string; detail: string }[] }>().checks.find((c) =>
      c.name === "kinfra proxy"
    );
    assert.match(check!.detail, new RegExp(`pid ${first.pid}.*router 127\\.0\\.0\\.1:${router}`));

    Deno.kill(first.pid!, "SIGKILL");
    await eventually("the proxy to die", () => Promise.resolve(alive(first.pid!)), (a) => !a);
    const down = await proxyStatus(sb);
    assert.equal(down.running, false);
    assert.deepEqual(down.needed_by, ["router"]);
    assert.equal(
      (await rawGet(router, `a-m1.${stem}.localhost`, "/health").catch(() => ({ status: 0 }))).status,
      0,
    );
    // The sandbox never noticed.
    assert.equal((await containersOf(impl.json<{ compose_project: string }>().compose_project)).length, 1);
    const port = Object.values(impl.json<{ ports: Record<string, number> }>().ports)[0];
    assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).status, 200);

    const up = await sb.kinfra(["up", "a-M1"], { cwd: repo });
    assert.equal(up.code, 0, up.stderr);
    const again = await eventually("the proxy again", () => proxyStatus(sb), (s) => s.running);
    assert.notEqual(again.pid, first.pid);
    assert.equal((await rawGet(router, `a-m1.${stem}.localhost`, "/health")).body, "ok\n");

    const stop = await sb.kinfra(["proxy", "stop", "--json"], { cwd: repo });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(alive(again.pid!), false);
    assert.equal((await proxyStatus(sb)).running, false);
  },
);

dockerTest(
  "the proxy exits once nothing needs it, leaving no socket, state or lock holder",
  async (sb, stem) => {
    const env = { KINFRA_PROXY_GRACE: "1" };
    const { repo, pid } = await sandboxAndProxy(sb, stem, env);
    const done = await sb.kinfra(["done", "a-M1"], { cwd: repo, env });
    assert.equal(done.code, 0, done.stderr);
    await eventually("the proxy to exit", () => Promise.resolve(alive(pid)), (a) => !a);
    const dir = join(sb.home, "proxy");
    assert.equal(await pathExists(join(dir, "control.sock")), false);
    assert.equal(await pathExists(join(dir, "state.json")), false);
    const lock = await Deno.open(join(dir, "lock"), { read: true, write: true });
    assert.equal(await lock.tryLock(true), true);
    lock.close();
    const status = await proxyStatus(sb);
    assert.deepEqual([status.running, status.needed_by], [false, []]);
  },
);

dockerTest("the proxy of a home that was removed exits and does not create it again", async (sb, stem) => {
  const { pid } = await sandboxAndProxy(sb, stem);
  // As `rm -rf` would; the proxy may still write a line while the tree goes, so retry like rm does.
  await eventually(
    "the home removed",
    () => Deno.remove(sb.home, { recursive: true }).then(() => true, () => false),
    (ok) => ok,
  );
  await eventually("the proxy to exit", () => Promise.resolve(alive(pid)), (a) => !a);
  await new Promise((r) => setTimeout(r, 1500)); // a poll later, still nothing there
  assert.equal(await pathExists(sb.home), false);
});

dockerTest(
  "a router port held by another process is named in proxy status; the sandbox still starts",
  async (sb, stem) => {
    const router = await useRouterPort(sb);
    const squatter = Deno.listen({ hostname: "127.0.0.1", port: router });
    try {
      const repo = await makeProject(sb, stem, { base: randomBase() });
      const impl = await sb.kinfra(["impl", "a/M1"], { cwd: repo });
      assert.equal(impl.code, 0, impl.stderr);
      const status = await eventually("the proxy", () => proxyStatus(sb), (s) => s.running);
      const problems = status.parts!.router.problems as string[];
      assert.match(problems[0], new RegExp(`router port ${router} is held by pid ${Deno.pid} \\(deno`));
      assert.match(problems[0], /\[proxy\] port/);
    } finally {
      squatter.close();
    }
  },
);

dockerTest("a live slot whose worktree was removed by hand keeps no proxy alive", async (sb, stem) => {
  const { pid, worktree } = await sandboxAndProxy(sb, stem, { KINFRA_PROXY_GRACE: "1" });
  // What a test's cleanup (or a user's rm -rf) leaves: the registry still says running.
  await Deno.remove(worktree, { recursive: true });
  await eventually("the proxy to exit", () => Promise.resolve(alive(pid)), (a) => !a);
  assert.deepEqual((await proxyStatus(sb)).needed_by, []);
});

dockerTest(
  "proxy stop ends a proxy that no longer answers (SIGSTOPped) by the pid its lock names",
  async (sb, stem) => {
    const { repo, pid } = await sandboxAndProxy(sb, stem);
    Deno.kill(pid, "SIGSTOP");
    try {
      const stop = await sb.kinfra(["proxy", "stop", "--json"], { cwd: repo });
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stderr, new RegExp(`pid ${pid}\\) does not answer; stopping it with SIGTERM`));
      assert.equal(stop.json().pid, pid);
      await eventually("the proxy gone", () => Promise.resolve(alive(pid)), (a) => !a);
    } finally {
      if (alive(pid)) Deno.kill(pid, "SIGKILL");
    }
    // And the next command that needs it starts a fresh one.
    assert.equal((await sb.kinfra(["up", "a-M1"], { cwd: repo })).code, 0);
    assert.notEqual((await eventually("a new proxy", () => proxyStatus(sb), (s) => s.running)).pid, pid);
  },
);

dockerTest(
  "a proxy whose lock file was removed leaves, so no process runs that kinfra cannot find",
  async (sb, stem) => {
    const { repo, pid } = await sandboxAndProxy(sb, stem);
    // What a cleanup deleting the home around a live sandbox does: the lock goes, the worktree stays.
    await Deno.remove(join(sb.home, "proxy", "lock"));
    await eventually("the proxy to leave", () => Promise.resolve(alive(pid)), (a) => !a);
    const again = await sb.kinfra(["status", "a-M1"], { cwd: repo });
    assert.equal(again.code, 0, again.stderr);
    const next = await eventually("a findable proxy", () => proxyStatus(sb), (s) => s.running);
    assert.notEqual(next.pid, pid);
  },
);

dockerTest(
  "a proxy whose directory rm -rf has emptied writes nothing into it again (rmdir would fail)",
  async (sb, stem) => {
    const { pid } = await sandboxAndProxy(sb, stem);
    // rm -rf's order: everything in proxy/ first, the registry (a wake-up for the proxy) not yet.
    const dir = join(sb.home, "proxy");
    for await (const entry of Deno.readDir(dir)) await Deno.remove(join(dir, entry.name));
    const watcher = Deno.watchFs(dir);
    const created: string[] = [];
    const watching = (async () => {
      for await (const event of watcher) if (event.kind === "create") created.push(...event.paths);
    })();
    const registry = join(sb.home, "registry.json");
    await Deno.writeTextFile(registry, await Deno.readTextFile(registry));
    await eventually("the proxy to leave", () => Promise.resolve(alive(pid)), (a) => !a);
    watcher.close();
    await watching;
    assert.deepEqual(created, []);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  },
);

dockerTest(
  "proxy stop returns once its proxy is gone, though a successor takes the lock the same moment",
  async (sb, stem) => {
    const { repo, pid } = await sandboxAndProxy(sb, stem);
    // What a proxy started meanwhile (another build's, after an upgrade) does: wait for the lock,
    // and hold it from the instant the old one lets go, so the lock is never seen free.
    const lock = join(sb.home, "proxy", "lock");
    const successor = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${JSON.stringify(lock)}, { read: true, write: true });
        await f.lock(true); console.log("locked"); await new Promise(() => setInterval(() => {}, 1000));`,
      ],
      stdout: "piped",
    }).spawn();
    try {
      // Blocked on it: /proc/locks lists the waiter with "->" against the lock file's inode.
      const inode = (await Deno.stat(lock)).ino;
      await eventually(
        "the successor waiting",
        () => Deno.readTextFile("/proc/locks"),
        (locks) => locks.split("\n").some((l) => l.includes("-> FLOCK") && l.includes(`:${inode} `)),
      );
      const stop = await sb.kinfra(["proxy", "stop", "--json"], { cwd: repo });
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(stop.json().pid, pid);
      assert.equal(alive(pid), false);
      const reader = successor.stdout.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value).trim(), "locked");
      reader.releaseLock();
    } finally {
      successor.kill("SIGKILL");
      await successor.status;
      await successor.stdout.cancel().catch(() => {});
    }
  },
);
