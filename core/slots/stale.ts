/**
 * Stale slot detection and repair (docs/guarantees.md, "Concurrency"). A slot is stale when its worktree or slot
 * directory is gone (and nobody is still setting it up), or when it is mid-transition
 * (`claiming`, `starting`, `stopping`) and the process that owns it is dead. Repairing one needs the
 * plugins, so it lives with the sandbox (core/sandbox/repair.ts).
 */
import type { HomePaths } from "../io/home.ts";
import { existsSync } from "../io/home.ts";
import { readRegistry, type SlotEntry } from "./registry.ts";

export interface StaleSlot {
  slot: SlotEntry;
  reason: string;
}

/** Statuses of a slot someone is still setting up or tearing down. */
export const TRANSIENT = new Set(["claiming", "starting", "stopping"]);

/** True when the owner's pid runs on this host (an owner on another host is never judged by pid). */
export function ownerAlive(owner: { pid?: number; host?: string }): boolean {
  if (owner.pid === undefined || (owner.host && owner.host !== Deno.hostname())) return true;
  try {
    Deno.statSync(`/proc/${owner.pid}`);
    return true;
  } catch {
    return Deno.build.os !== "linux"; // without /proc we cannot tell; assume alive
  }
}

/** Why a slot is stale, or undefined when it is not. */
export function staleReason(slot: SlotEntry): string | undefined {
  if (slot.remote?.unreachable) {
    return `its host ${slot.remote.host} did not answer while it was torn down (${slot.remote.unreachable})`;
  }
  const busy = TRANSIENT.has(slot.status) && ownerAlive(slot);
  if (TRANSIENT.has(slot.status) && !ownerAlive(slot)) {
    return `its kinfra process (pid ${slot.pid}) died while ${slot.status}`;
  }
  if (busy) return undefined;
  if (!existsSync(slot.worktree_path)) return `its worktree ${slot.worktree_path} is gone`;
  if (!existsSync(slot.slot_dir)) return `its slot directory ${slot.slot_dir} is gone`;
  return undefined;
}

export async function findStale(ctx: { home: HomePaths }): Promise<StaleSlot[]> {
  const registry = await readRegistry(ctx.home);
  const stale: StaleSlot[] = [];
  for (const slot of Object.values(registry.slots)) {
    const reason = staleReason(slot);
    if (reason) stale.push({ slot, reason });
  }
  return stale;
}
