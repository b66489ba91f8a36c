/**
 * One canonical UDP port: a socket on 127.0.0.1 that relays each client's datagrams to the current
 * target through a socket of its own (so replies find their way back), forgotten after a minute of
 * silence. Retargeting drops every session: the next datagram starts one with the new sandbox.
 * node:dgram, because Deno's own UDP API still needs --unstable-net.
 */
import type { Target } from "./forward_tcp.ts";
import { bindLocalUdp } from "./udp_bind.ts";

type Dgram = typeof import("node:dgram");
type Socket = import("node:dgram").Socket;
const IDLE_MS = 60_000;

export class UdpForward {
  private readonly sessions = new Map<string, { socket: Socket; seen: number }>();
  private sweeper?: ReturnType<typeof setInterval>;

  private constructor(
    readonly port: number,
    private target: Target,
    private readonly socket: Socket,
    private readonly dgram: Dgram,
  ) {
    socket.on("message", (msg, from) => this.relay(msg, from.address, from.port));
    this.sweeper = setInterval(() => this.sweep(), 10_000);
  }

  /** Binds 127.0.0.1:`port`; rejects with Node's error (`code` EADDRINUSE, EACCES). */
  static async open(port: number, target: Target): Promise<UdpForward> {
    const socket = await bindLocalUdp(port);
    const { default: dgram } = await import("node:dgram");
    return new UdpForward(port, target, socket, dgram);
  }

  private relay(msg: Uint8Array, address: string, port: number): void {
    const key = `${address}:${port}`;
    let session = this.sessions.get(key);
    if (!session) {
      const upstream = this.dgram.createSocket("udp4");
      upstream.on("error", () => {});
      upstream.on("message", (reply) => {
        this.socket.send(reply, port, address);
        this.target.traffic({ bytes: reply.length });
      });
      session = { socket: upstream, seen: Date.now() };
      this.sessions.set(key, session);
      this.target.traffic({ connections: 1 });
    }
    session.seen = Date.now();
    session.socket.send(msg, this.target.port, "127.0.0.1");
    this.target.traffic({ bytes: msg.length });
  }

  retarget(target: Target): number {
    const changed = target.sandbox !== this.target.sandbox || target.port !== this.target.port;
    this.target = target;
    if (!changed) return 0;
    const count = this.sessions.size;
    for (const s of this.sessions.values()) s.socket.close();
    this.sessions.clear();
    return count;
  }

  private sweep(): void {
    for (const [key, s] of this.sessions) {
      if (Date.now() - s.seen > IDLE_MS) {
        s.socket.close();
        this.sessions.delete(key);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of this.sessions.values()) s.socket.close();
    this.sessions.clear();
    try {
      this.socket.close();
    } catch { /* closed */ }
  }
}
