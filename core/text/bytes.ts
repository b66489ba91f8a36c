/** Byte counts as people read and write them. */

/** A byte count as people read it: `0 B`, `512 B`, `1.5 MB`, `210 MB` (powers of 1000). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  const i = bytes >= 1000 ? Math.min(Math.floor(Math.log10(bytes) / 3), units.length - 1) : 0;
  const value = bytes / 1000 ** i;
  return `${i && value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

const FACTORS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Bytes from a size as Docker writes it (`512m`, `8g`: powers of 1024) or with a unit (`1.5GB`,
 * `512MiB`); a bare number is bytes. Undefined for anything else.
 *
 * @example
 * parseBytes("8g"); // 8589934592
 */
export function parseBytes(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(value.trim());
  const factor = m && FACTORS[m[2].toLowerCase()];
  return factor ? Math.round(Number(m![1]) * factor) : undefined;
}
