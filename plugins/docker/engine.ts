/**
 * Reads from the Docker Engine API over its socket: a few milliseconds, where spawning the docker
 * CLI costs 20–40. Used for the docker plugin's hot reads (a slot's containers, the scan of compose
 * projects). The endpoint is the one the CLI would use — `DOCKER_HOST`, else `DOCKER_CONTEXT` or
 * the config's current context, else the default socket. What this cannot speak (TLS, ssh://) or
 * reach gives undefined, and the caller runs the CLI instead, which reports any error properly.
 */
import { join, sha256Hex } from "../../core/hooks/plugin_api.ts";

type Endpoint = { unix: string } | { http: string };

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path).catch(() => "null"));

/** The endpoint of a `DOCKER_HOST`-style URL, or undefined for one only the CLI can use. */
function parseHost(host: string, tls: boolean): Endpoint | undefined {
  if (host.startsWith("unix://")) return { unix: host.slice("unix://".length) };
  if (host.startsWith("tcp://") && !tls) return { http: `http://${host.slice("tcp://".length)}` };
  return undefined;
}

/**
 * Where the CLI would send its requests, as far as this client can follow; `dockerHost` (a remote
 * slot's engine) wins over the environment.
 */
export async function engineEndpoint(dockerHost?: string): Promise<Endpoint | undefined> {
  if (dockerHost) return parseHost(dockerHost, false);
  const env = (name: string) => Deno.env.get(name) || undefined;
  const host = env("DOCKER_HOST");
  if (host) return parseHost(host, Boolean(env("DOCKER_TLS_VERIFY") || env("DOCKER_CERT_PATH")));
  const config = env("DOCKER_CONFIG") ?? join(env("HOME") ?? "/", ".docker");
  const context = env("DOCKER_CONTEXT") ?? (await readJson(join(config, "config.json")))?.currentContext;
  if (!context || context === "default") return { unix: "/var/run/docker.sock" };
  const id = await sha256Hex(context);
  const meta = await readJson(join(config, "contexts", "meta", id, "meta.json"));
  const contextHost = meta?.Endpoints?.docker?.Host;
  const tls = await Deno.stat(join(config, "contexts", "tls", id)).then(() => true, () => false);
  return typeof contextHost === "string" ? parseHost(contextHost, tls) : undefined;
}

/** All a connection sends until it closes (without `Response`, whose first use costs ~5 ms). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

/** One GET over a unix socket, HTTP/1.0 so the body is plain and ends with the connection. */
async function unixGet(socket: string, path: string, signal: AbortSignal): Promise<[number, string]> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const close = () => conn.close();
  signal.addEventListener("abort", close, { once: true });
  try {
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`));
    const text = await readToEnd(conn);
    const split = text.indexOf("\r\n\r\n");
    return [Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0), text.slice(split + 4)];
  } finally {
    signal.removeEventListener("abort", close);
    try {
      conn.close();
    } catch { /* closed at the end of the stream */ }
  }
}

/**
 * GETs `path` (e.g. `/containers/json?all=1`) from the engine and parses the JSON answer; undefined
 * when the endpoint is one only the CLI can use, or does not answer 200 within `timeoutMs` (2 s).
 */
export async function engineGet<T>(
  path: string,
  dockerHost?: string,
  timeoutMs = 2000,
): Promise<T | undefined> {
  const endpoint = await engineEndpoint(dockerHost);
  if (!endpoint) return undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    if ("unix" in endpoint) {
      const [status, body] = await unixGet(endpoint.unix, path, signal);
      return status === 200 ? JSON.parse(body) as T : undefined;
    }
    const response = await fetch(endpoint.http + path, { signal });
    return response.ok ? await response.json() as T : (await response.body?.cancel(), undefined);
  } catch {
    return undefined;
  }
}

/** `filters=` for a query: `{ label: ["a=b"] }` as the API wants it. */
export const filters = (value: Record<string, string[]>) =>
  `filters=${encodeURIComponent(JSON.stringify(value))}`;
