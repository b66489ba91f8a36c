/**
 * Which running sandboxes have an idle window (`idle_stop`), and how long: infra.toml's
 * `[sandbox] idle_stop`, else the global one; and whether the idle check (idle_check.ts) has
 * anything to do now. Commands ask this on every run, so it loads nothing of the check itself.
 */
import type { Context } from "../context.ts";
import { messageOf } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { withLock } from "../io/lock.ts";
import { parseDuration } from "../text/duration.ts";
import { join } from "../io/path.ts";
import type { SlotWatch } from "../slots/idle.ts";
import { readRegistry, type Registry, type SlotEntry } from "../slots/registry.ts";
import { configAt } from "../project/project.ts";
import { fileStamp } from "../io/home.ts";

/** `<home>/idle.json`: the last check's observations, and when the next one is worth it. */
export interface IdleState {
  checked_at: number;
  /** How long until the next check is worth it (ms), from the shortest window seen. */
  interval: number;
  slots: Record<string, SlotWatch>;
  /** The configs (`configStamp`) last found to set no `idle_stop` for any running sandbox. */
  none?: string;
}

export const idleStatePath = (ctx: Context) => join(ctx.home.root, "idle.json");

export function readIdleState(ctx: Context): IdleState | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(idleStatePath(ctx)));
  } catch {
    return undefined;
  }
}

/** Whether a throttled idle check has anything to do now: its interval is over, and some window is set. */
export async function idleCheckDue(ctx: Context): Promise<boolean> {
  const previous = readIdleState(ctx);
  if (previous && ctx.now().getTime() - previous.checked_at < previous.interval) return false;
  return await anyWindow(ctx, previous);
}

/**
 * Whether some running sandbox has an `idle_stop`. Most homes set none: that is seen from the
 * registry and the configs, without the lock, and remembered until a config changes or another
 * project's sandbox runs (`configStamp`).
 */
export async function anyWindow(ctx: Context, previous: IdleState | undefined): Promise<boolean> {
  const registry = await readRegistry(ctx.home);
  const stamp = configStamp(ctx.home.config, runningSlots(registry).roots);
  if (previous?.none === stamp) return false;
  if (Number.isFinite((await windowsNow(ctx, registry)).shortest)) return true;
  // Under the lock, from the state as it is then (a check may have written observations since);
  // a check holding it writes the state itself, so this one does not wait.
  const remember = async () => {
    const state = readIdleState(ctx) ?? { checked_at: 0, interval: 0, slots: {} };
    await writeFileAtomic(idleStatePath(ctx), JSON.stringify({ ...state, none: stamp }) + "\n");
  };
  await withLock(join(ctx.home.root, "idle.lock"), remember, { timeoutMs: 0, onWait: () => {} })
    .catch((e) => ctx.log.debug(`idle state not written: ${messageOf(e)}`));
  return false;
}

/** A slot's window (ms; 0 = off): infra.toml's `[sandbox] idle_stop`, else the global one. */
async function windowOf(ctx: Context, root: string, global: number): Promise<number> {
  const maxSlots = (await ctx.globalConfig()).slots.max;
  const own = (await configAt(root, maxSlots, join(ctx.home.root, "cache")))?.sandbox?.idle_stop;
  if (own === false) return 0;
  return own ? parseDuration(own) ?? 0 : global;
}

/** The running sandboxes (a remote one whose host stopped answering is left to the stale repair). */
export function runningSlots(registry: Registry) {
  const running = Object.values(registry.slots).filter((s) =>
    s.status === "running" && !s.warm && !s.remote?.unreachable
  );
  const rootOf = (slot: SlotEntry) => registry.worktrees[slot.worktree_path]?.project_root;
  const roots = [...new Set(running.map(rootOf).filter((r): r is string => r !== undefined))].sort();
  return { running, rootOf, roots };
}

/**
 * What the windows are read from: the global config and each running project's infra.toml, by
 * size and mtime. While it is unchanged, "no `idle_stop` anywhere" still holds, and a command
 * learns it from a few `stat`s instead of reading and checking every config.
 */
export function configStamp(globalConfig: string, roots: string[]): string {
  return JSON.stringify([
    fileStamp(globalConfig),
    ...roots.map((r) => [r, fileStamp(join(r, ".devops-ai", "infra.toml"))]),
  ]);
}

/** The running sandboxes, the idle window of each (ms, 0 = off), and the shortest one set. */
export async function windowsNow(ctx: Context, registry: Registry) {
  const globalMs = parseDuration((await ctx.globalConfig()).slots.idle_stop ?? "") ?? 0;
  // Each project's config once, all at the same time: a command runs this with every sandbox running.
  const { running, rootOf, roots } = runningSlots(registry);
  const byRoot = new Map(
    await Promise.all(roots.map(async (r) => [r, await windowOf(ctx, r, globalMs)] as const)),
  );
  const windows = new Map<number, number>();
  for (const slot of running) {
    const root = rootOf(slot);
    if (root) windows.set(slot.slot_id, byRoot.get(root)!);
  }
  return { running, windows, shortest: Math.min(...[...windows.values()].filter((w) => w > 0)) };
}
