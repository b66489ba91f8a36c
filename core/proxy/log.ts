/** The proxy process's log: `<home>/proxy/proxy.log`, one timestamped line per event, kept under 2 MB. */
const MAX_BYTES = 2 * 1024 * 1024;

/** A line writer that never throws (the home may be gone; the process then exits on its own). */
export function fileLog(path: string): (message: string) => void {
  try {
    if (Deno.statSync(path).size > MAX_BYTES) Deno.renameSync(path, `${path}.1`);
  } catch { /* no log yet */ }
  const encoder = new TextEncoder();
  let created = false;
  return (message) => {
    try {
      // Created once; later lines never create it again (its home may be being removed).
      Deno.writeFileSync(path, encoder.encode(`${new Date().toISOString()} ${message}\n`), {
        append: true,
        create: !created,
      });
      created = true;
    } catch { /* nowhere to write */ }
  };
}
