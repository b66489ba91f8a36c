/**
 * core/slots/stale.ts: when a slot is stale. Slots are built as registry entries over real temp
 * directories; a dead pid is the pid of a child process that has finished.
 */
import assert from "node:assert/strict";
import { homePaths } from "../../../core/io/home.ts";
import { join } from "../../../core/io/path.ts";
import type { SlotEntry, SlotStatus } from "../../../core/slots/registry.ts";
import { findStale, ownerAlive, staleReason } from "../../../core/slots/stale.ts";

/** The pid of a process that ran and exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

/** A slot whose worktree and slot directory exist (under `dir`), with `status` and `extra`. */
function slot(dir: string, status: SlotStatus, extra: Partial<SlotEntry> = {}): SlotEntry {
  return {
    slot_id: 1,
    project: "shop",
    worktree_path: join(dir, "worktree"),
    slot_dir: join(dir, "slot"),
    compose_file_copy: join(dir, "slot/docker-compose.yml"),
    ports: { WEB: 8081 },
    claimed_at: "2026-01-01T00:00:00Z",
    status,
    ...extra,
  };
}

async function withDirs(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "worktree"));
    await Deno.mkdir(join(dir, "slot"));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ownerAlive() is true for this very process", () => {
  assert.equal(ownerAlive({ pid: Deno.pid, host: Deno.hostname() }), true);
});

Deno.test("ownerAlive() is false for a finished process on this host", async () => {
  assert.equal(ownerAlive({ pid: await deadPid(), host: Deno.hostname() }), false);
});

Deno.test("ownerAlive() never judges an owner on another host by its pid", async () => {
  assert.equal(ownerAlive({ pid: await deadPid(), host: `not-${Deno.hostname()}` }), true);
});

Deno.test("ownerAlive() takes an owner without a pid as alive", () => {
  assert.equal(ownerAlive({}), true);
});

Deno.test("staleReason() calls a running slot with its worktree and slot directory there not stale", () =>
  withDirs((dir) => {
    assert.equal(staleReason(slot(dir, "running")), undefined);
  }));

Deno.test("staleReason() calls a slot whose worktree is gone stale, naming the path", () =>
  withDirs(async (dir) => {
    await Deno.remove(join(dir, "worktree"));
    assert.equal(staleReason(slot(dir, "running")), `its worktree ${join(dir, "worktree")} is gone`);
  }));

Deno.test("staleReason() calls a slot whose slot directory is gone stale, naming the path", () =>
  withDirs(async (dir) => {
    await Deno.remove(join(dir, "slot"));
    assert.equal(staleReason(slot(dir, "stopped")), `its slot directory ${join(dir, "slot")} is gone`);
  }));

Deno.test("staleReason() calls a starting slot with a dead pid stale, naming pid and status", () =>
  withDirs(async (dir) => {
    const pid = await deadPid();
    assert.equal(
      staleReason(slot(dir, "starting", { pid, host: Deno.hostname() })),
      `its kinfra process (pid ${pid}) died while starting`,
    );
  }));

Deno.test("staleReason() calls claiming and stopping slots with a dead pid stale too", () =>
  withDirs(async (dir) => {
    const pid = await deadPid();
    for (const status of ["claiming", "stopping"] as const) {
      assert.match(staleReason(slot(dir, status, { pid }))!, new RegExp(`died while ${status}$`));
    }
  }));

Deno.test("staleReason() does not call a running slot stale for a dead pid (the pid set it up and left)", () =>
  withDirs(async (dir) => {
    assert.equal(staleReason(slot(dir, "running", { pid: await deadPid() })), undefined);
  }));

Deno.test("staleReason() leaves a slot still being set up alone, even before its directories exist", () =>
  withDirs(async (dir) => {
    await Deno.remove(join(dir, "slot"));
    await Deno.remove(join(dir, "worktree"));
    assert.equal(staleReason(slot(dir, "claiming", { pid: Deno.pid, host: Deno.hostname() })), undefined);
  }));

Deno.test("findStale() lists the registry's stale slots with their reasons, and only those", () =>
  withDirs(async (dir) => {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined });
    const gone = slot(dir, "running", { slot_id: 2, worktree_path: join(dir, "gone") });
    const slots = { "1": slot(dir, "running"), "2": gone };
    await Deno.writeTextFile(home.registry, JSON.stringify({ version: 1, slots, worktrees: {} }));
    assert.deepEqual(await findStale({ home }), [{
      slot: gone,
      reason: `its worktree ${join(dir, "gone")} is gone`,
    }]);
  }));
