/**
 * Stale slot repair: the plugins purge the sandbox (`sandbox.purge`: whatever carries this home's
 * label), then the slot dir and the registry entry go. Detection is core/slots/stale.ts.
 */
import type { Context } from "../context.ts";
import { findStale, staleReason, type StaleSlot } from "../slots/stale.ts";
import { purgeSandbox } from "./runtime.ts";

/**
 * Finds and repairs stale slots; returns what was repaired. Containers are stopped before the
 * registry entry goes, so nobody can claim the slot while its old containers still run; only
 * objects carrying this home's label are removed. The entry is dropped under the lock, and only if
 * it is still the same claim and still stale then (another process may have repaired or retaken it).
 */
export async function cleanStale(ctx: Context, options: { dryRun?: boolean } = {}): Promise<StaleSlot[]> {
  const stale = await findStale(ctx);
  for (const { slot, reason } of stale) {
    ctx.log.warn(
      `Slot ${slot.slot_id} (${slot.project}) is stale: ${reason}.${
        options.dryRun ? "" : " Cleaning it up."
      }`,
    );
    if (options.dryRun) continue;
    const [dockerHost, hostName] = [slot.remote?.docker_host, slot.remote?.host];
    await purgeSandbox(ctx, slot.project, slot.slot_id, dockerHost, hostName);
    // A remote slot is released only once its host confirms nothing of it is left.
    if (slot.remote) {
      const { settleRemote } = await import("../remote/remote_slot.ts");
      const purge = () => purgeSandbox(ctx, slot.project, slot.slot_id, dockerHost, hostName);
      if (!await settleRemote(ctx, slot, purge)) continue;
    }
    const { releaseSlot } = await import("../slots/slots.ts"); // slot allocation's code, only for a repair
    await releaseSlot(ctx, slot, (current) => staleReason(current) !== undefined);
  }
  return stale;
}
