/**
 * The control socket (`<home>/proxy/control.sock`, a Unix socket in the home, so only who can write
 * the home can use it): one JSON request per connection, one JSON reply. Requests:
 * `{op: "status"}`, `{op: "reconcile"}` (returns once every part has caught up with the registry),
 * `{op: "stop"}`.
 */
import type { ProxyState } from "./state.ts";
import { after } from "../io/timers.ts";

export type ControlRequest = { op: "status" | "reconcile" | "stop" };
export type ControlReply = { ok: true; state: ProxyState } | { ok: false; error: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readAll(conn: Deno.Conn, limit = 1 << 20): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    size += n;
    if (size > limit) throw new Error("control message too large");
    if (buf[n - 1] === 10) break; // one line per message
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  return decoder.decode(all);
}

/** Serves the socket until the listener is closed. */
export async function serveControl(
  listener: Deno.Listener,
  handle: (request: ControlRequest) => Promise<ControlReply>,
): Promise<void> {
  for await (const conn of listener) {
    (async () => {
      try {
        const request = JSON.parse(await readAll(conn)) as ControlRequest;
        const reply = await handle(request).catch((e) => ({ ok: false as const, error: String(e) }));
        await conn.write(encoder.encode(JSON.stringify(reply) + "\n"));
      } catch {
        /* a client that went away */
      } finally {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    })();
  }
}

/**
 * Sends one request to the running proxy. Undefined when none listens (no socket, or a dead one's
 * socket file); throws when it does not answer within `timeoutMs`.
 */
export async function askProxy(
  socket: string,
  request: ControlRequest,
  timeoutMs = 5_000,
): Promise<ControlReply | undefined> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused) return undefined;
    throw e;
  }
  const cancel = after(timeoutMs, () => conn.close());
  try {
    await conn.write(encoder.encode(JSON.stringify(request) + "\n"));
    const text = await readAll(conn);
    if (!text.trim()) return undefined; // it exited while we asked
    return JSON.parse(text) as ControlReply;
  } catch (e) {
    if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
      throw new Error(`the kinfra proxy did not answer within ${timeoutMs / 1000}s`);
    }
    if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) return undefined;
    throw e;
  } finally {
    cancel();
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}
