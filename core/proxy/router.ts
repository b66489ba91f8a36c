/**
 * The router: one TCP port on 127.0.0.1 that reads the first request head of a connection, picks
 * the sandbox by its Host header, and from then on copies bytes both ways untouched — so WebSocket
 * upgrades, server-sent events and streamed responses pass as they are. One connection leads to
 * one sandbox (browsers never share a connection between host names). An unknown name gets a page
 * listing the live sandboxes.
 */
import { Connections, connectLoopback } from "./pipe.ts";
import { requestHost, type Route } from "./names.ts";

const MAX_HEAD = 64 * 1024;
const HEAD_TIMEOUT_MS = 30_000;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export interface RouterHooks {
  route(host: string): Route | undefined;
  /** The HTML page for a name no sandbox has (and for bare `localhost`). */
  page(host: string): string;
  traffic(route: Route, delta: { bytes?: number; connections?: number; requests?: number }): void;
}

/** Reads until the end of the request head; returns the bytes read (head and anything after). */
async function readHead(conn: Deno.Conn): Promise<Uint8Array | undefined> {
  const buf = new Uint8Array(MAX_HEAD);
  let size = 0;
  const timer = setTimeout(() => conn.close(), HEAD_TIMEOUT_MS);
  try {
    while (size < MAX_HEAD) {
      const n = await conn.read(buf.subarray(size));
      if (n === null) return undefined;
      const from = Math.max(0, size - 3);
      size += n;
      if (decoder.decode(buf.subarray(from, size)).includes("\r\n\r\n")) return buf.slice(0, size);
    }
    return buf.slice(0, size); // an oversized head: the sandbox answers it (431) if it wants
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function hostOf(head: Uint8Array): string {
  const text = decoder.decode(head.subarray(0, Math.min(head.length, MAX_HEAD)));
  const match = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(text.slice(0, text.indexOf("\r\n\r\n") + 2 || undefined));
  return match ? requestHost(match[1]) : "";
}

function respond(conn: Deno.Conn, status: string, html: string): Promise<void> {
  const body = encoder.encode(html);
  const head =
    `HTTP/1.1 ${status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
    "cache-control: no-store\r\nconnection: close\r\n\r\n";
  return conn.write(encoder.encode(head)).then(() => conn.write(body)).then(() => {}, () => {});
}

export class Router {
  private listener?: Deno.TcpListener;
  readonly connections = new Connections();

  constructor(private readonly hooks: RouterHooks) {}

  /** Listens on 127.0.0.1:`port`; throws Deno's error when the port cannot be bound. */
  listen(port: number): void {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port, transport: "tcp" });
    const listener = this.listener;
    (async () => {
      for await (const conn of listener) this.serve(conn).catch(() => {});
    })().catch(() => {});
  }

  get port(): number | undefined {
    return this.listener?.addr.port;
  }

  private async serve(client: Deno.TcpConn): Promise<void> {
    client.setNoDelay(true);
    const head = await readHead(client);
    if (!head) return void tryClose(client);
    const host = hostOf(head);
    const route = this.hooks.route(host);
    if (!route) {
      const known = host === "localhost" || host === "127.0.0.1" || host === "";
      await respond(client, known ? "200 OK" : "404 Not Found", this.hooks.page(host));
      return void tryClose(client);
    }
    const upstream = await connectLoopback(route.port);
    if (!upstream) {
      await respond(
        client,
        "502 Bad Gateway",
        this.hooks.page(host).replace(
          "<!--status-->",
          `<p class="bad">${escapeHtml(host)} is ${
            escapeHtml(route.worktree.path)
          }, but nothing answers on its port ${route.port} (${escapeHtml(route.variable)}) yet.</p>`,
        ),
      );
      return void tryClose(client);
    }
    this.hooks.traffic(route, { connections: 1, requests: 1, bytes: head.length });
    for (let done = 0; done < head.length;) done += await upstream.write(head.subarray(done));
    const key = routeKey(route);
    await this.connections.pipe(key, client, upstream, (n) => this.hooks.traffic(route, { bytes: n }));
  }

  close(): void {
    try {
      this.listener?.close();
    } catch { /* closed */ }
    this.listener = undefined;
    this.connections.cut(() => false);
  }
}

function tryClose(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

/** What a connection leads to: its name and its sandbox's port — a change of either cuts it. */
export const routeKey = (r: Route) => `${r.host}|${r.slot.slot_id}:${r.slot.claimed_at}:${r.port}`;

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
