/**
 * The resolved compose model: what Compose itself makes of a project once merge keys, aliases,
 * `extends`, `include`, `.env` and interpolation are applied — asked of `compose config` (JSON
 * from v2, YAML from v1, with every profile's services in both), never re-implemented. It is the source of truth for which host ports a
 * sandbox publishes, and what plugins shaping the override see.
 */
import { join } from "../io/path.ts";
import { type ComposeTool, runCompose } from "./tool.ts";
import { MAX_ALIASES, type PortSource } from "./sources.ts";
import { usageError } from "../errors.ts";
import type { Exec } from "../io/exec.ts";
import { composeError } from "./stderr.ts";
import { containerTarget, parseHostPorts, parseShortPort } from "./port_spec.ts";
import { portOrigin } from "./port_origin.ts";

/** One host port a service publishes (a range appears as one entry per port, as v1 prints it). */
export interface ModelPort {
  service: string;
  published: number;
  /** The container port, or the container range as written. */
  target: string;
  protocol: string;
}

export interface ComposeModel {
  /** The resolved document, as Compose printed it. */
  doc: Record<string, unknown>;
  services: string[];
  /** Every fixed host port published (ports Docker picks itself are not listed). */
  ports: ModelPort[];
  /** Services with `network_mode: host`: their ports are the host's and cannot move per slot. */
  hostNetwork: string[];
}

export interface ConfigRequest {
  /** The directory the compose file lives in (its project directory). */
  dir: string;
  file: string;
  /** The file's text, when it is not (or not yet) what is on disk: piped to `-f -`. */
  text?: string;
  /** Variables that win over `.env` and the caller's environment. */
  env?: Record<string, string>;
  /** Variables of the caller's environment Compose must not see. */
  unset?: string[];
  /** How to name the file in an error. */
  label?: string;
  /** The compose project name (`-p`): v2 derives network and volume names from it. */
  project?: string;
}

/**
 * Runs `compose config` and reads the model from its output.
 *
 * @example
 * const model = await resolveCompose(exec, tool, { dir: worktree, file: "docker-compose.yml", env: { WEB_PORT: "8081" } });
 * model.ports; // [{ service: "web", published: 8081, target: "8080", protocol: "tcp" }]
 */
export async function resolveCompose(
  exec: Exec,
  tool: ComposeTool,
  request: ConfigRequest,
): Promise<ComposeModel> {
  const files = request.text === undefined
    ? ["-f", join(request.dir, request.file)]
    : ["-f", "-", "--project-directory", request.dir];
  // v1 prints every service; v2 leaves out those of profiles not enabled unless told to show all.
  // Both must see them: a fixed port or a code target in a profile is checked and labelled alike.
  const [profiles, format] = tool.flavour === "v2" ? [["--profile", "*"], ["--format", "json"]] : [[], []];
  const project = request.project ? ["-p", request.project] : [];
  const result = await runCompose(
    exec,
    tool,
    [...files, ...project, ...profiles, "config", ...format],
    {
      cwd: request.dir,
      env: request.env,
      unset: request.unset,
      stdin: request.text,
    },
  );
  if (!result.success) {
    const { message, details } = composeError(result.stderr);
    throw usageError(
      `Compose cannot read ${request.label ?? request.file}: ${message ?? `exit ${result.code}`}`,
      `See the whole message with: ${tool.command} -f ${request.file} config`,
      details,
    );
  }
  // v1 writes YAML only: the library is loaded for it alone. Compose wrote it: no duplicates to find.
  const doc = tool.flavour === "v2"
    ? JSON.parse(result.stdout)
    : (await import("./yaml_parse.ts")).parseYaml(result.stdout, {
      maxAliasCount: MAX_ALIASES,
      uniqueKeys: false,
    });
  return modelOf(doc ?? {});
}

/** Reads services, published host ports and host-network services from a resolved document. */
export function modelOf(doc: Record<string, unknown>): ComposeModel {
  const services = (doc.services ?? {}) as Record<string, Record<string, unknown> | null>;
  const model: ComposeModel = { doc, services: Object.keys(services), ports: [], hostNetwork: [] };
  for (const [service, body] of Object.entries(services)) {
    if (body?.network_mode === "host") model.hostNetwork.push(service);
    for (const entry of Array.isArray(body?.ports) ? body.ports : []) {
      model.ports.push(...published(service, entry));
    }
  }
  return model;
}

function published(service: string, entry: unknown): ModelPort[] {
  let host, target: string, protocol: string;
  if (typeof entry === "string") {
    const short = parseShortPort(entry);
    if (typeof short === "string") return [];
    [host, target, protocol] = [short.host, containerTarget(short), short.protocol];
  } else if (entry && typeof entry === "object") {
    const long = entry as Record<string, unknown>;
    if (long.published === undefined || long.published === "") return [];
    host = parseHostPorts(String(long.published));
    [target, protocol] = [String(long.target), String(long.protocol ?? "tcp")];
  } else return [];
  if (!host || typeof host === "string" || !("port" in host.start)) return [];
  const first = host.start.port;
  const last = host.end && "port" in host.end ? host.end.port : first;
  return Array.from(
    { length: last - first + 1 },
    (_, i) => ({ service, published: first + i, target, protocol }),
  );
}

/** The published ports that are not among `ports` (a slot's own): the same in every slot. */
export function fixedPorts(model: ComposeModel, ports: Set<number>): ModelPort[] {
  const hostNetwork = new Set(model.hostNetwork);
  return model.ports.filter((p) => !hostNetwork.has(p.service) && !ports.has(p.published));
}

/**
 * The entry a published port comes from: same protocol, a container port it covers and a host part
 * that can give it — preferring one written in the service itself, then a fixed number.
 */
export function sourceOf(port: ModelPort, sources: PortSource[]): PortSource | undefined {
  return sourceFinder(sources)(port);
}

/**
 * `sourceOf` for many ports: the entries are indexed once by service, then by protocol and container
 * port, so finding each port's entry does not scan every entry of a large file.
 */
export function sourceFinder(sources: PortSource[]): (port: ModelPort) => PortSource | undefined {
  // service → `protocol/container` → entries; a container range is filed under "range".
  const index = new Map<string | undefined, Map<string, PortSource[]>>();
  for (const s of sources) {
    if (typeof s.host !== "object") continue;
    const keyed = index.get(s.service) ?? new Map<string, PortSource[]>();
    index.set(s.service, keyed);
    const key = s.container.includes("-") ? "range" : `${s.protocol}/${s.container}`;
    keyed.get(key)?.push(s) ?? keyed.set(key, [s]);
  }
  return (port) => {
    const key = `${port.protocol}/${port.target}`;
    const fits = (s: PortSource) =>
      s.protocol === port.protocol && covers(s.container, port.target) && hostFits(s, port.published);
    const candidates = (service: string | undefined) => {
      const keyed = index.get(service);
      return [...keyed?.get(key) ?? [], ...keyed?.get("range") ?? []].filter(fits);
    };
    const pick = (list: PortSource[]) => list.find((s) => "port" in (s.host as object)) ?? list[0];
    // The service's own entry; else an anchor's or another file's (no service); else another service's.
    const found = pick(candidates(port.service)) ?? pick(candidates(undefined));
    if (found) return found;
    for (const service of index.keys()) {
      const other = service === port.service || service === undefined ? undefined : pick(candidates(service));
      if (other) return other;
    }
    return undefined;
  };
}

function covers(container: string, target: string): boolean {
  const [a, b = a] = container.split("-").map(Number);
  const [t, u = t] = target.split("-").map(Number);
  return a <= t && u <= b;
}

function hostFits(source: PortSource, port: number): boolean {
  const host = source.host as { start: { port?: number }; end?: { port?: number } };
  if (host.start.port === undefined) return true;
  return host.start.port <= port && port <= (host.end?.port ?? host.start.port);
}

/** One line per fixed port: service, port, and where it is written (see port_origin.ts). */
export function describeFixed(
  ports: ModelPort[],
  sources: { ports: PortSource[]; files: Record<string, string> },
) {
  const find = sourceFinder(sources.ports);
  return ports.map((port) =>
    `${port.service} publishes host port ${port.published} (→ ${port.target}/${port.protocol})` +
    portOrigin(port, find(port), sources)
  );
}
