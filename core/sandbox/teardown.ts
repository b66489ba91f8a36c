/**
 * A sandbox's teardown, the part every stop shares: `sandbox.stop` (compose down with the slot
 * dir's copies), `slot.released`, then the slot is freed. `stopSandbox` (stop.ts) adds telling
 * the proxy process; the idle check (run inside that process too) uses this alone, and the process
 * follows the registry by itself.
 */
import type { Context } from "../context.ts";
import { type Failure, type Hooks, messagesOf } from "../hooks/dispatch.ts";
import { withSlot, type WorktreeInput } from "../hooks/inputs.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { releaseSlot, setSlotStatus } from "../slots/slots.ts";

/**
 * Stops the slot's sandbox and frees the slot (`release`: how; a remote slot's waits for its host);
 * teardown goes on past plugin failures, which are returned.
 */
export async function teardownSlot(
  ctx: Context,
  hooks: Hooks,
  worktreeInput: WorktreeInput,
  slot: SlotEntry,
  messages: string[],
  release: (slot: SlotEntry) => Promise<unknown> = (s) => releaseSlot(ctx, s),
): Promise<Failure[]> {
  const input = withSlot(worktreeInput, slot);
  await setSlotStatus(ctx, slot, "stopping");
  const failures: Failure[] = [];
  for (const event of ["sandbox.stop", "slot.released"] as const) {
    const { replies, failures: failed } = await hooks.teardown(event, input);
    messages.push(...messagesOf(replies));
    failures.push(...failed);
  }
  await release(slot);
  return failures;
}
