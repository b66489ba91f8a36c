/**
 * The rules of `[sandbox.ports]` that look at several keys at once, checked after the schema: every
 * slot must be able to exist (its ports ≤ 65535, no two of its own ports the same), and no variable
 * may stand for something else in the environment Compose runs with.
 */
import { lastPort, type PortSetting, portSpans } from "../../slots/ports.ts";
import { RESERVED_VARIABLE as RESERVED } from "./schema.ts";

export interface PortProblem {
  key: string;
  text: string;
  hint: string;
}

/**
 * The first problem of a `[sandbox.ports]` table, or undefined.
 *
 * @example
 * portProblem({ WEB: 8080, DNS: 8080 }, 20)?.text; // "WEB and DNS get the same port (8081) in every slot …"
 */
export function portProblem(ports: Record<string, PortSetting>, maxSlots: number): PortProblem | undefined {
  const spans = portSpans(ports);
  for (const name of Object.keys(spans)) {
    if (RESERVED.test(name)) {
      return {
        key: name,
        text:
          `${name} is a variable Docker, Compose, kinfra or a program's runtime (the loader, a shell, git, ` +
          "Python, Node) reads; a port number there would change how the sandbox's programs run, not which port it publishes.",
        hint: `Rename it (e.g. APP_${name}) in [sandbox.ports] and in the compose file.`,
      };
    }
    const owner = name.endsWith("_END") ? name.slice(0, -4) : undefined;
    if (owner && (spans[owner]?.width ?? 1) > 1) {
      return {
        key: name,
        text: `${name} is also the end of the range ${owner} (each slot sets ${owner} and ${owner}_END), ` +
          "so the two would overwrite each other.",
        hint: `Rename ${name} in [sandbox.ports] and in the compose file.`,
      };
    }
  }
  for (const [name, span] of Object.entries(spans)) {
    if (lastPort(span, maxSlots) > 65535) {
      const used = span.width > 1
        ? `${maxSlots + 1} ranges of ${span.width} ports from ${span.base}`
        : `${span.base} + ${maxSlots}`;
      return {
        key: name,
        text: `base + slots.max (${used}) exceeds 65535.`,
        hint: `Choose a base port of at most ${
          65536 - (maxSlots + 1) * span.width
        }, or lower [slots] max in the global config.`,
      };
    }
  }
  return sameInEverySlot(spans);
}

/**
 * Two spans of the same width less than a width apart move together and overlap in every slot:
 * no slot could ever be claimed ("No free slot" forever). Sorted by width and base, only
 * neighbours need comparing.
 */
function sameInEverySlot(spans: Record<string, { base: number; width: number }>): PortProblem | undefined {
  const sorted = Object.entries(spans).toSorted(([, a], [, b]) => a.width - b.width || a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    const [[first, a], [second, b]] = [sorted[i - 1], sorted[i]];
    if (a.width !== b.width || b.base - a.base >= a.width) continue;
    const port = b.base + b.width; // slot 1's first shared port
    return {
      key: second,
      text: `${first} and ${second} share port ${port} in slot 1, and move together, so every slot's ` +
        "ports would collide with each other and no slot could ever start.",
      hint: a.width === 1
        ? `If they are one port over TCP and UDP (e.g. "53:53/tcp" and "53:53/udp"), write both entries ` +
          `with \${${first}} and drop ${second}; otherwise give ${second} another base.`
        : `Give ${second} a base at least ${a.width} away from ${first}'s.`,
    };
  }
  return undefined;
}
