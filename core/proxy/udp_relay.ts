/**
 * The near end of a remote slot's UDP ports (the far end: core/remote/udp_relay.ts): a socket on
 * 127.0.0.1:<port> here for each port, and each client (address and port) turned into a client id
 * whose datagrams go as frames over a byte channel — ssh's stdin/stdout to the host's relay — and
 * whose replies come back to it alone. One datagram is one frame, so boundaries hold. A client is
 * forgotten after a minute of silence (the relay forgets it too). The channel is whatever carries
 * bytes both ways: the transport (ssh today) is the caller's business.
 * node:dgram, because Deno's own UDP API still needs --unstable-net.
 */
import { bindLocalUdp } from "./udp_bind.ts";

type Socket = import("node:dgram").Socket;

const HEADER = 8;
const IDLE_MS = 60_000;
/** Datagrams waiting for the channel past this are dropped (UDP may lose them; memory must not grow). */
const MAX_QUEUED = 4 << 20;

export interface ByteChannel {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

interface Client {
  address: string;
  port: number;
  socket: Socket;
  seen: number;
}

/** One frame: client id, port, length, datagram. */
export function frame(id: number, port: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, id);
  view.setUint16(4, port);
  view.setUint16(6, data.length);
  out.set(data, HEADER);
  return out;
}

/** Splits complete frames off `buffer`; returns them and what is left. */
export function unframe(buffer: Uint8Array): {
  frames: { id: number; port: number; data: Uint8Array }[];
  rest: Uint8Array;
} {
  const frames = [];
  let at = 0;
  while (buffer.length - at >= HEADER) {
    const view = new DataView(buffer.buffer, buffer.byteOffset + at);
    const length = view.getUint16(6);
    if (buffer.length - at < HEADER + length) break;
    frames.push({
      id: view.getUint32(0),
      port: view.getUint16(4),
      data: buffer.slice(at + HEADER, at + HEADER + length),
    });
    at += HEADER + length;
  }
  return { frames, rest: buffer.slice(at) };
}

export class UdpRelay {
  private readonly clients = new Map<number, Client>();
  private readonly ids = new Map<string, number>();
  private nextId = 1;
  private queued = 0;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly sweeper: ReturnType<typeof setInterval>;
  /** Resolves once the far end said it runs; rejects when the channel ends before. */
  readonly ready: Promise<void>;
  /** Resolves when the channel ends (the far end or its transport went away). */
  readonly ended: Promise<void>;

  private constructor(private readonly sockets: Map<number, Socket>, channel: ByteChannel) {
    this.writer = channel.writable.getWriter();
    this.writer.closed.catch(() => {});
    let ready!: () => void, never!: (e: Error) => void;
    this.ready = new Promise((res, rej) => [ready, never] = [res, rej]);
    this.ready.catch(() => {});
    for (const [port, socket] of sockets) {
      socket.on("message", (msg, from) => this.fromClient(port, socket, msg, from.address, from.port));
    }
    this.ended = this.read(channel.readable, ready).finally(() =>
      never(new Error("the relay ended before it was ready"))
    );
    this.sweeper = setInterval(() => this.sweep(), 10_000);
  }

  /** Binds 127.0.0.1:`port` for each port; rejects with Node's error (`code` EADDRINUSE) and binds nothing. */
  static async open(ports: number[], channel: ByteChannel): Promise<UdpRelay> {
    const sockets = new Map<number, Socket>();
    try {
      for (const port of ports) sockets.set(port, await bindLocalUdp(port));
    } catch (e) {
      for (const s of sockets.values()) s.close();
      throw e;
    }
    return new UdpRelay(sockets, channel);
  }

  private fromClient(port: number, socket: Socket, msg: Uint8Array, address: string, from: number) {
    const key = `${port}/${address}:${from}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(key, id);
      this.clients.set(id, { address, port: from, socket, seen: 0 });
    }
    this.clients.get(id)!.seen = Date.now();
    if (this.queued > MAX_QUEUED) return;
    const bytes = frame(id, port, msg);
    this.queued += bytes.length;
    this.writer.write(bytes).catch(() => {}).finally(() => this.queued -= bytes.length);
  }

  private async read(readable: ReadableStream<Uint8Array>, ready: () => void): Promise<void> {
    let buffer: Uint8Array = new Uint8Array(0);
    try {
      for await (const chunk of readable) {
        const joined = new Uint8Array(buffer.length + chunk.length);
        joined.set(buffer);
        joined.set(chunk, buffer.length);
        const { frames, rest } = unframe(joined);
        buffer = rest;
        for (const f of frames) {
          if (f.id === 0) {
            ready();
            continue;
          }
          const client = this.clients.get(f.id);
          if (!client) continue;
          client.seen = Date.now();
          client.socket.send(f.data, client.port, client.address);
        }
      }
    } catch { /* the channel broke: ended */ }
  }

  private sweep(): void {
    for (const [id, c] of this.clients) {
      if (Date.now() - c.seen > IDLE_MS) {
        this.clients.delete(id);
        for (const [key, value] of this.ids) if (value === id) this.ids.delete(key);
      }
    }
  }

  /** Number of clients seen in the last minute. */
  get clientCount(): number {
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of this.sockets.values()) {
      try {
        s.close();
      } catch { /* closed */ }
    }
    this.writer.close().catch(() => {});
  }
}
