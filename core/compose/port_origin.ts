/**
 * Where a published host port comes from, said so the user can act on it: the entry that writes it
 * (file, line, key path, text) and, when kinfra cannot move it, why and what to write instead — a
 * variable that is also the container port, an entry that is one variable as a whole, a value
 * that nothing kinfra read gives.
 */
import type { PortSource } from "./file.ts";

/** A published port as the model lists it (model.ts's ModelPort; not imported, to keep no cycle). */
interface PublishedPort {
  service: string;
  published: number;
  target: string;
  protocol: string;
}

const at = (s: PortSource) => `${s.file}:${s.line} (${s.where}: "${s.text}")`;

/** The variable an entry's host part starts with, if any. */
export function hostVariable(source: PortSource): string | undefined {
  return typeof source.host === "object" && "variable" in source.host.start
    ? source.host.start.variable
    : undefined;
}

/**
 * An entry whose host variable is also its container port (`${JVB_PORT:-10000}:${JVB_PORT:-10000}/udp`):
 * what it is and what to write, or undefined for any other entry.
 */
export function sameVariableBothSides(source: PortSource): string | undefined {
  const variable = hostVariable(source);
  if (!variable || source.containerVariable !== variable) return undefined;
  const fallback = typeof source.host === "object" && "fallback" in source.host.start
    ? source.host.start.fallback ?? source.container
    : source.container;
  const proto = source.protocol === "tcp" ? "" : `/${source.protocol}`;
  return `${at(source)} writes \${${variable}} as both the host and the container port, so a sandbox's own ` +
    `${variable} would move the port inside the container too. Write the container side as a number, ` +
    `"\${${variable}:-${fallback}}:${source.container}${proto}", and run kinfra init again (or, if the ` +
    `service listens on \${${variable}} itself, add ${variable} to [sandbox.ports] by hand)`;
}

/**
 * The tail of a line about a fixed port: where its value comes from and what to do.
 *
 * @example
 * `web publishes host port 8080 (→ 80/tcp)${portOrigin(port, source, sources)}`
 */
export function portOrigin(
  port: PublishedPort,
  source: PortSource | undefined,
  sources: { ports: PortSource[]; files: Record<string, string> },
): string {
  if (source) {
    const both = sameVariableBothSides(source);
    if (both) return `: ${both}`;
    const variable = hostVariable(source);
    return `${variable ? ` through \${${variable}}, which is not in [sandbox.ports]` : ""}: ${at(source)}`;
  }
  return unreadableOrigin(port, sources) ??
    `, written in none of the files kinfra read (${Object.keys(sources.files).join(", ")})`;
}

/**
 * For a port no readable entry gives: the entry kinfra could not read that most likely does (in
 * the service itself, or naming the port), what it is and what to write instead.
 */
export function unreadableOrigin(
  port: PublishedPort,
  sources: { ports: PortSource[] },
): string | undefined {
  const s = sources.ports.find((s) =>
    typeof s.host === "string" && (s.service === port.service || s.text.includes(String(port.published)))
  );
  if (!s) return undefined;
  return `: it comes from ${at(s)}, which kinfra cannot rewrite: ${s.host}. Write it as ` +
    `"\${VAR:-${port.published}}:${port.target}${port.protocol === "tcp" ? "" : `/${port.protocol}`}" ` +
    "there and add VAR to [sandbox.ports]";
}
