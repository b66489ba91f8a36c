/**
 * core/slots/slots.ts: slot names read back, which slot a claim gets and why others are skipped
 * (with real bind tests: the ports are held by this process's own sockets), and the claim record.
 */
import { worktreeEntry } from "../_entries.ts";
import type { WorktreeEntry } from "../../../core/slots/registry.ts";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { homePaths } from "../../../core/io/home.ts";
import type { Logger } from "../../../core/io/output.ts";
import { join } from "../../../core/io/path.ts";
import type { PortSetting } from "../../../core/slots/ports.ts";
import type { Registry, SlotEntry } from "../../../core/slots/registry.ts";
import { AlreadyClaimed, claimSlot, firstUsableSlot, warnCloseBases } from "../../../core/slots/slots.ts";
import { composeProject, parseComposeProject, parseSlotDir } from "../../../core/slots/slot_files.ts";
import { kinfraErrorOf } from "../_usage.ts";
import { freePorts } from "../_ports.ts";

Deno.test("composeProject() names a slot's compose project <project>-slot-<n>", () => {
  assert.equal(composeProject("shop", 3), "shop-slot-3");
});

Deno.test("parseComposeProject() reads back a project name that itself contains -slot-", () => {
  assert.deepEqual(parseComposeProject("my-slot-app-slot-12"), { project: "my-slot-app", id: 12 });
});

Deno.test("parseComposeProject() is undefined for a name that is no slot's", () => {
  for (const name of ["shop", "shop-slot-", "shop-slot-x", "shop-1"]) {
    assert.equal(parseComposeProject(name), undefined);
  }
});

Deno.test("parseSlotDir() reads <project>-<n>, the last number being the slot", () => {
  assert.deepEqual(parseSlotDir("shop-api-2-14"), { project: "shop-api-2", id: 14 });
  assert.equal(parseSlotDir("shop"), undefined);
});

/** A base port whose slots 1–5 are free over TCP now: the tests' slots use base + 1 … base + 5. */
const freeBase = () => freePorts(6) - 1;

const EMPTY: Registry = { version: 1, slots: {}, worktrees: {} };

function held(id: number, project: string, ports: Record<string, number>, widths?: Record<string, number>) {
  return {
    slot_id: id,
    project,
    worktree_path: `/w/${project}-${id}`,
    slot_dir: `/s/${project}-${id}`,
    compose_file_copy: `/s/${project}-${id}/docker-compose.yml`,
    ports,
    ...(widths ? { widths } : {}),
    claimed_at: "2026-01-01T00:00:00Z",
    status: "running",
  } satisfies SlotEntry;
}

/** firstUsableSlot() over `registry`, returning the slot id (or undefined) and the skip lines. */
async function first(bases: Record<string, PortSetting>, options: {
  registry?: Registry;
  maxSlots?: number;
  preferred?: number;
  foreign?: string[];
  leftover?: string[];
  protocols?: Record<string, ("tcp" | "udp")[]>;
} = {}) {
  const skipped: string[] = [];
  const found = await firstUsableSlot(options.registry ?? EMPTY, {
    project: "shop",
    bases,
    maxSlots: options.maxSlots ?? 3,
    preferred: options.preferred,
    foreignProjects: new Set(options.foreign ?? []),
    leftoverProjects: new Set(options.leftover ?? []),
    protocols: options.protocols,
  }, (line) => skipped.push(line));
  return { id: found?.id, ports: found?.ports, skipped };
}

Deno.test("firstUsableSlot() gives slot 1 and its ports when nothing is taken", async () => {
  const base = freeBase();
  assert.deepEqual(await first({ WEB: base }), { id: 1, ports: { WEB: base + 1 }, skipped: [] });
});

Deno.test("firstUsableSlot() passes over a slot id the registry holds, silently", async () => {
  const base = freeBase();
  const registry = { ...EMPTY, slots: { "1": held(1, "blog", { X: 1 }) } };
  const found = await first({ WEB: base - 1 }, { registry });
  assert.deepEqual([found.id, found.skipped], [2, []]);
});

Deno.test("firstUsableSlot() skips a slot whose port another slot holds, saying whose", async () => {
  const base = freeBase();
  const registry = { ...EMPTY, slots: { "3": held(3, "blog", { BLOG_PORT: base + 1 }) } };
  const found = await first({ WEB: base }, { registry });
  assert.equal(found.id, 2);
  assert.deepEqual(found.skipped, [
    `Slot 1 skipped: port ${base + 1} (WEB) belongs to slot 3 (blog, BLOG_PORT).`,
  ]);
});

Deno.test("firstUsableSlot() skips a slot whose port lies inside another slot's range", async () => {
  const base = freeBase();
  const registry = { ...EMPTY, slots: { "3": held(3, "blog", { LS: base, LS_END: base + 2 }, { LS: 3 }) } };
  const found = await first({ WEB: base }, { registry, maxSlots: 4 });
  assert.equal(found.id, 3 + 1);
  assert.match(found.skipped[0], /^Slot 1 skipped: port \d+ \(WEB\) belongs to slot 3 \(blog, LS\)\.$/);
});

Deno.test("firstUsableSlot() skips a slot where two of its own variables meet on one port", async () => {
  const base = freeBase();
  const found = await first({ A: base, B: base }, { maxSlots: 1 });
  assert.equal(found.id, undefined);
  assert.deepEqual(found.skipped, [`Slot 1 skipped: port ${base + 1} is both A and B.`]);
});

Deno.test("firstUsableSlot() does not take a range's _END for a second variable on its port", async () => {
  const base = freeBase();
  const found = await first({ LS: { base: base - 2, width: 3 } }, { maxSlots: 1 });
  assert.deepEqual([found.id, found.ports], [1, { LS: base + 1, LS_END: base + 3 }]);
});

Deno.test("firstUsableSlot() skips a slot whose port another process holds", async () => {
  const listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const port = listener.addr.port;
    const found = await first({ WEB: port - 1 }, { maxSlots: 1 });
    assert.deepEqual(found.skipped, [`Slot 1 skipped: port ${port} (WEB) in use by another process.`]);
  } finally {
    listener.close();
  }
});

/** Runs `fn` with a UDP port held on all interfaces. */
/**
 * Runs `fn` while a UDP port is held, one whose TCP twin is free: a port the system hands out for UDP
 * may be in use over TCP by another process, and the TCP-only test below needs it free.
 */
async function withUdpPort(fn: (port: number) => Promise<void>): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "0.0.0.0", resolve));
    const close = () => new Promise<void>((resolve) => socket.close(() => resolve()));
    const port = socket.address().port;
    try {
      Deno.listen({ port }).close();
    } catch (e) {
      await close();
      if (attempt < 20) continue;
      throw e;
    }
    try {
      return await fn(port);
    } finally {
      await close();
    }
  }
}

Deno.test("firstUsableSlot() tests a UDP variable's port over UDP", () =>
  withUdpPort(async (port) => {
    const found = await first({ DNS: port - 1 }, { maxSlots: 1, protocols: { DNS: ["udp"] } });
    assert.deepEqual(found.skipped, [`Slot 1 skipped: port ${port}/udp (DNS) in use by another process.`]);
  }));

Deno.test("firstUsableSlot() lets a TCP-only variable use a port held only over UDP", () =>
  withUdpPort(async (port) => {
    assert.equal((await first({ WEB: port - 1 }, { maxSlots: 1 })).id, 1);
  }));

Deno.test("firstUsableSlot() skips a slot whose compose project belongs to someone else", async () => {
  const found = await first({ WEB: freeBase() }, { foreign: ["shop-slot-1"] });
  assert.equal(found.id, 2);
  assert.deepEqual(found.skipped, [
    "Slot 1 skipped: its compose project already exists on the Docker engine and is not this home's.",
  ]);
});

Deno.test("firstUsableSlot() keeps a slot with leftover volumes for the worktree that left them", async () => {
  const base = freeBase();
  assert.equal((await first({ WEB: base }, { leftover: ["shop-slot-1"] })).id, 2);
  assert.equal((await first({ WEB: base }, { leftover: ["shop-slot-1"], preferred: 1 })).id, 1);
});

Deno.test("firstUsableSlot() tries the preferred slot first", async () => {
  const found = await first({ WEB: freeBase() - 2 }, { preferred: 3 });
  assert.equal(found.id, 3);
});

Deno.test("firstUsableSlot() ignores a preferred slot above the maximum", async () => {
  assert.equal((await first({ WEB: freeBase() }, { preferred: 9, maxSlots: 3 })).id, 1);
});

Deno.test("firstUsableSlot() is undefined when every slot is taken", async () => {
  const registry = { ...EMPTY, slots: { "1": held(1, "blog", { X: 1 }), "2": held(2, "blog", { X: 2 }) } };
  assert.equal((await first({ WEB: freeBase() }, { registry, maxSlots: 2 })).id, undefined);
});

/** A logger that keeps warnings. */
function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = () => {};
  const log = {
    warnings,
    step: none,
    info: none,
    debug: none,
    error: none,
    warn: (m: string) => warnings.push(m),
  };
  return { ...log, child: () => log as unknown as Logger };
}

Deno.test("warnCloseBases() warns when two bases are closer than the slot range, with where to move", () => {
  const log = recorder();
  warnCloseBases({ log } as never, { WEB: 8080, API: 8090 }, 20);
  assert.deepEqual(log.warnings, [
    "WEB (8080) and API (8090) are closer than the 20-slot range, so some slots would share a port; " +
    "kinfra skips those. Start API above 8100 in [sandbox.ports].",
  ]);
});

Deno.test("warnCloseBases() is silent when the bases are a whole range apart", () => {
  const log = recorder();
  warnCloseBases({ log } as never, { WEB: 8080, API: 8101, LS: { base: 9000, width: 5 } }, 20);
  assert.deepEqual(log.warnings, []);
});

/** A registry worktree entry for `path`, with `extra`. */
const worktree = (path: string, extra: Partial<WorktreeEntry> = {}) => ({
  [path]: worktreeEntry({ path, milestone: "M1", ...extra }),
});

async function withHome(fn: (env: Parameters<typeof claimSlot>[0], dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined });
    const log = recorder();
    await fn({ home, log, now: () => new Date("2026-02-03T04:05:06Z") }, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("claimSlot() records a claiming entry with this pid, host, time, slot dir and ports", () =>
  withHome(async (env, dir) => {
    const base = freeBase();
    const entry = await claimSlot(env, {
      project: "shop",
      worktreePath: "/w/a",
      bases: { WEB: base },
      maxSlots: 2,
    });
    assert.deepEqual(entry, {
      slot_id: 1,
      project: "shop",
      worktree_path: "/w/a",
      slot_dir: join(dir, "slots/shop-1"),
      compose_file_copy: join(dir, "slots/shop-1/docker-compose.yml"),
      ports: { WEB: base + 1 },
      claimed_at: "2026-02-03T04:05:06.000Z",
      status: "claiming",
      pid: Deno.pid,
      host: Deno.hostname(),
    });
    const registry = JSON.parse(await Deno.readTextFile(env.home.registry));
    assert.deepEqual(registry.slots["1"], entry);
  }));

Deno.test("claimSlot() writes a sandbox about to start as starting in the claim itself", () =>
  withHome(async (env) => {
    const request = { project: "shop", worktreePath: "/w/a", bases: { WEB: freeBase() }, maxSlots: 2 };
    const entry = await claimSlot(env, { ...request, status: "starting" });
    assert.equal(entry.status, "starting");
    assert.equal(JSON.parse(await Deno.readTextFile(env.home.registry)).slots["1"].status, "starting");
  }));

Deno.test("claimSlot() records ranges' widths, UDP-only variables and HTTP ones", () =>
  withHome(async (env) => {
    const base = freeBase();
    const entry = await claimSlot(env, {
      project: "shop",
      worktreePath: "/w/a",
      bases: { LS: { base: base - 1, width: 2 } },
      protocols: { LS: ["udp"] },
      http: ["LS"],
      maxSlots: 2,
    });
    assert.deepEqual([entry.widths, entry.udp, entry.http], [{ LS: 2 }, ["LS"], ["LS"]]);
  }));

Deno.test("claimSlot() refuses a second slot for the same worktree with AlreadyClaimed", () =>
  withHome(async (env) => {
    const request = { project: "shop", worktreePath: "/w/a", bases: { WEB: freeBase() }, maxSlots: 3 };
    await claimSlot(env, request);
    const e = await kinfraErrorOf(() => claimSlot(env, request));
    assert.ok(e instanceof AlreadyClaimed);
    assert.equal(e.message, `/w/a already has slot 1 (claiming, pid ${Deno.pid}).`);
  }));

Deno.test("claimSlot() fails when every slot is taken, saying how to free one", () =>
  withHome(async (env) => {
    const base = freeBase();
    await claimSlot(env, { project: "shop", worktreePath: "/w/a", bases: { WEB: base }, maxSlots: 1 });
    const e = await kinfraErrorOf(() =>
      claimSlot(env, { project: "blog", worktreePath: "/w/b", bases: { B: base - 1 }, maxSlots: 1 })
    );
    assert.equal(e.message, "No free slot: all 1 slots are taken or their ports are in use.");
    assert.match(e.hint!, /^Finish a sandbox \(`kinfra done`\/`kinfra down`\), run `kinfra gc`/);
  }));

Deno.test("claimSlot() marks the worktree's registry entry with its slot and last slot", () =>
  withHome(async (env) => {
    const worktrees = worktree("/w/a");
    await Deno.writeTextFile(env.home.registry, JSON.stringify({ version: 1, slots: {}, worktrees }));
    await claimSlot(env, { project: "shop", worktreePath: "/w/a", bases: { WEB: freeBase() }, maxSlots: 2 });
    const registry = JSON.parse(await Deno.readTextFile(env.home.registry));
    assert.deepEqual([registry.worktrees["/w/a"].slot, registry.worktrees["/w/a"].last_slot], [1, 1]);
  }));

Deno.test("claimSlot() gives a worktree back the slot it had last", () =>
  withHome(async (env) => {
    const worktrees = worktree("/w/a", { last_slot: 2 });
    await Deno.writeTextFile(env.home.registry, JSON.stringify({ version: 1, slots: {}, worktrees }));
    const bases = { WEB: freeBase() - 1 };
    const entry = await claimSlot(env, { project: "shop", worktreePath: "/w/a", bases, maxSlots: 2 });
    assert.equal(entry.slot_id, 2);
  }));

Deno.test("AlreadyClaimed names a running slot without a pid", () => {
  const e = new AlreadyClaimed({ ...held(2, "shop", {}), worktree_path: "/w/x", pid: 7 });
  assert.equal(e.message, "/w/x already has slot 2 (running).");
});
