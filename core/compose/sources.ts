/**
 * What kinfra knows of a project's compose files without the YAML library: their names, the shape of
 * a scan (core/compose/scan.ts), and each published port entry as data. Parsing is core/compose/file.ts,
 * loaded only when a file's text is new (the library costs ~25 ms of a command's start).
 */
import { join } from "../io/path.ts";
import { exists } from "../io/home.ts";
import { type HostPorts, parseShortPort, renderShort } from "./port_spec.ts";

export const COMPOSE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/** Aliases a document may expand to: far above real files, far below a billion laughs. */
export const MAX_ALIASES = 10_000;

export interface PortSource {
  /** The file, relative to the project root. */
  file: string;
  line: number;
  /** The key path to the entry: `services.web.ports[0]`, `x-common.ports[1]`. */
  where: string;
  /** The service when the entry is written directly in one. */
  service?: string;
  /** The entry as written. */
  text: string;
  /** `"8080:80"` (short) or a mapping's `published:` (long). */
  form: "short" | "long";
  /** Undefined when Docker picks the host port; a reason string when kinfra cannot read it. */
  host?: HostPorts | string;
  /** Container port(s) as written, without the protocol (a container variable's default). */
  container: string;
  /** The variable the container port is written with (`${JVB_PORT:-10000}`), if any. */
  containerVariable?: string;
  protocol: string;
  /** Source offsets of the scalar a rewrite replaces. */
  range: [number, number];
  /** The replacement scalar for a new host part. */
  render(host: string): string;
}

export interface ComposeSources {
  /** Every file read, relative to the project root, with its text. */
  files: Record<string, string>;
  /** Each file as plain data, aliases and merge keys applied. */
  values: Record<string, Record<string, unknown>>;
  ports: PortSource[];
  /** Files the compose file reaches that lie outside the project (read, never rewritten). */
  outside: string[];
}

/** The replacement scalar of an entry with a new host part: the short form keeps everything else. */
export function portRender(form: PortSource["form"], text: string): (host: string) => string {
  const parsed = form === "short" ? parseShortPort(text) : undefined;
  if (parsed === undefined) return (host) => JSON.stringify(host);
  return typeof parsed === "string" ? () => text : (host) => JSON.stringify(renderShort(parsed, host));
}

/** Container ports that conventionally serve HTTP (web servers, dev servers, admin UIs). */
const HTTP_PORTS = new Set([80, 3000, 4200, 5000, 5173, 8000, 8080, 8081, 8888, 9000, 9090]);

/** Whether a published port likely serves HTTP: a TCP port a web server conventionally listens on. */
export const servesHttp = (source: Pick<PortSource, "protocol" | "container">) =>
  source.protocol !== "udp" && HTTP_PORTS.has(Number(source.container));

/** The variables an entry's host part is written with (`${P:-9090}-${P_END:-9091}` → P, P_END). */
export function hostVariables(source: PortSource): string[] {
  if (typeof source.host !== "object") return [];
  return [source.host.start, source.host.end].flatMap((end) =>
    end && "variable" in end ? [end.variable] : []
  );
}

/** Finds the compose file in `dir` by Compose's own file names. */
export async function findComposeFile(dir: string): Promise<string | undefined> {
  for (const name of COMPOSE_NAMES) if (await exists(join(dir, name))) return name;
  return undefined;
}
