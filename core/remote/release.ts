/**
 * Releasing a remote slot: only once its host confirms nothing of it is left (what teardown missed
 * is purged there); a host that does not answer parks the slot (kept, marked with the host) for
 * the next command's stale repair. Apart from remote_slot.ts so the idle check can release without
 * importing the proxy (which runs the idle check).
 */
import type { Context } from "../context.ts";
import { messageOf } from "../errors.ts";
import { type SlotEntry, updateRegistry } from "../slots/registry.ts";
import { releaseSlot } from "../slots/slots.ts";
import { execOnEngine } from "../io/engine.ts";
import { showEngine } from "../io/engine_address.ts";
import type { Host } from "./hosts.ts";
import { hostDown } from "./ssh.ts";

/**
 * Whether the host still has anything of this slot: false when it is clean, true when containers
 * remain; throws (naming the host) when it does not answer.
 */
async function leftOnHost(ctx: Context, slot: SlotEntry): Promise<boolean> {
  const project = `${slot.project}-slot-${slot.slot_id}`;
  const result = await execOnEngine(ctx.exec, slot.remote!.docker_host, slot.remote!.host)(
    "docker",
    ["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`],
  );
  if (!result.success) {
    throw hostDown(
      { name: slot.remote!.host, endpoint: showEngine(slot.remote!.docker_host) } as Host,
      result.stderr.trim().split("\n").pop() ?? "docker failed",
    );
  }
  return result.stdout.trim() !== "";
}

/**
 * Before a remote slot is released: the host asked whether teardown really
 * removed its containers. When the host does not answer, the slot is parked (kept, marked with the
 * host) and false is returned: the caller must not release it.
 */
export async function settleRemote(
  ctx: Context,
  slot: SlotEntry,
  purge?: () => Promise<unknown>,
): Promise<boolean> {
  if (!slot.remote) return true;
  try {
    if (await leftOnHost(ctx, slot) && purge) {
      await purge();
      if (await leftOnHost(ctx, slot)) throw new Error("containers are still there after the purge");
    }
    return true;
  } catch (e) {
    const why = messageOf(e);
    ctx.log.warn(
      `Slot ${slot.slot_id} stays reserved until host ${slot.remote.host} answers again (${why}); ` +
        "the next kinfra command (or `kinfra gc`) finishes its cleanup.",
    );
    await updateRegistry(ctx.home, (registry) => {
      const current = registry.slots[String(slot.slot_id)];
      if (current?.claimed_at === slot.claimed_at && current.remote) {
        current.remote.unreachable = why;
        current.status = "failed";
      }
    });
    return false;
  }
}

/**
 * Releases a slot; a remote one only once its host confirms nothing of it is left (what teardown
 * missed is purged). False when the host did not answer: the slot is kept, marked, for repair.
 */
export async function releaseChecked(ctx: Context, slot: SlotEntry): Promise<boolean> {
  if (slot.remote) {
    const { purgeSandbox } = await import("../sandbox/runtime.ts");
    const purge = () =>
      purgeSandbox(ctx, slot.project, slot.slot_id, slot.remote!.docker_host, slot.remote!.host);
    if (!await settleRemote(ctx, slot, purge)) return false;
  }
  await releaseSlot(ctx, slot);
  return true;
}
