/**
 * Stopping a worktree's sandbox: the teardown every stop shares (teardown.ts) with a remote slot
 * released only once its host confirms, then the proxy told. Apart from sandbox.ts (starting),
 * which needs the YAML library: `done` and `down` load none of it (~25 ms of every `done`).
 */
import type { Context } from "../context.ts";
import type { Failure, Hooks } from "../hooks/dispatch.ts";
import type { WorktreeInput } from "../hooks/inputs.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { teardownSlot } from "./teardown.ts";
import { after } from "../io/timers.ts";

/** When the code needed after compose down starts loading: once compose down surely runs. */
const LOAD_AFTER_MS = 50;

/**
 * Stops the sandbox of a worktree: `sandbox.stop` (compose down with the slot dir's copies; a
 * missing slot dir is a warning), `slot.released`, then frees the slot and tells the proxy.
 * Teardown goes on past plugin failures, which are returned.
 *
 * @example
 * const failures = await stopSandbox(ctx, hooks, hookInput(project, entry, {}), slot, messages);
 */
export async function stopSandbox(
  ctx: Context,
  hooks: Hooks,
  worktreeInput: WorktreeInput,
  slot: SlotEntry,
  messages: string[],
): Promise<Failure[]> {
  const failures = await teardownSandbox(ctx, hooks, worktreeInput, slot, messages);
  await tellProxy(ctx);
  return failures;
}

/**
 * `stopSandbox` without telling the proxy: for a caller that calls {@link tellProxy} itself, later
 * (`done` lets the proxy catch up while it removes the worktree). With `defer`, the slot is not
 * freed here: `defer` gets the release, for the caller to run (`done` runs a local slot's while
 * git removes the worktree).
 */
export function teardownSandbox(
  ctx: Context,
  hooks: Hooks,
  worktreeInput: WorktreeInput,
  slot: SlotEntry,
  messages: string[],
  defer?: (release: () => Promise<void>) => void,
): Promise<Failure[]> {
  // What runs after compose down (the release, telling the proxy) loads while it works: a little
  // after this, not at once, when loading would delay compose down's start (it then takes hundreds
  // of ms). Each is imported where it is used too: a faster stop waits only for its own loading.
  after(LOAD_AFTER_MS, () => {
    import("../remote/release.ts").catch(() => {}); // a failure to load is reported where it is used
    import("../proxy/ensure.ts").catch(() => {});
  });
  // A remote slot is released only once its host confirms (core/remote).
  const release = async (s: SlotEntry) => {
    const { releaseChecked } = await import("../remote/release.ts");
    if (!await releaseChecked(ctx, s)) {
      messages.push(`slot ${s.slot_id} stays reserved until host ${s.remote!.host} answers again`);
    }
  };
  return teardownSlot(
    ctx,
    hooks,
    worktreeInput,
    slot,
    messages,
    defer ? (s) => Promise.resolve(defer(() => release(s))) : release,
  );
}

/** The proxy lets go of a released slot's names and canonical ports; never fails (see ensure.ts). */
export async function tellProxy(ctx: Context): Promise<void> {
  await (await import("../proxy/ensure.ts")).reconcileProxy(ctx);
}
