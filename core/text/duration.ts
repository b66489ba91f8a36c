/** Durations as plugin manifests and plugin settings write them. */

/** Milliseconds from a number of seconds or a "500ms" / "30s" / "2m" string. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === "number") return value > 0 ? value * 1000 : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"];
}
