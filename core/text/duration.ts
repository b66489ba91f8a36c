/** Durations as plugin manifests, plugin settings and `idle_stop` write them. */

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds from a number of seconds or a "500ms" / "30s" / "2m" / "4h" / "1d" string. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === "number") return value > 0 ? value * 1000 : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}

/** A duration as people say it: `45s`, `12m`, `4h`, `2d` (rounded down to its largest unit). */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.floor(ms / 1000))}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}
