/** Helpers for tests of the kinfra proxy process: a router port per test home, its state, raw HTTP. */
import { join } from "node:path";
import type { Sandbox } from "./helpers.ts";

/** A router port of its own for a test home (away from slot bases 20000–31999 and observability's). */
export async function useRouterPort(sb: Sandbox, extra = ""): Promise<number> {
  const port = 12000 + Math.floor(Math.random() * 2000);
  await Deno.mkdir(sb.home, { recursive: true });
  const path = join(sb.home, "config.toml");
  const before = await Deno.readTextFile(path).catch(() => "");
  await Deno.writeTextFile(path, `${before}\n[proxy]\nport = ${port}\n${extra}`);
  return port;
}

export interface ProxyStatus {
  running: boolean;
  pid?: number;
  needed_by?: string[];
  parts?: Record<string, Record<string, unknown>>;
}

export async function proxyStatus(sb: Sandbox): Promise<ProxyStatus> {
  const r = await sb.kinfra(["proxy", "status", "--json"]);
  if (r.code !== 0) throw new Error(`proxy status failed: ${r.stderr}`);
  return r.json<ProxyStatus>();
}

/** Polls until `check` holds (or throws after `timeoutMs` with the last value). */
export async function eventually<T>(
  what: string,
  get: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await get();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True while a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * One HTTP/1.1 request over a raw TCP connection to 127.0.0.1:`port` with the given Host header;
 * returns the status and body ("" and status 0 when the connection closed without an answer).
 */
export async function rawGet(
  port: number,
  host: string,
  path = "/",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    const text = await readToEnd(conn);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Everything a connection sends until it closes (a reset counts as the end). */
export async function readToEnd(conn: Deno.Conn): Promise<string> {
  const chunks: string[] = [];
  const buf = new Uint8Array(16384);
  const decoder = new TextDecoder();
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break;
    }
    if (n === null) break;
    chunks.push(decoder.decode(buf.subarray(0, n), { stream: true }));
  }
  return chunks.join("");
}
