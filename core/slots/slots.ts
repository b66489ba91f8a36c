/**
 * Slot allocation (README, "How a sandbox starts"). Under the registry lock: take the lowest free slot id whose every port
 * passes the bind test, log why each skipped slot was skipped, write the claim (status `claiming`,
 * pid, host) and release the lock before any slow work.
 */
import type { HomePaths } from "../io/home.ts";
import type { Logger } from "../io/output.ts";
import { KinfraError } from "../errors.ts";
import { expandPorts, isPortFree, type PortSetting, type Protocol, rangeWidths, slotPorts } from "./ports.ts";
import { composeProject, slotDir, slotFiles } from "./slot_files.ts";
import { keptForIdle } from "./kept.ts";
export { warnCloseBases } from "./close_bases.ts";
import {
  type Registry,
  type RemoteSlot,
  type SlotEntry,
  type SlotStatus,
  updateRegistry,
  type WarmSlot,
} from "./registry.ts";

/** What slot bookkeeping needs of the running command: the home, a logger and the clock. */
export interface SlotsEnv {
  home: HomePaths;
  log: Logger;
  now(): Date;
}

export interface ClaimRequest {
  project: string;
  worktreePath: string;
  bases: Record<string, PortSetting>;
  maxSlots: number;
  /** The protocols each variable is published with (default tcp), for the bind test. */
  protocols?: Record<string, Protocol[]>;
  /** Compose projects on the engine that belong to someone else (another home, or nobody's). */
  foreignProjects?: Set<string>;
  /**
   * This home's compose projects still on the engine: a slot whose project is among them and that
   * no registry entry holds has leftover data (volumes kept by `down` or `done --keep-volumes`).
   * Only the worktree that left it there (`preferred`) gets that slot again.
   */
  leftoverProjects?: Set<string>;
  /** The slot tried first: the one this worktree had last. */
  preferred?: number;
  /** Port variables that serve HTTP, kept with the slot for links. */
  http?: string[];
  /** The variable the sandbox's stable name (`kinfra proxy`'s router) leads to. */
  primary?: string;
  /** A sandbox on a remote host, and the ports in use there (the local bind test runs too: tunnels listen here). */
  remote?: RemoteSlot;
  remoteBusy?: { host: string; tcp: Set<number>; udp: Set<number> };
  /** A warm sandbox (`kinfra warm`): no worktree yet; `worktree_path` is the slot directory. */
  warm?: WarmSlot;
  /**
   * The status the claim is written with (default `claiming`): `starting` for a sandbox whose start
   * follows at once, which saves the registry write that would say so a moment later.
   */
  status?: "claiming" | "starting";
}

/**
 * Claims the lowest usable slot and records it; throws when every slot is taken or blocked.
 *
 * @example
 * const slot = await claimSlot(ctx, { project: "shop", worktreePath, bases: { SHOP_WEB_PORT: 8080 }, maxSlots: 20 });
 */
export async function claimSlot(ctx: SlotsEnv, request: ClaimRequest): Promise<SlotEntry> {
  const skipped: string[] = [];
  const udpOnly = Object.entries(request.protocols ?? {}).filter(([, p]) => !p.includes("tcp")).map(([k]) =>
    k
  );
  const alsoUdp = Object.entries(request.protocols ?? {}).filter(([, p]) => p.length > 1).map(([k]) => k);
  const entry = await updateRegistry(ctx.home, async (registry) => {
    // One worktree has at most one slot, whatever the timing (three concurrent `up`s).
    const held = Object.values(registry.slots).find((s) => s.worktree_path === request.worktreePath);
    if (held && !request.warm) throw new AlreadyClaimed(held);
    const preferred = request.warm ? undefined : registry.worktrees[request.worktreePath]?.last_slot;
    const found = await firstUsableSlot(registry, { ...request, preferred }, (line) => {
      ctx.log.info(line);
      skipped.push(line);
    });
    if (!found) return undefined;
    const { id, ports } = found;
    const dir = slotDir(ctx, request.project, id);
    const claim: SlotEntry = {
      slot_id: id,
      project: request.project,
      worktree_path: request.warm ? dir : request.worktreePath,
      slot_dir: dir,
      compose_file_copy: slotFiles(dir).compose,
      ports,
      ...(rangeWidths(request.bases) && { widths: rangeWidths(request.bases) }),
      ...(udpOnly.length && { udp: udpOnly }),
      ...(request.http?.length && { http: request.http }),
      ...(alsoUdp.length && { also_udp: alsoUdp }),
      ...(request.primary && { primary: request.primary }),
      claimed_at: ctx.now().toISOString(),
      status: request.status ?? "claiming",
      pid: Deno.pid,
      host: Deno.hostname(),
      ...(request.remote && { remote: request.remote }),
      ...(request.warm && { warm: request.warm }),
    };
    registry.slots[String(id)] = claim;
    const worktree = request.warm ? undefined : registry.worktrees[request.worktreePath];
    if (worktree) {
      Object.assign(worktree, { slot: id, last_slot: id });
      delete worktree.idle_stopped;
      // `up` goes back to the same host; `done` removes the code copy there even after `down`.
      if (request.remote) {
        Object.assign(worktree, { last_host: request.remote.host, remote_copy: request.remote });
      } else delete worktree.last_host;
    }
    return claim;
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

/**
 * The lowest slot id usable for `request` in `registry`, with its ports; each skipped slot is told
 * to `skip` with the reason ("Slot 1 skipped: port 8081 (…) in use by another process."). Used by
 * the claim (under the lock) and by `impl --dry-run` (a prediction).
 */
export async function firstUsableSlot(
  registry: Registry,
  request: Omit<ClaimRequest, "worktreePath" | "http" | "primary" | "remote">,
  skip: (line: string) => void = () => {},
): Promise<{ id: number; ports: Record<string, number> } | undefined> {
  const taken = takenPorts(registry);
  const widths = rangeWidths(request.bases);
  const { preferred } = request;
  const order = Array.from({ length: request.maxSlots }, (_, i) => i + 1);
  if (preferred && preferred <= request.maxSlots) order.unshift(...order.splice(preferred - 1, 1));
  for (const id of order) {
    if (registry.slots[String(id)]) continue;
    const ports = slotPorts(request.bases, id);
    const name = composeProject(request.project, id);
    const reason = keptForIdle(registry, id, preferred) ??
      await whyUnusable(expandPorts(ports, widths), taken, request.protocols ?? {}, request.remoteBusy) ??
      (request.foreignProjects?.has(name)
        ? "its compose project already exists on the Docker engine and is not this home's"
        : request.leftoverProjects?.has(name) && id !== preferred
        ? `${name} is still on the Docker engine (kept volumes, or left over); \`kinfra gc\` removes it`
        : undefined);
    if (!reason) return { id, ports };
    skip(`Slot ${id} skipped: ${reason}.`);
  }
  return undefined;
}

/** Thrown when the worktree already has a slot (a concurrent `up`, or one already running). */
export class AlreadyClaimed extends KinfraError {
  constructor(readonly slot: SlotEntry) {
    super(
      `${slot.worktree_path} already has slot ${slot.slot_id} (${slot.status}${
        slot.status === "running" ? "" : `, pid ${slot.pid}`
      }).`,
      { hint: "One worktree has one sandbox: see `kinfra status`, or `kinfra down` it first." },
    );
  }
}

/** Every port recorded for a slot, with who has it: "slot 3 (shop, SHOP_WEB_PORT)". */
function takenPorts(registry: Registry): Map<number, string> {
  const taken = new Map<number, string>();
  for (const slot of Object.values(registry.slots)) {
    for (const { name, port } of expandPorts(slot.ports, slot.widths)) {
      taken.set(port, `slot ${slot.slot_id} (${slot.project}, ${name})`);
    }
  }
  return taken;
}

/**
 * Why a slot cannot be used, or undefined: a port another slot has, a port two of its own
 * variables share, a port something else holds (tested with each variable's own protocols).
 */
async function whyUnusable(
  ports: { name: string; port: number }[],
  taken: Map<number, string>,
  protocols: Record<string, Protocol[]>,
  remoteBusy?: ClaimRequest["remoteBusy"],
): Promise<string | undefined> {
  const own = new Map<number, string>();
  for (const { name, port } of ports) {
    const owner = taken.get(port);
    if (owner) return `port ${port} (${name}) belongs to ${owner}`;
    // VAR_END lies inside VAR's own range; any other coincidence is two variables on one port.
    const other = own.get(port);
    if (other && other !== name && other !== name.replace(/_END$/, "")) {
      return `port ${port} is both ${other} and ${name}`;
    }
    own.set(port, name);
  }
  for (const { name, port } of ports) {
    for (const protocol of protocols[name.replace(/_END$/, "")] ?? ["tcp"]) {
      if (remoteBusy?.[protocol].has(port)) {
        return `port ${port}${protocol === "udp" ? "/udp" : ""} (${name}) in use on host ${remoteBusy.host}`;
      }
      if (!await isPortFree(port, protocol)) {
        return `port ${port}${protocol === "udp" ? "/udp" : ""} (${name}) in use by another process`;
      }
    }
  }
  return undefined;
}

/** Moves a slot to a new status (only if it is still the claim we made), with other fields if given. */
export async function setSlotStatus(
  ctx: SlotsEnv,
  slot: SlotEntry,
  status: SlotStatus,
  extra?: Pick<SlotEntry, "routes">,
): Promise<void> {
  await updateRegistry(ctx.home, (registry) => {
    const current = registry.slots[String(slot.slot_id)];
    if (current && current.claimed_at === slot.claimed_at) Object.assign(current, extra, { status });
  });
  Object.assign(slot, extra, { status });
}

/**
 * Removes a slot from the registry and its directory from disk — both under the registry lock, and
 * only while the entry is still this claim (same `claimed_at`): a slot released and claimed again
 * by someone else in between keeps its new entry and its new directory. Returns whether it did.
 */
export async function releaseSlot(
  ctx: SlotsEnv,
  slot: Pick<SlotEntry, "slot_id" | "slot_dir" | "worktree_path" | "claimed_at">,
  stillStale?: (current: SlotEntry) => boolean | Promise<boolean>,
): Promise<boolean> {
  return await updateRegistry(ctx.home, async (registry) => {
    const current = registry.slots[String(slot.slot_id)];
    if (current?.claimed_at !== slot.claimed_at) return false;
    if (stillStale && !await stillStale(current)) return false;
    delete registry.slots[String(slot.slot_id)];
    const worktree = registry.worktrees[slot.worktree_path];
    if (worktree?.slot === slot.slot_id) delete worktree.slot;
    await Deno.remove(slot.slot_dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return true;
  });
}
