/**
 * One canonical TCP port: a listener on 127.0.0.1 whose connections lead to the current target.
 * Retargeting (a checkout switch) cuts every connection to the old target at once, so after the
 * switch no byte of the old sandbox reaches a client on the canonical port; new connections go to
 * the new one.
 */
import { Connections, connectLoopback } from "./pipe.ts";

export interface Target {
  port: number;
  /** Identifies the sandbox (slot id and claim time): a change of sandbox is a change of target. */
  sandbox: string;
  traffic: (delta: { bytes?: number; connections?: number }) => void;
}

const keyOf = (t: Target) => `${t.sandbox}:${t.port}`;

export class TcpForward {
  private readonly listener: Deno.TcpListener;
  private readonly connections = new Connections();

  /** Binds 127.0.0.1:`port` (throws Deno's AddrInUse / PermissionDenied). */
  constructor(readonly port: number, private target: Target) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port, transport: "tcp" });
    this.listener = listener;
    (async () => {
      for await (const conn of listener) this.serve(conn).catch(() => {});
    })().catch(() => {});
  }

  retarget(target: Target): number {
    const changed = keyOf(target) !== keyOf(this.target);
    this.target = target;
    return changed ? this.connections.cut((key) => key === keyOf(target)) : 0;
  }

  get open(): number {
    return this.connections.size;
  }

  private async serve(client: Deno.TcpConn): Promise<void> {
    client.setNoDelay(true);
    const target = this.target;
    const upstream = await connectLoopback(target.port);
    // Switched while connecting: this connection belongs to the old sandbox; close it.
    if (!upstream || keyOf(target) !== keyOf(this.target)) {
      for (const c of [client, upstream]) {
        try {
          c?.close();
        } catch { /* closed */ }
      }
      return;
    }
    target.traffic({ connections: 1 });
    await this.connections.pipe(keyOf(target), client, upstream, (n) => target.traffic({ bytes: n }));
  }

  close(): void {
    try {
      this.listener.close();
    } catch { /* closed */ }
    this.connections.cut(() => false);
  }
}
