/**
 * When a sandbox counts as unused (`idle_stop`), as pure functions of what kinfra observed. A
 * sandbox is unused for as long as, at once:
 * - its worktree has not changed: no file or directory under it (outside `.git`) got a newer
 *   mtime, and its HEAD stayed the same commit;
 * - nothing went through kinfra's own router/forwarders to it (`<home>/proxy/activity.json`,
 *   written by the on-demand kinfra process when it runs);
 * - its containers used next to no CPU: on average under `CPU_IDLE` of one CPU between two
 *   observations.
 * It has been unused since the latest of those, and never since before it was started. Observations
 * are made by kinfra commands and by the on-demand process; before the first one, nothing is known,
 * so a sandbox is never judged idle on its first observation.
 */

/** Below this share of one CPU, on average between two observations, containers count as idle. */
export const CPU_IDLE = 0.05;

/** What kinfra remembers about a running slot between observations (`<home>/idle.json`). */
export interface SlotWatch {
  /** The claim observed (a slot released and claimed again starts afresh). */
  claimed_at: string;
  /** The containers' CPU time at the last observation, in nanoseconds, and when it was taken (ms). */
  cpu_time: number;
  sampled_at: number;
  /** Last time (ms) the containers were seen using CPU. */
  busy_at: number;
  /** The worktree's HEAD commit, and the last time (ms) its files or HEAD changed. */
  head: string;
  changed_at: number;
  /** Last traffic (ms) through kinfra's router/forwarders, when there is one. */
  traffic_at?: number;
}

/** One observation of a running slot. */
export interface SlotSample {
  claimed_at: string;
  cpu_time: number;
  head: string;
  /** The newest mtime (ms) under the worktree, outside `.git`. */
  newest_change: number;
  traffic_at?: number;
}

/** The watch after a new sample at `now` (ms). */
export function observeSlot(previous: SlotWatch | undefined, sample: SlotSample, now: number): SlotWatch {
  const claimed = Date.parse(sample.claimed_at) || now;
  if (!previous || previous.claimed_at !== sample.claimed_at) {
    return {
      claimed_at: sample.claimed_at,
      cpu_time: sample.cpu_time,
      sampled_at: now,
      busy_at: now, // nothing is known about its CPU before now
      head: sample.head,
      changed_at: Math.max(sample.newest_change, claimed),
      ...(sample.traffic_at !== undefined && { traffic_at: sample.traffic_at }),
    };
  }
  const elapsedNs = Math.max(1, now - previous.sampled_at) * 1e6;
  const used = sample.cpu_time - previous.cpu_time;
  // CPU time going backwards means the containers restarted: that is activity too.
  const busy = used < 0 || used / elapsedNs >= CPU_IDLE;
  const traffic = Math.max(previous.traffic_at ?? 0, sample.traffic_at ?? 0);
  return {
    claimed_at: sample.claimed_at,
    cpu_time: sample.cpu_time,
    sampled_at: now,
    busy_at: busy ? now : previous.busy_at,
    head: sample.head,
    changed_at: Math.max(previous.changed_at, sample.newest_change, sample.head !== previous.head ? now : 0),
    ...(traffic > 0 && { traffic_at: traffic }),
  };
}

/** Since when (ms) the slot has been unused. */
export const unusedSince = (watch: SlotWatch): number =>
  Math.max(watch.busy_at, watch.changed_at, watch.traffic_at ?? 0, Date.parse(watch.claimed_at) || 0);

/** Whether a slot unused since `unusedSince(watch)` is to be stopped with the window `windowMs` at `now`. */
export function isIdle(watch: SlotWatch, windowMs: number, now: number): boolean {
  return windowMs > 0 && now - unusedSince(watch) >= windowMs;
}

/** How often (ms) kinfra commands look, for the shortest window: a third of it, between 1 s and 60 s. */
export const checkInterval = (shortestWindowMs: number): number =>
  Math.min(60_000, Math.max(1000, Math.floor(shortestWindowMs / 3)));
