/**
 * The idle check (`idle_stop`): observes this home's running sandboxes (worktree changes, traffic
 * through kinfra's router, CPU time from `runtime.scan` with `flags.usage`), remembers the observations in
 * `<home>/idle.json`, and stops — `kinfra down`: volumes and slot number kept — those unused for
 * their window (core/slots/idle.ts says what unused means). No daemon: kinfra commands run it,
 * throttled, and so does the on-demand kinfra process while it runs. Only this home's registry is
 * read, so another home's sandboxes are never looked at, let alone stopped.
 */
import type { Context } from "../context.ts";
import { messageOf } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { join } from "../io/path.ts";
import { withLock } from "../io/lock.ts";
import { sleep } from "../io/timers.ts";
import { hookInput } from "../hooks/inputs.ts";
import { checkInterval, isIdle, observeSlot, unusedSince } from "../slots/idle.ts";
import { readRegistry, type SlotEntry, updateRegistry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";
import { measureUsage } from "./usage.ts";
import { readActivity, type SlotActivity } from "../proxy/activity.ts";
import { proxyPaths } from "../proxy/paths.ts";
import { exists } from "../io/home.ts";
import { anyWindow, type IdleState, idleStatePath, readIdleState, windowsNow } from "./idle_windows.ts";

export interface IdleReport {
  /** Every running sandbox observed, with since when it is unused (ms) and its window (ms, 0 = off). */
  observed: { slot: SlotEntry; unusedSince: number; windowMs: number }[];
  /** Sandboxes stopped now. */
  stopped: { path: string; slot: number; idleMs: number }[];
}

const WALK_LIMIT = 20_000;
/** How often the proxy process writes activity.json at most (core/proxy/activity.ts). */
const ACTIVITY_FLUSH_MS = 2000;

/**
 * The newest mtime (ms) under a worktree, `.git` left out, looking at no more than WALK_LIMIT
 * entries (a creation, deletion or rename changes its directory's mtime, an edit the file's).
 */
export async function newestChange(root: string): Promise<number> {
  let newest = 0, seen = 0;
  const stack = [root];
  while (stack.length && seen < WALK_LIMIT) {
    const dir = stack.pop()!;
    newest = Math.max(newest, (await Deno.lstat(dir).catch(() => undefined))?.mtime?.getTime() ?? 0);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > WALK_LIMIT) break;
      if (e.name === ".git" && dir === root) continue;
      const path = join(dir, e.name);
      if (e.isDirectory) stack.push(path);
      else newest = Math.max(newest, (await Deno.lstat(path).catch(() => undefined))?.mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/**
 * Last traffic (ms) per slot id through kinfra's router/forwarders — only where it belongs to the
 * same claim (a slot id reused by another sandbox starts afresh): from the running proxy process's
 * own record, else `<home>/proxy/activity.json`; empty when no such process has run.
 */
async function trafficTimes(
  ctx: Context,
  slots: { slot_id: number; claimed_at: string }[],
  record?: Record<string, SlotActivity>,
): Promise<Map<number, number>> {
  const recorded = record ?? (await readActivity(proxyPaths(ctx.home).activity)).slots;
  const found = new Map<number, number>();
  for (const slot of slots) {
    const entry = recorded[String(slot.slot_id)];
    const at = entry?.claimed_at === slot.claimed_at ? Date.parse(entry.last_traffic) : NaN;
    if (Number.isFinite(at)) found.set(slot.slot_id, at);
  }
  return found;
}

/** How long (ms) each observed running slot has been unused, by slot id, from the last check. */
export function unusedTimes(ctx: Context): Map<number, number> {
  const state = readIdleState(ctx);
  const now = ctx.now().getTime();
  return new Map(Object.entries(state?.slots ?? {}).map(([id, w]) => [Number(id), now - unusedSince(w)]));
}

/**
 * Observes every running sandbox and stops the idle ones. `throttled`: return at once when the
 * last check is more recent than its interval (what commands use). `observe`: observe even when no
 * sandbox has an `idle_stop` (the budget check, for how long each has been unused). `activity`: the
 * proxy process's own traffic record (instead of reading activity.json). Never throws: a failed check
 * is a debug line, not the user's problem.
 */
export async function idleCheck(
  ctx: Context,
  options: { throttled?: boolean; observe?: boolean; activity?: Record<string, SlotActivity> } = {},
): Promise<IdleReport> {
  const report: IdleReport = { observed: [], stopped: [] };
  const now = ctx.now().getTime();
  const previous = readIdleState(ctx);
  if (options.throttled && previous && now - previous.checked_at < previous.interval) return report;
  // Most homes set no idle_stop: that is seen from the registry and the configs, without the lock,
  // and remembered until a config changes or another project's sandbox runs.
  if (!options.observe && !await anyWindow(ctx, previous)) return report;
  try {
    await withLock(
      join(ctx.home.root, "idle.lock"),
      () => check(ctx, previous, report, options.observe === true, options.activity),
      {
        timeoutMs: 200,
        onWait: () => {},
      },
    );
  } catch (e) {
    ctx.log.debug(`idle check skipped: ${messageOf(e)}`);
  }
  return report;
}

async function check(
  ctx: Context,
  previous: IdleState | undefined,
  report: IdleReport,
  observe: boolean,
  record?: Record<string, SlotActivity>,
): Promise<void> {
  const now = ctx.now().getTime();
  const registry = await readRegistry(ctx.home);
  const { running, windows, shortest } = await windowsNow(ctx, registry);
  // Nothing running, or no idle_stop anywhere: nothing to observe (the engine is not asked), and
  // nothing to throttle (the next command may start one). The budget check observes anyway.
  if (!windows.size || (!Number.isFinite(shortest) && !observe)) return;
  const state: IdleState = { checked_at: now, interval: 60_000, slots: {} };
  const [usage, activity] = await Promise.all([
    usageEverywhere(ctx, running.filter((s) => (windows.get(s.slot_id) ?? 0) > 0)),
    trafficTimes(ctx, running, record),
  ]);
  for (const slot of running) {
    const entry = registry.worktrees[slot.worktree_path];
    const windowMs = windows.get(slot.slot_id);
    if (!entry || windowMs === undefined) continue;
    const head = await ctx.exec("git", ["-C", entry.path, "rev-parse", "HEAD"]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
    const watch = observeSlot(previous?.slots[String(slot.slot_id)], {
      claimed_at: slot.claimed_at,
      cpu_time: usage.sandboxes.get(composeProject(slot.project, slot.slot_id))?.cpu_time ?? 0,
      head,
      newest_change: await newestChange(entry.path),
      traffic_at: activity.get(slot.slot_id),
    }, now);
    state.slots[String(slot.slot_id)] = watch;
    report.observed.push({ slot, unusedSince: unusedSince(watch), windowMs });
    if (!windowMs || !isIdle(watch, windowMs, now)) continue;
    if (!record && await exists(proxyPaths(ctx.home).activity)) {
      // The proxy process writes its traffic record at most every 2 s: wait for its next write, so
      // traffic in the last moments is not missed, and look again.
      await sleep(ACTIVITY_FLUSH_MS + 200);
      const late = (await trafficTimes(ctx, [slot])).get(slot.slot_id);
      if (late !== undefined) watch.traffic_at = Math.max(watch.traffic_at ?? 0, late);
      if (!isIdle(watch, windowMs, ctx.now().getTime())) continue;
    }
    await stopIdle(ctx, slot, ctx.now().getTime() - unusedSince(watch), report);
  }
  if (Number.isFinite(shortest)) state.interval = checkInterval(shortest);
  await writeFileAtomic(idleStatePath(ctx), JSON.stringify(state) + "\n");
}

/**
 * Usage by compose project on this machine and on each host running one of `slots` (a remote
 * sandbox's CPU is read on its host). A host that does not answer gives nothing: its sandboxes then
 * read as CPU time gone backwards, which counts as activity — a host kinfra cannot see is never
 * judged idle.
 */
async function usageEverywhere(ctx: Context, slots: SlotEntry[]) {
  const hosts = new Map(slots.flatMap((s) => s.remote ? [[s.remote.host, s.remote] as const] : []));
  const reports = await Promise.all([
    measureUsage(ctx, { fresh: true }),
    ...[...hosts.values()].map((engine) => measureUsage(ctx, { fresh: true, engine })),
  ]);
  return { sandboxes: new Map(reports.flatMap((r) => [...r.sandboxes])) };
}

/** `kinfra down` of an idle sandbox, and a note on its worktree saying so (`status`, the dashboard). */
async function stopIdle(ctx: Context, slot: SlotEntry, idleMs: number, report: IdleReport): Promise<void> {
  const registry = await readRegistry(ctx.home);
  const current = registry.slots[String(slot.slot_id)];
  const entry = registry.worktrees[slot.worktree_path];
  if (!entry || current?.claimed_at !== slot.claimed_at || current.status !== "running") return;
  const { formatDuration } = await import("../text/duration.ts");
  ctx.log.info(
    `Stopping the sandbox of ${entry.path} (slot ${slot.slot_id}): unused for ${formatDuration(idleMs)}.`,
  );
  const project = await ctx.project(entry.project_root);
  const { teardownSlot } = await import("./teardown.ts");
  // A remote slot is released once its host confirms nothing of it is left (core/remote).
  const release = current.remote
    ? async (s: SlotEntry) => await (await import("../remote/release.ts")).releaseChecked(ctx, s)
    : undefined;
  // Noted before the slot goes, so a reader never sees the worktree with neither (`up` clears it).
  await updateRegistry(ctx.home, (reg) => {
    const worktree = reg.worktrees[entry.path];
    if (worktree?.slot === slot.slot_id) {
      worktree.idle_stopped = { at: ctx.now().toISOString(), idle_ms: idleMs, slot: slot.slot_id };
    }
  });
  await teardownSlot(
    ctx,
    await ctx.hooks(project),
    hookInput(project, entry, { keepVolumes: true }),
    structuredClone(current),
    [],
    release,
  );
  report.stopped.push({ path: entry.path, slot: slot.slot_id, idleMs });
}
