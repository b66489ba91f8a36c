/**
 * Reads from the Docker Engine API directly: a few milliseconds, where spawning the docker CLI
 * costs 20–40. Used for the docker plugin's hot reads (a slot's containers, the scan of compose
 * projects). The endpoint is the one the CLI would use — `DOCKER_HOST` (with DOCKER_TLS_VERIFY /
 * DOCKER_CERT_PATH), else `DOCKER_CONTEXT` or the config's current context, else the default
 * socket — or a remote slot's engine address. What this cannot speak (ssh://) or reach gives
 * undefined, and the caller runs the CLI instead, which reports any error properly. Reads that have
 * no CLI form (a container's stats) may ask an ssh:// engine too (`viaSsh`): the request goes
 * through `ssh <host> docker system dial-stdio`, as the docker CLI's own ssh transport does — one
 * ssh handshake each.
 */
import {
  currentContextName,
  dockerConfigDir,
  engineEndpointOf,
  engineRequest,
  readDockerContext,
  tlsEngineAddress,
} from "../../core/hooks/plugin_api.ts";

/** The engine address the CLI would use in this environment, or undefined when it cannot be followed. */
async function environmentAddress(): Promise<string | undefined> {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const host = env("DOCKER_HOST");
  if (host) {
    if (!env("DOCKER_TLS_VERIFY")) return env("DOCKER_CERT_PATH") || env("DOCKER_TLS") ? undefined : host;
    return host.startsWith("tcp://")
      ? tlsEngineAddress(host, env("DOCKER_CERT_PATH") ?? dockerConfigDir())
      : undefined;
  }
  const context = await readDockerContext(await currentContextName());
  return context && !context.skipTlsVerify ? context.address : undefined;
}

/** `ssh://user@host[:port]` as ssh's destination and port. */
function sshTarget(host: string): { destination: string; port?: string } | undefined {
  const m = /^ssh:\/\/([^/:]+@[^/:]+|[^/:@]+)(?::([0-9]+))?\/?$/.exec(host);
  return m ? { destination: m[1], port: m[2] } : undefined;
}

/** One GET through `ssh … docker system dial-stdio` (HTTP/1.0: the answer ends with the stream). */
async function sshGet(host: string, path: string, signal: AbortSignal): Promise<[number, string]> {
  const target = sshTarget(host);
  if (!target) return [0, ""];
  const child = new Deno.Command("ssh", {
    args: [
      ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"],
      ...(target.port ? ["-p", target.port] : []),
      "--",
      target.destination,
      "docker system dial-stdio",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    signal,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`));
  const text = new TextDecoder().decode((await child.output()).stdout);
  await writer.close().catch(() => {});
  const split = text.indexOf("\r\n\r\n");
  return [Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0), text.slice(split + 4)];
}

/**
 * GETs `path` (e.g. `/containers/json?all=1`) from the engine and parses the JSON answer; undefined
 * when the endpoint is one only the CLI can use, or does not answer 200 within `timeoutMs` (2 s).
 * `address` (a remote slot's engine) wins over the environment.
 */
export async function engineGet<T>(
  path: string,
  address?: string,
  timeoutMs = 2000,
  viaSsh = false,
): Promise<T | undefined> {
  if (viaSsh && address?.startsWith("ssh://")) {
    try {
      const [status, body] = await sshGet(address, path, AbortSignal.timeout(timeoutMs));
      return status === 200 ? JSON.parse(body) as T : undefined;
    } catch {
      return undefined;
    }
  }
  const target = address ?? await environmentAddress();
  const endpoint = target && engineEndpointOf(target);
  if (!endpoint) return undefined;
  try {
    const answer = await engineRequest(endpoint, "GET", path, { signal: AbortSignal.timeout(timeoutMs) });
    return answer.status === 200 ? answer.json<T>() : undefined;
  } catch {
    return undefined;
  }
}

/** `filters=` for a query: `{ label: ["a=b"] }` as the API wants it. */
export const filters = (value: Record<string, string[]>) =>
  `filters=${encodeURIComponent(JSON.stringify(value))}`;
