/**
 * Slot allocation (SPEC §6). Under the registry lock: take the lowest free slot id whose every port
 * passes the bind test, log why each skipped slot was skipped, write the claim (status `claiming`,
 * pid, host) and release the lock before any slow work.
 */
import { join } from "node:path";
import type { Context } from "./context.ts";
import { KinfraError } from "./errors.ts";
import { isPortFree, slotPorts } from "./ports.ts";
import { readRegistry, type SlotEntry, type SlotStatus, updateRegistry } from "./registry.ts";

export interface ClaimRequest {
  project: string;
  worktreePath: string;
  bases: Record<string, number>;
  maxSlots: number;
}

/** The compose project name of a slot: `<project>-slot-<n>`. */
export const composeProject = (project: string, slot: number) => `${project}-slot-${slot}`;

/** The slot directory: `<home>/slots/<project>-<n>`. */
export const slotDir = (ctx: Context, project: string, slot: number) =>
  join(ctx.home.slots, `${project}-${slot}`);

/**
 * Claims the lowest usable slot and records it; throws when every slot is taken or blocked.
 *
 * @example
 * const slot = await claimSlot(ctx, { project: "shop", worktreePath, bases: { SHOP_WEB_PORT: 8080 }, maxSlots: 20 });
 */
export async function claimSlot(ctx: Context, request: ClaimRequest): Promise<SlotEntry> {
  const skipped: string[] = [];
  const entry = await updateRegistry(ctx.home, (registry) => {
    for (let id = 1; id <= request.maxSlots; id++) {
      if (registry.slots[String(id)]) continue;
      const ports = slotPorts(request.bases, id);
      const busy = Object.entries(ports).find(([, port]) => !isPortFree(port));
      if (busy) {
        const reason = `Slot ${id} skipped: port ${busy[1]} (${busy[0]}) in use by another process.`;
        ctx.log.info(reason);
        skipped.push(reason);
        continue;
      }
      const dir = slotDir(ctx, request.project, id);
      const claim: SlotEntry = {
        slot_id: id,
        project: request.project,
        worktree_path: request.worktreePath,
        slot_dir: dir,
        compose_file_copy: join(dir, "docker-compose.yml"),
        ports,
        claimed_at: ctx.now().toISOString(),
        status: "claiming",
        pid: Deno.pid,
        host: Deno.hostname(),
      };
      registry.slots[String(id)] = claim;
      const worktree = registry.worktrees[request.worktreePath];
      if (worktree) worktree.slot = id;
      return claim;
    }
    return undefined;
  });
  if (!entry) {
    throw new KinfraError(
      `No free slot: all ${request.maxSlots} slots are taken or their ports are in use.`,
      {
        hint:
          "Finish a sandbox (`kinfra done`/`kinfra down`), run `kinfra gc`, or raise [slots] max in the global config.",
        details: skipped,
      },
    );
  }
  return entry;
}

/** Moves a slot to a new status (only if it is still the claim we made). */
export async function setSlotStatus(ctx: Context, slot: SlotEntry, status: SlotStatus): Promise<void> {
  await updateRegistry(ctx.home, (registry) => {
    const current = registry.slots[String(slot.slot_id)];
    if (current && current.claimed_at === slot.claimed_at) current.status = status;
  });
  slot.status = status;
}

/** Removes a slot from the registry, its directory from disk, and the link from its worktree. */
export async function releaseSlot(
  ctx: Context,
  slot: Pick<SlotEntry, "slot_id" | "slot_dir" | "worktree_path">,
): Promise<void> {
  await updateRegistry(ctx.home, (registry) => {
    delete registry.slots[String(slot.slot_id)];
    const worktree = registry.worktrees[slot.worktree_path];
    if (worktree?.slot === slot.slot_id) delete worktree.slot;
  });
  await Deno.remove(slot.slot_dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** The registry's slot for a worktree, if it has one. */
export async function slotOf(ctx: Context, worktreePath: string): Promise<SlotEntry | undefined> {
  const registry = await readRegistry(ctx.home);
  return Object.values(registry.slots).find((s) => s.worktree_path === worktreePath);
}
