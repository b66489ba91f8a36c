/**
 * Compose's port syntax, as written: `[ip:][host:]container[/protocol]` (short) and the long form's
 * `published`. Host parts may be numbers, ranges (`9090-9091`) or variables (`${WEB_PORT:-8080}`),
 * and the IP may itself be a variable (`${BIND:-0.0.0.0}`). Parsing keeps every part's text so a
 * rewrite changes the host port and nothing else.
 */

/** One end of a host port: a number, or a variable with its default when it has one. */
export type HostPort = { port: number } | { variable: string; fallback?: number };

export interface HostPorts {
  start: HostPort;
  /** The end of a range (`9090-9091`); undefined for a single port. */
  end?: HostPort;
}

export interface ShortPort {
  /** The IP as written (`127.0.0.1`, `[::1]`, `${BIND:-0.0.0.0}`), when there is one. */
  ip?: string;
  /** Undefined when Docker picks the host port (`80`, `127.0.0.1::80`). */
  host?: HostPorts;
  /** The container port or range with its protocol, as written (`8080`, `53/udp`, `8080-8081`). */
  container: string;
  /** A container port written as a variable with a numeric default (`${JVB_PORT:-10000}`)… */
  containerVariable?: string;
  /** …and that default (`10000`). */
  containerDefault?: string;
  protocol: string;
}

const VARIABLE = String.raw`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`;
const END = new RegExp(`^(?:([0-9]+)|${VARIABLE})$`);
const CONTAINER = /^([0-9]+(?:-[0-9]+)?)(?:\/([a-z]+))?$/;
/** A container port from a variable with a numeric default: `${JVB_PORT:-10000}/udp`. */
const CONTAINER_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*):?-([0-9]+)\}(?:\/([a-z]+))?$/;
/** A whole entry written as one variable: `${EXPOSE_PORT-:2283:2283}`. */
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}$/;

/** Splits at colons outside `${…}` and `[…]`. */
function splitColons(text: string): string[] {
  const parts = [""];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === "{" && text[i - 1] === "$") || c === "[") depth++;
    else if ((c === "}" || c === "]") && depth > 0) depth--;
    if (c === ":" && depth === 0) parts.push("");
    else parts[parts.length - 1] += c;
  }
  return parts;
}

function hostEnd(text: string): HostPort | undefined {
  const m = END.exec(text);
  if (!m) return undefined;
  if (m[1]) return { port: Number(m[1]) };
  const [variable, op, fallback] = [m[2] ?? m[5], m[3], m[4]];
  const port = op?.endsWith("-") && /^[0-9]+$/.test(fallback) ? Number(fallback) : undefined;
  return port === undefined ? { variable } : { variable, fallback: port };
}

/**
 * The host part (`8080`, `9090-9091`, `${P:-8080}`, `${P:-9090}-${P_END:-9091}`), or a reason.
 *
 * @example
 * parseHostPorts("${WEB:-8080}"); // { start: { variable: "WEB", fallback: 8080 } }
 */
export function parseHostPorts(text: string): HostPorts | string {
  const single = hostEnd(text);
  if (single) return { start: single };
  // A range: split at the "-" that is outside any ${…}.
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "{" && text[i - 1] === "$") depth++;
    else if (text[i] === "}") depth--;
    else if (text[i] === "-" && depth === 0) {
      const [start, end] = [hostEnd(text.slice(0, i)), hostEnd(text.slice(i + 1))];
      if (start && end) return { start, end };
    }
  }
  return `host port "${text}" is neither a number, a range nor a variable`;
}

/**
 * Parses a short-syntax entry, or says what it is when kinfra cannot handle it.
 *
 * @example
 * parseShortPort("127.0.0.1:4510-4559:4510-4559"); // ip 127.0.0.1, host range 4510–4559
 */
export function parseShortPort(value: string): ShortPort | string {
  const whole = WHOLE.exec(value);
  if (whole) {
    const fallback = whole[2]?.endsWith("-") ? ` (default "${whole[3]}")` : "";
    return `the whole entry is the variable \${${
      whole[1]
    }}${fallback}, so kinfra cannot tell its host port ` +
      "from its container port";
  }
  const parts = splitColons(value);
  if (parts.length > 3) return `"${value}" has too many colons (write an IPv6 address in brackets)`;
  const containerText = parts[parts.length - 1];
  const c = CONTAINER.exec(containerText);
  const v = c ? undefined : CONTAINER_VARIABLE.exec(containerText);
  if (!c && !v) return `container port "${containerText}" is not a number or a range`;
  const result: ShortPort = c ? { container: containerText, protocol: c[2] ?? "tcp" } : {
    container: containerText,
    protocol: v![3] ?? "tcp",
    containerVariable: v![1],
    containerDefault: v![2],
  };
  if (parts.length === 3) result.ip = parts[0];
  const hostText = parts.length >= 2 ? parts[parts.length - 2] : "";
  if (hostText === "") return result;
  const host = parseHostPorts(hostText);
  if (typeof host === "string") return host;
  return { ...result, host };
}

/** The container port(s) without the protocol: as written, or a container variable's default. */
export const containerTarget = (port: ShortPort) => port.containerDefault ?? port.container.split("/")[0];

/** The host part for variable `v` (and `v_END` for a range) with the old ports as defaults. */
export function renderHost(variable: string, start: number, end?: number): string {
  const first = `\${${variable}:-${start}}`;
  return end === undefined ? first : `${first}-\${${variable}_END:-${end}}`;
}

/** A short-syntax entry with its host part replaced. */
export function renderShort(port: ShortPort, host: string): string {
  return `${port.ip !== undefined ? port.ip + ":" : ""}${host}:${port.container}`;
}
