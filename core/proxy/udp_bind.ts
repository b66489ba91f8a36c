/**
 * A UDP socket of this machine's: udp4 on 127.0.0.1, for a canonical UDP port (forward_udp.ts) and a
 * remote slot's UDP ports (udp_relay.ts). node:dgram, because Deno's own UDP API still needs
 * --unstable-net.
 */
type Socket = import("node:dgram").Socket;

/** Binds 127.0.0.1:`port`; rejects with Node's error (`code` EADDRINUSE, EACCES), the socket closed. */
export async function bindLocalUdp(port: number): Promise<Socket> {
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, "127.0.0.1", () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    socket.close();
    throw e;
  }
  socket.on("error", () => {}); // a client that went away (ICMP unreachable) is not our failure
  return socket;
}
