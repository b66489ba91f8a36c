/**
 * Port arithmetic and the bind test. A variable's port in slot n is `base + n` (README, "How a sandbox starts"); a range
 * of width w (`VAR = { base = 9090, width = 2 }`) moves by whole widths, `base + n·w` to
 * `base + n·w + w − 1`, exported as `VAR` and `VAR_END`, so no two slots' ranges overlap.
 */

/** How infra.toml gives a port: a base, or a base with the width of its range. */
export type PortSetting = number | { base: number; width: number };

export interface PortSpan {
  base: number;
  width: number;
}

export type Protocol = "tcp" | "udp";

/** `[sandbox.ports]` with every entry as a span (width 1 for a single port). */
export function portSpans(ports: Record<string, PortSetting>): Record<string, PortSpan> {
  return Object.fromEntries(
    Object.entries(ports).map(([k, v]) => [k, typeof v === "number" ? { base: v, width: 1 } : v]),
  );
}

/** The highest port any slot up to `maxSlots` would use for a span. */
export const lastPort = (span: PortSpan, maxSlots: number) => span.base + (maxSlots + 1) * span.width - 1;

/**
 * The variables of one slot: `VAR` for each port, and `VAR_END` for each range.
 *
 * @example
 * slotPorts({ WEB: 8080, METRICS: { base: 9090, width: 2 } }, 3); // { WEB: 8083, METRICS: 9096, METRICS_END: 9097 }
 */
export function slotPorts(ports: Record<string, PortSetting>, slot: number): Record<string, number> {
  const vars: Record<string, number> = {};
  for (const [name, { base, width }] of Object.entries(portSpans(ports))) {
    vars[name] = base + slot * width;
    if (width > 1) vars[`${name}_END`] = vars[name] + width - 1;
  }
  return vars;
}

/** The widths of the ranges among `ports` (none for single ports), as the registry keeps them. */
export function rangeWidths(ports: Record<string, PortSetting>): Record<string, number> | undefined {
  const widths = Object.entries(portSpans(ports)).filter(([, s]) => s.width > 1);
  return widths.length ? Object.fromEntries(widths.map(([k, s]) => [k, s.width])) : undefined;
}

/** Every host port of a slot's variables, each with the variable it belongs to. */
export function expandPorts(
  vars: Record<string, number>,
  widths: Record<string, number> = {},
): { name: string; port: number }[] {
  return Object.entries(vars).flatMap(([name, start]) =>
    Array.from({ length: widths[name] ?? 1 }, (_, i) => ({ name, port: start + i }))
  );
}

/**
 * True when nothing holds `port` for `protocol`: we can bind it ourselves on all interfaces (as
 * Docker's port publishing will) and on loopback.
 *
 * @example
 * if (!await isPortFree(8081)) log("Slot 1 skipped: port 8081 in use");
 */
export async function isPortFree(port: number, protocol: Protocol = "tcp"): Promise<boolean> {
  for (const hostname of ["0.0.0.0", "127.0.0.1"]) {
    if (!(protocol === "udp" ? await udpFree(hostname, port) : tcpFree(hostname, port))) return false;
  }
  return true;
}

function tcpFree(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port, transport: "tcp" }).close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.PermissionDenied) return false;
    throw e;
  }
}

// node:dgram binds UDP without Deno's unstable flag (loaded only for UDP: Node's start-up is ~10 ms).
async function udpFree(hostname: string, port: number): Promise<boolean> {
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", (e: Error & { code?: string }) => {
      socket.close();
      if (e.code === "EADDRINUSE" || e.code === "EACCES") resolve(false);
      else reject(e);
    });
    socket.bind(port, hostname, () => socket.close(() => resolve(true)));
  });
}

/** One of a slot's ports as status, the dashboard and `status --watch` show it. */
export interface SlotPort {
  name: string;
  port: number;
  /** A link where the port serves HTTP; null for other TCP ports, UDP and ranges. */
  url: string | null;
  /** `…<last port>` for a range, `/udp` for UDP. */
  note?: string;
}

/**
 * A slot's ports: a range once (not its `_END`), UDP marked, HTTP ones as links — the variables
 * recorded as serving HTTP, or every port of a slot from before kinfra recorded it.
 */
export function shownPorts(slot: {
  ports: Record<string, number>;
  widths?: Record<string, number>;
  udp?: string[];
  http?: string[];
}): SlotPort[] {
  const list: SlotPort[] = [];
  for (const [name, port] of Object.entries(slot.ports)) {
    const width = slot.widths?.[name];
    if (name.endsWith("_END") && slot.widths?.[name.replace(/_END$/, "")]) continue;
    if (width) list.push({ name, port, url: null, note: `…${port + width - 1}` });
    else if (slot.udp?.includes(name)) list.push({ name, port, url: null, note: "/udp" });
    else {list.push({
        name,
        port,
        url: !slot.http || slot.http.includes(name) ? `http://127.0.0.1:${port}/` : null,
      });}
  }
  return list;
}

/**
 * The health check's URL for a slot's ports.
 *
 * @example
 * healthUrl({ WEB_PORT: 8081 }, { port_var: "WEB_PORT", endpoint: "/health" }); // "http://127.0.0.1:8081/health"
 */
export function healthUrl(
  ports: Record<string, number>,
  health: { port_var: string; endpoint: string },
): string {
  return `http://127.0.0.1:${ports[health.port_var]}${health.endpoint}`;
}
