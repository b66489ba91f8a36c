/**
 * Checkouts as the registry records them (`checkouts`: project → worktree path) and the canonical
 * ports they give: each `[sandbox.ports]` base — `base … base + width − 1` for a range — on
 * 127.0.0.1, leading to the same offset of the checked-out sandbox's ports. The bases are derived
 * from the slot itself (`port − slot · width`), so the proxy needs nothing but the registry.
 */
import type { Protocol } from "../slots/ports.ts";
import type { Registry, SlotEntry, WorktreeEntry } from "../slots/registry.ts";
import { isLive } from "./names.ts";

export interface CanonicalPort {
  variable: string;
  /** The canonical port (the variable's base), on 127.0.0.1. */
  port: number;
  /** The sandbox's port it leads to. */
  target: number;
  protocol: Protocol;
}

export interface Checkout {
  project: string;
  worktree: WorktreeEntry;
  /** The worktree's live slot; undefined while its sandbox is down (its ports are then released). */
  slot?: SlotEntry;
}

/** The protocols a slot publishes a variable with. */
export function protocolsOf(slot: Pick<SlotEntry, "udp" | "also_udp">, variable: string): Protocol[] {
  if (slot.udp?.includes(variable)) return ["udp"];
  return slot.also_udp?.includes(variable) ? ["tcp", "udp"] : ["tcp"];
}

/**
 * The canonical ports of a slot: every port of every variable, at its base.
 *
 * @example
 * canonicalPorts({ slot_id: 2, ports: { WEB: 8082 }, … }); // [{ variable: "WEB", port: 8080, target: 8082, protocol: "tcp" }]
 */
export function canonicalPorts(slot: SlotEntry): CanonicalPort[] {
  const list: CanonicalPort[] = [];
  for (const [variable, start] of Object.entries(slot.ports)) {
    if (variable.endsWith("_END") && slot.widths?.[variable.slice(0, -4)]) continue;
    const width = slot.widths?.[variable] ?? 1;
    const base = start - slot.slot_id * width;
    for (const protocol of protocolsOf(slot, variable)) {
      for (let i = 0; i < width; i++) list.push({ variable, port: base + i, target: start + i, protocol });
    }
  }
  return list;
}

/** Every project's checkout whose worktree still exists in the registry, with its live slot if any. */
export function checkoutsOf(registry: Registry): Checkout[] {
  const list: Checkout[] = [];
  for (const [project, path] of Object.entries(registry.checkouts ?? {})) {
    const worktree = registry.worktrees[path];
    if (!worktree) continue; // `done` removed it: its checkout went with it
    const slot = Object.values(registry.slots).find((s) => s.worktree_path === path && isLive(s));
    list.push({ project, worktree, slot });
  }
  return list;
}

/** True when `path` is its project's checked-out worktree. */
export function isCheckedOut(registry: Registry, path: string): boolean {
  const worktree = registry.worktrees[path];
  return Boolean(worktree) && registry.checkouts?.[worktree.project] === path;
}
