/**
 * The Docker Engine API, spoken directly: over the unix socket, plain tcp://, or TLS with the
 * client certificate a TLS engine wants (the same ca.pem/cert.pem/key.pem the docker CLI takes
 * from DOCKER_CERT_PATH). Each request is one HTTP/1.0 exchange on its own connection, so the
 * answer is the bytes up to the close: no chunking, no keep-alive. ssh:// engines are not spoken
 * here (the docker CLI carries those).
 */
import { join } from "./path.ts";
import { splitEngineAddress } from "./engine_address.ts";

export type EngineEndpoint =
  | { unix: string }
  | { hostname: string; port: number; tls?: string };

/** The endpoint of an engine address, or undefined for one this client cannot speak (ssh://). */
export function engineEndpointOf(address: string): EngineEndpoint | undefined {
  const { docker_host, tls } = splitEngineAddress(address);
  if (docker_host.startsWith("unix://")) return { unix: docker_host.slice("unix://".length) };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::([0-9]+))?\/?$/.exec(docker_host);
  if (!m) return undefined;
  return {
    hostname: m[1].replace(/^\[|\]$/g, ""),
    port: m[2] ? Number(m[2]) : tls ? 2376 : 2375,
    ...(tls ? { tls } : {}),
  };
}

/** The PEM files of a certificate directory; ca.pem is required, cert.pem/key.pem come as a pair. */
export async function readTlsDir(dir: string): Promise<{ caCerts: string[]; cert?: string; key?: string }> {
  const read = (f: string) => Deno.readTextFile(join(dir, f)).catch(() => undefined);
  const [ca, cert, key] = await Promise.all([read("ca.pem"), read("cert.pem"), read("key.pem")]);
  if (!ca) throw new Error(`no readable ca.pem in ${dir}`);
  return { caCerts: [ca], ...(cert && key ? { cert, key } : {}) };
}

async function connect(endpoint: EngineEndpoint): Promise<Deno.Conn> {
  if ("unix" in endpoint) return await Deno.connect({ transport: "unix", path: endpoint.unix });
  if (!endpoint.tls) return await Deno.connect({ hostname: endpoint.hostname, port: endpoint.port });
  const conn = await Deno.connectTls({
    hostname: endpoint.hostname,
    port: endpoint.port,
    ...await readTlsDir(endpoint.tls),
  });
  await conn.handshake();
  return conn;
}

export interface EngineAnswer {
  status: number;
  body: Uint8Array;
  text: () => string;
  json: <T>() => T;
}

/**
 * One request to the engine. Throws when it cannot connect (refused, TLS handshake failed, a
 * certificate the engine does not accept) or `signal` ends it; any HTTP status is an answer.
 */
export async function engineRequest(
  endpoint: EngineEndpoint,
  method: string,
  path: string,
  options: { body?: Uint8Array; contentType?: string; signal?: AbortSignal } = {},
): Promise<EngineAnswer> {
  options.signal?.throwIfAborted();
  const conn = await connect(endpoint);
  const close = () => {
    try {
      conn.close();
    } catch { /* closed */ }
  };
  options.signal?.addEventListener("abort", close, { once: true });
  try {
    const head = [
      `${method} ${path} HTTP/1.0`,
      "Host: docker",
      ...(options.body
        ? [
          `Content-Type: ${options.contentType ?? "application/json"}`,
          `Content-Length: ${options.body.length}`,
        ]
        : []),
      "",
      "",
    ].join("\r\n");
    await writeAll(conn, new TextEncoder().encode(head));
    if (options.body) await writeAll(conn, options.body);
    const bytes = await readToEnd(conn);
    const split = indexOfBlankLine(bytes);
    const status = Number(
      /^HTTP\/1\.\d (\d{3})/.exec(new TextDecoder().decode(bytes.subarray(0, 16)))?.[1] ?? 0,
    );
    const body = split < 0 ? new Uint8Array() : bytes.subarray(split + 4);
    return {
      status,
      body,
      text: () => new TextDecoder().decode(body),
      json: <T>() => JSON.parse(new TextDecoder().decode(body)) as T,
    };
  } finally {
    options.signal?.removeEventListener("abort", close);
    close();
  }
}

/** All a connection sends until it closes (without `Response`, whose first use costs ~5 ms). */
async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const buffer = new Uint8Array(64 * 1024);
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.subarray(0, n));
    size += n;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) out.set(c, offset), offset += c.length;
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array) {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** The engine's error message of a failed answer (`{"message": …}`), or its status. */
export function engineMessage(answer: EngineAnswer): string {
  try {
    return answer.json<{ message?: string }>().message ?? `HTTP ${answer.status}`;
  } catch {
    return answer.text().trim() || `HTTP ${answer.status}`;
  }
}
