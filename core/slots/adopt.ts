/**
 * Taking a warm slot (`kinfra warm`, core/sandbox/warm.ts): the registry side, under the lock.
 */
import type { SlotsEnv } from "./slots.ts";
import { type SlotEntry, updateRegistry } from "./registry.ts";

/**
 * Hands a warm slot to a worktree (`impl`), under the lock: the slot becomes the worktree's
 * (`claiming`, this process), exactly as if it had been claimed. Undefined when it is no longer
 * there to take (another `impl` took it, `kinfra warm 0` removed it).
 */
export async function adoptWarm(
  ctx: SlotsEnv,
  warm: SlotEntry,
  worktreePath: string,
): Promise<SlotEntry | undefined> {
  return await updateRegistry(ctx.home, (registry) => {
    const current = registry.slots[String(warm.slot_id)];
    if (!current?.warm || current.claimed_at !== warm.claimed_at || current.status !== "running") {
      return undefined;
    }
    delete current.warm;
    Object.assign(current, {
      worktree_path: worktreePath,
      status: "claiming",
      pid: Deno.pid,
      host: Deno.hostname(),
      claimed_at: ctx.now().toISOString(),
    });
    const worktree = registry.worktrees[worktreePath];
    if (worktree) Object.assign(worktree, { slot: current.slot_id, last_slot: current.slot_id });
    return structuredClone(current);
  });
}
