/** A byte count as people read it: `0 B`, `512 B`, `1.5 MB`, `210 MB` (powers of 1000). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  const i = bytes >= 1000 ? Math.min(Math.floor(Math.log10(bytes) / 3), units.length - 1) : 0;
  const value = bytes / 1000 ** i;
  return `${i && value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}
