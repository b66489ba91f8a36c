/**
 * Reading a project's compose file: services, published ports, custom networks; and rewriting
 * published ports as `${VAR:-port}` in place. Edits are made at the source offsets the YAML parser
 * reports, so every comment, blank line and key order stays exactly as it was.
 */
import { isMap, isScalar, isSeq, parseDocument, type Scalar, type YAMLMap } from "yaml";
import { join } from "node:path";
import { usageError } from "./errors.ts";
import { exists } from "./paths.ts";

export const COMPOSE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

export interface PublishedPort {
  service: string;
  /** Host port as written (a number), or undefined when already a variable without default. */
  published: number;
  target: string;
  /** The variable already used for this port, if the file is parameterized. */
  variable?: string;
  /** Source offsets of the scalar to replace, and its replacement builder. */
  range: [number, number];
  render(variable: string): string;
}

export interface ComposeInfo {
  services: string[];
  ports: PublishedPort[];
  /** Custom networks (top-level `networks:` keys and networks named by services). */
  networks: string[];
  /** Services that list `networks:` themselves (the others are on the implicit `default`). */
  explicitNetworks: string[];
  /** Port entries kinfra cannot parameterize (ranges, odd forms), with the reason. */
  skipped: string[];
}

/** Finds the compose file in `dir` by Compose's own file names. */
export async function findComposeFile(dir: string): Promise<string | undefined> {
  for (const name of COMPOSE_NAMES) if (await exists(join(dir, name))) return name;
  return undefined;
}

const SHORT =
  /^(?:(\[[^\]]+\]|[0-9.]+):)?(\$\{([A-Z_][A-Z0-9_]*)(?::?-([0-9]+))?\}|[0-9]+):([0-9]+(?:\/(?:tcp|udp))?)$/;

/**
 * Parses compose text and lists what `init` needs.
 *
 * @example
 * analyzeCompose('services:\n  api:\n    ports: ["8080:80"]\n', "compose.yml").ports[0].published; // 8080
 */
export function analyzeCompose(text: string, path: string): ComposeInfo {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw usageError(
      `${path}:${e.linePos?.[0].line}:${e.linePos?.[0].col}: YAML syntax error: ${e.message.split("\n")[0]}`,
    );
  }
  const services = doc.get("services");
  if (!isMap(services)) {
    throw usageError(`${path} has no "services" mapping.`, "Is this a Docker Compose file?");
  }
  const info: ComposeInfo = { services: [], ports: [], networks: [], explicitNetworks: [], skipped: [] };
  const topNetworks = doc.get("networks");
  if (isMap(topNetworks)) {
    info.networks.push(...topNetworks.items.map((p) => String((p.key as Scalar).value)));
  }

  for (const pair of services.items) {
    const service = String((pair.key as Scalar).value);
    info.services.push(service);
    const body = pair.value as YAMLMap;
    if (!isMap(body)) continue;
    const nets = body.get("networks");
    const names = isSeq(nets)
      ? nets.items.map((n) => String((n as Scalar).value))
      : isMap(nets)
      ? nets.items.map((p) => String((p.key as Scalar).value))
      : [];
    if (nets || body.has("network_mode")) info.explicitNetworks.push(service);
    for (const n of names) if (n !== "default" && !info.networks.includes(n)) info.networks.push(n);
    const ports = body.get("ports");
    if (!isSeq(ports)) continue;
    for (const item of ports.items) {
      const port = isScalar(item)
        ? shortPort(service, item)
        : isMap(item)
        ? longPort(service, item as YAMLMap)
        : undefined;
      if (typeof port === "string") info.skipped.push(port);
      else if (port) info.ports.push(port);
    }
  }
  return info;
}

function shortPort(service: string, node: Scalar): PublishedPort | string | undefined {
  const value = String(node.value);
  const m = SHORT.exec(value);
  if (!m) {
    return /^[0-9]+(\/(tcp|udp))?$/.test(value)
      ? undefined
      : `${service}: "${value}" (not a single published port)`;
  }
  const [, ip, hostPart, variable, fallback, target] = m;
  const published = Number(variable ? fallback : hostPart);
  if (!published) return `${service}: "${value}" (variable without a default port)`;
  return {
    service,
    published,
    target,
    variable,
    range: [node.range![0], node.range![1]],
    render: (v) => JSON.stringify(`${ip ? ip + ":" : ""}\${${v}:-${published}}:${target}`),
  };
}

function longPort(service: string, node: YAMLMap): PublishedPort | string | undefined {
  const published = node.get("published", true) as Scalar | undefined;
  if (!published) return undefined;
  const value = String(published.value);
  const m = /^(?:\$\{([A-Z_][A-Z0-9_]*)(?::?-([0-9]+))?\}|([0-9]+))$/.exec(value);
  if (!m || !Number(m[2] ?? m[3])) return `${service}: published "${value}" (not a single port)`;
  const port = Number(m[2] ?? m[3]);
  return {
    service,
    published: port,
    target: String(node.get("target")),
    variable: m[1],
    range: [published.range![0], published.range![1]],
    render: (v) => JSON.stringify(`\${${v}:-${port}}`),
  };
}

/** Applies `variable` to each port, editing only those scalars' source text. */
export function parameterize(text: string, edits: { port: PublishedPort; variable: string }[]): string {
  let out = text;
  for (const { port, variable } of edits.toSorted((a, b) => b.port.range[0] - a.port.range[0])) {
    out = out.slice(0, port.range[0]) + port.render(variable) + out.slice(port.range[1]);
  }
  return out;
}

/** A minimal line diff (changed lines only) for showing an edit before it is written. */
export function lineDiff(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const lines: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) lines.push(`${i + 1} - ${a[i]}`);
    if (b[i] !== undefined) lines.push(`${i + 1} + ${b[i]}`);
  }
  return lines;
}
