/**
 * Traces of a remote sandbox reach the shared collector on this machine. ssh carries them back: one
 * `ssh -R <socket on the host>:127.0.0.1:<OTLP port here> <host> python3 -c <forwarder> …` per
 * remote slot. `ssh -R` alone would listen on the host's loopback, which containers cannot reach
 * (and listening elsewhere needs `GatewayPorts` in the host's sshd), so the forwarder listens on the
 * Docker bridge's gateway address — what `host.docker.internal:host-gateway` resolves to in the
 * containers — on the slot's own port, and passes each connection to the forwarded socket. It reaches
 * nothing but this machine's collector, exits with its ssh (stdin closed) and removes the socket.
 */
import type { Host } from "./hosts.ts";
import { shellWord, sshArgs } from "./ssh.ts";

/**
 * The forwarder, run by the host's python3 (standard library only): `<address> <port> <socket>`;
 * the address may be an interface's name (the bridge's, when its gateway is not in the engine's
 * IPAM config — the default bridge's never is), read with SIOCGIFADDR (Linux).
 */
export const OTLP_FORWARDER_PY = `
import fcntl, os, socket, struct, sys, threading
address, port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    socket.inet_aton(address)
except OSError:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = socket.inet_ntoa(fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", address[:15].encode()))[20:24])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((address, port))
server.listen(64)
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s, how in ((b, socket.SHUT_WR), (a, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass
def serve(client):
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(target)
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream)
def watch():
    while os.read(0, 1024):
        pass
    try:
        os.unlink(target)
    except OSError:
        pass
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
os.write(1, b"ready\\n")
while True:
    client = server.accept()[0]
    threading.Thread(target=serve, args=(client,), daemon=True).start()
`;

/** Where the forwarded socket goes on the host: a fresh name per start (sshd does not replace a stale one). */
export const otlpSocket = (host: Host, slot: number) =>
  `${host.remote_home ?? "/tmp"}/.kinfra/otlp-${slot}-${crypto.randomUUID().slice(0, 8)}.sock`;

/** `ssh` argv: the collector's port here forwarded to `socket` there, and the forwarder on `address:port`. */
export function otlpRelayArgs(
  host: Host,
  collector: number,
  socket: string,
  address: string,
  port: number,
): string[] {
  return [
    "-o",
    "ExitOnForwardFailure=yes",
    "-R",
    `${socket}:127.0.0.1:${collector}`,
    ...sshArgs(host),
    ["python3", "-c", OTLP_FORWARDER_PY, address, String(port), socket].map(shellWord).join(" "),
  ];
}

/** The endpoint the containers of a remote slot get (with `host.docker.internal:host-gateway`). */
export const otlpEndpoint = (port: number) => `http://host.docker.internal:${port}`;
