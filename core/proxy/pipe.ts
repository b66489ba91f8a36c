/**
 * Byte pumping between two TCP connections, shared by the router and the checkout forwarders:
 * each direction copied as it arrives (streams and WebSocket frames pass untouched), a finished
 * direction half-closed so the other can still drain, and every pair tracked by what it leads to,
 * so a switch can cut exactly the connections of the old target.
 */

const CHUNK = 256 * 1024;

/** Copies `from` → `to` until `from` ends; then half-closes `to`. Counts bytes through `onBytes`. */
async function pump(from: Deno.Conn, to: Deno.Conn, onBytes: (n: number) => void): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    onBytes(n);
    for (let done = 0; done < n;) done += await to.write(buf.subarray(done, n));
  }
  await (to as Deno.TcpConn).closeWrite?.();
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Live connection pairs, grouped by a key (what they lead to). */
export class Connections {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Pipes `client` ⇄ `upstream` until both directions end or `cut` is called for `key`. */
  async pipe(
    key: string,
    client: Deno.Conn,
    upstream: Deno.Conn,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const close = () => {
      closeQuietly(client);
      closeQuietly(upstream);
    };
    const set = this.byKey.get(key) ?? new Set();
    this.byKey.set(key, set.add(close));
    try {
      await Promise.all([
        pump(client, upstream, onBytes).catch(close),
        pump(upstream, client, onBytes).catch(close),
      ]);
    } finally {
      close();
      set.delete(close);
      if (!set.size && this.byKey.get(key) === set) this.byKey.delete(key);
    }
  }

  /** Closes every connection whose key is not kept (`keep` true keeps it); returns how many went. */
  cut(keep: (key: string) => boolean): number {
    let count = 0;
    for (const [key, set] of this.byKey) {
      if (keep(key)) continue;
      for (const close of set) close(), count++;
      this.byKey.delete(key);
    }
    return count;
  }

  get size(): number {
    let n = 0;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }
}

/** Connects to a sandbox port on loopback; undefined when nothing answers there. */
export async function connectLoopback(port: number): Promise<Deno.TcpConn | undefined> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port, transport: "tcp" });
    conn.setNoDelay(true);
    return conn;
  } catch {
    return undefined;
  }
}
