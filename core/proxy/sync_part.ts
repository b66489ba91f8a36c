/**
 * The sync part: the code of a remote slot stays local, where the agent edits it, and its copy on
 * the host follows within about a second — a watcher on the worktree, a short debounce (a save or
 * a checkout is one burst), then one pass: rsync over ssh (remote/sync.ts), or the engine API for a
 * tcp:// host (remote/engine_sync.ts); either way `.git` and ignored files stay here and deletions
 * carry over. A pass that fails is tried again; `status()` says, per slot, how the last one went.
 * A project's `shared` mounts (ssh hosts) have one copy per host, fed the same way by one watcher
 * whichever of its slots there need it (`shared` in the status).
 */
import { messageOf } from "../errors.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { getHost } from "../remote/hosts.ts";
import { syncOnce } from "../remote/sync.ts";
import { syncShared } from "../remote/shared_copy.ts";
import type { PartEnv, ProxyPart, ProxyWorld } from "./part.ts";

const DEBOUNCE_MS = 150;
const RETRY_MS = 1000;

interface Sync {
  slot: SlotEntry;
  /** What it watches, and one pass over it. */
  paths: string[];
  run: () => Promise<void>;
  watcher?: Deno.FsWatcher;
  pending: boolean;
  running: boolean;
  timer?: ReturnType<typeof setTimeout>;
  state: "idle" | "syncing" | "error";
  last_sync?: string;
  last_ms?: number;
  error?: string;
  closed: boolean;
}

/**
 * One pass by the slot's transport: rsync over ssh into the copy's directory, or for a tcp:// host
 * the engine API into its volumes (remote/engine_sync.ts).
 */
async function passFor(env: PartEnv, slot: SlotEntry): Promise<void> {
  const remote = slot.remote!;
  if (remote.volumes) {
    const { syncSlotVolumes } = await import("../remote/volume_copy.ts");
    await syncSlotVolumes(env.ctx.exec, env.home.root, await env.ctx.homeId(), remote, slot.worktree_path);
    return;
  }
  const host = await getHost(env.home, remote.host);
  await syncOnce(env.ctx.exec, host, slot.worktree_path, remote.copy!, undefined, true);
}

const key = (slot: SlotEntry) => `${slot.slot_id}:${slot.claimed_at}`;
const syncedSlots = (world: ProxyWorld) =>
  Object.values(world.registry.slots).filter((s) => s.remote?.copy && !s.remote.unreachable);
/** One per shared copy: the first slot (by id) using it stands for all. */
const sharedKey = (slot: SlotEntry) => `${slot.remote!.host}:${slot.remote!.shared!.copy}`;
const sharedCopies = (world: ProxyWorld) => {
  const copies = new Map<string, SlotEntry>();
  for (const s of syncedSlots(world).filter((s) => s.remote!.shared)) {
    if (!copies.has(sharedKey(s))) copies.set(sharedKey(s), s);
  }
  return copies;
};

export function syncPart(env: PartEnv): ProxyPart {
  const syncs = new Map<string, Sync>();
  const shared = new Map<string, Sync>();

  const pass = async (s: Sync) => {
    if (s.running || s.closed) return;
    s.running = true;
    s.pending = false;
    s.state = "syncing";
    const start = performance.now();
    try {
      await s.run();
      Object.assign(s, {
        state: "idle",
        last_sync: new Date().toISOString(),
        last_ms: Math.round(performance.now() - start),
        error: undefined,
      });
    } catch (e) {
      Object.assign(s, { state: "error", error: messageOf(e) });
      env.log(`sync: slot ${s.slot.slot_id}: ${s.error}`);
      s.pending = true;
      schedule(s, RETRY_MS);
    } finally {
      s.running = false;
    }
    if (s.pending) schedule(s, DEBOUNCE_MS);
  };

  const schedule = (s: Sync, ms: number) => {
    if (s.closed) return;
    s.pending = true;
    clearTimeout(s.timer);
    s.timer = setTimeout(() => pass(s), ms);
  };

  const watch = (s: Sync) => {
    try {
      s.watcher = Deno.watchFs(s.paths, { recursive: true });
    } catch (e) {
      Object.assign(s, { state: "error", error: `cannot watch ${s.paths.join(", ")}: ${messageOf(e)}` });
      return;
    }
    (async () => {
      for await (const event of s.watcher!) {
        if (event.paths.every((p) => p.includes("/.git/") || p.endsWith("/.git"))) continue;
        schedule(s, DEBOUNCE_MS);
      }
    })().catch(() => {});
  };

  const close = (s: Sync) => {
    s.closed = true;
    clearTimeout(s.timer);
    try {
      s.watcher?.close();
    } catch { /* closed */ }
  };

  const open = (slot: SlotEntry, paths: string[], run: () => Promise<void>): Sync => {
    const s: Sync = { slot, paths, run, pending: false, running: false, state: "idle", closed: false };
    watch(s);
    schedule(s, 0); // what changed between the start's copy and now
    return s;
  };

  /** The shared copies in use: one sync each, watching the shared paths that exist here. */
  const reconcileShared = async (world: ProxyWorld) => {
    const wanted = sharedCopies(world);
    for (const [k, s] of shared) {
      if (wanted.has(k)) continue;
      close(s);
      shared.delete(k);
    }
    for (const [k, slot] of wanted) {
      if (shared.has(k)) continue;
      const copy = slot.remote!.shared!;
      const paths = [];
      for (const p of copy.paths.map((p) => p === "." ? copy.root : `${copy.root}/${p}`)) {
        if (await Deno.stat(p).then(() => true, () => false)) paths.push(p);
      }
      shared.set(
        k,
        open(
          slot,
          paths,
          async () => syncShared(env.ctx.exec, await getHost(env.home, slot.remote!.host), copy),
        ),
      );
    }
  };

  const report = (s: Sync) => ({
    host: s.slot.remote!.host,
    state: s.pending && s.state === "idle" ? "pending" : s.state,
    last_sync: s.last_sync ?? null,
    last_ms: s.last_ms ?? null,
    ...(s.error ? { error: s.error } : {}),
  });

  return {
    name: "sync",
    needed: (world) => syncedSlots(world).length > 0,
    reconcile(world) {
      const wanted = new Map(syncedSlots(world).map((s) => [key(s), s]));
      for (const [k, s] of syncs) {
        if (wanted.has(k)) continue;
        close(s);
        syncs.delete(k);
      }
      for (const [k, slot] of wanted) {
        if (syncs.has(k)) continue;
        syncs.set(
          k,
          open(slot, [slot.worktree_path], () => passFor(env, slot)),
        );
      }
      return reconcileShared(world);
    },
    status: () => ({
      slots: Object.fromEntries([...syncs.values()].map((s) => [String(s.slot.slot_id), {
        ...report(s),
        copy: s.slot.remote!.copy,
      }])),
      shared: Object.fromEntries([...shared.entries()].map(([k, s]) => [k, {
        ...report(s),
        copy: s.slot.remote!.shared!.copy,
        root: s.slot.remote!.shared!.root,
        paths: s.slot.remote!.shared!.paths,
      }])),
      summary: [
        `${syncs.size} synced worktree(s)`,
        ...[...syncs.values()].map((s) =>
          `slot ${s.slot.slot_id} → ${s.slot.remote!.host}:${s.slot.remote!.copy}: ${s.state}${
            s.last_ms !== undefined ? ` (last pass ${s.last_ms} ms)` : ""
          }`
        ),
        ...[...shared.entries()].map(([k, s]) => `shared mounts → ${k}: ${s.state}`),
      ],
      ...([...syncs.values(), ...shared.values()].some((s) => s.state === "error")
        ? {
          problems: [
            ...[...syncs.values()].filter((s) => s.state === "error").map((s) =>
              `sync of slot ${s.slot.slot_id}: ${s.error}`
            ),
            ...[...shared.entries()].filter(([, s]) => s.state === "error").map(([k, s]) =>
              `sync of the shared mounts ${k}: ${s.error}`
            ),
          ],
        }
        : {}),
    }),
    close() {
      for (const s of [...syncs.values(), ...shared.values()]) close(s);
      syncs.clear();
      shared.clear();
      return Promise.resolve();
    },
  };
}
