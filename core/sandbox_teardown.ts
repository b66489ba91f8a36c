/** Stopping a worktree's sandbox and releasing its slot: `sandbox.stop` then `slot.released`. */
import type { Context } from "./context.ts";
import type { Failure, Hooks } from "./hooks.ts";
import type { HookInput } from "./plugin_api.ts";
import { updateRegistry } from "./registry.ts";

/** Runs the sandbox teardown events and frees the slot; returns plugin failures (teardown goes on). */
export async function releaseSandbox(
  ctx: Context,
  hooks: Hooks,
  input: HookInput,
  slotId: number,
  messages: string[],
): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (const event of ["sandbox.stop", "slot.released"] as const) {
    const { replies, failures: failed } = await hooks.teardown(event, input);
    replies.forEach((r) => messages.push(...r.result.messages ?? []));
    failures.push(...failed);
  }
  await updateRegistry(ctx.home, (reg) => {
    delete reg.slots[String(slotId)];
  });
  return failures;
}
