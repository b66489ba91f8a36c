/**
 * Slot bookkeeping in a temp home (core/slots/slots.ts): a status change or a release touches the
 * registry only while the entry is still the same claim, and the reader gets its own copy.
 */
import assert from "node:assert/strict";
import { homePaths } from "../../../core/io/home.ts";
import { silentLogger } from "../../../core/io/output.ts";
import { join } from "../../../core/io/path.ts";
import type { Registry, SlotEntry } from "../../../core/slots/registry.ts";
import { releaseSlot, setSlotStatus, type SlotsEnv } from "../../../core/slots/slots.ts";
import { slotOf } from "../../../core/slots/registry.ts";
import { worktreeEntry } from "../_entries.ts";

const SLOT = (dir: string): SlotEntry => ({
  slot_id: 1,
  project: "shop",
  worktree_path: "/w/a",
  slot_dir: join(dir, "slots/shop-1"),
  compose_file_copy: join(dir, "slots/shop-1/docker-compose.yml"),
  ports: { WEB: 8081 },
  claimed_at: "2026-01-01T00:00:00.000Z",
  status: "starting",
});

const WORKTREE = worktreeEntry({ milestone: "M1", slot: 1, last_slot: 1 });

/** Runs `fn` with a temp home whose registry holds SLOT and its worktree, and the slot directory on disk. */
async function withSlot(
  fn: (env: SlotsEnv, slot: SlotEntry, read: () => Promise<Registry>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined });
    const slot = SLOT(dir);
    await Deno.mkdir(slot.slot_dir, { recursive: true });
    await Deno.writeTextFile(
      home.registry,
      JSON.stringify({ version: 1, slots: { "1": slot }, worktrees: { "/w/a": WORKTREE } }),
    );
    const read = async () => JSON.parse(await Deno.readTextFile(home.registry));
    await fn({ home, log: silentLogger, now: () => new Date() }, structuredClone(slot), read);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("setSlotStatus() records the new status, in the registry and on the entry given", () =>
  withSlot(async (env, slot, read) => {
    await setSlotStatus(env, slot, "running");
    assert.equal((await read()).slots["1"].status, "running");
    assert.equal(slot.status, "running");
  }));

Deno.test("setSlotStatus() leaves a slot claimed again by someone else alone", () =>
  withSlot(async (env, slot, read) => {
    await setSlotStatus(env, { ...slot, claimed_at: "2025-12-31T00:00:00.000Z" }, "running");
    assert.equal((await read()).slots["1"].status, "starting");
  }));

Deno.test("releaseSlot() frees the registry entry, removes the slot directory and the worktree's slot", () =>
  withSlot(async (env, slot, read) => {
    assert.equal(await releaseSlot(env, slot), true);
    const registry = await read();
    assert.deepEqual(registry.slots, {});
    assert.equal(registry.worktrees["/w/a"].slot, undefined);
    assert.equal(registry.worktrees["/w/a"].last_slot, 1, "the slot it had last is kept");
    await assert.rejects(() => Deno.stat(slot.slot_dir), Deno.errors.NotFound);
  }));

Deno.test("releaseSlot() releases nothing when the entry is another claim now", () =>
  withSlot(async (env, slot, read) => {
    assert.equal(await releaseSlot(env, { ...slot, claimed_at: "2025-12-31T00:00:00.000Z" }), false);
    assert.ok((await read()).slots["1"]);
    assert.ok((await Deno.stat(slot.slot_dir)).isDirectory);
  }));

Deno.test("releaseSlot() releases nothing when the caller's stale check no longer holds", () =>
  withSlot(async (env, slot, read) => {
    assert.equal(await releaseSlot(env, slot, () => false), false);
    assert.ok((await read()).slots["1"]);
  }));

Deno.test("releaseSlot() succeeds when the slot directory is already gone", () =>
  withSlot(async (env, slot, read) => {
    await Deno.remove(slot.slot_dir, { recursive: true });
    assert.equal(await releaseSlot(env, slot), true);
    assert.deepEqual((await read()).slots, {});
  }));

Deno.test("slotOf() finds a worktree's slot and hands out a copy the caller may change", () =>
  withSlot(async (env, slot) => {
    const found = (await slotOf(env, "/w/a"))!;
    assert.deepEqual(found, slot);
    found.status = "running"; // the shared registry read is frozen: this must be a private copy
    assert.equal((await slotOf(env, "/w/a"))!.status, "starting");
  }));

Deno.test("slotOf() is undefined for a worktree without a slot", () =>
  withSlot(async (env) => {
    assert.equal(await slotOf(env, "/w/other"), undefined);
  }));
