/**
 * The far end of a remote slot's UDP ports. ssh forwards TCP only, so UDP goes as frames over the
 * stdin/stdout of one `ssh <host> python3 -c <relay> <ports…>` per slot: each frame is
 * `client id (u32) · port (u16) · length (u16) · datagram`, big-endian. The relay gives every client
 * id a UDP socket of its own connected to 127.0.0.1:<port> on the host (where the engine publishes
 * it), so each reply goes back framed with the id of the client that asked — datagram boundaries and
 * per-client replies kept. It sends only to the ports it was started with, forgets a client after a
 * minute of silence, and exits when ssh closes its stdin. The frame with id 0 (port 0, empty) is its
 * "ready" once python3 runs. python3 is the one thing it needs on the host (`kinfra hosts test`).
 */
import type { Host } from "./hosts.ts";
import { shellWord, sshArgs } from "./ssh.ts";

/** The relay, run by the host's python3 (3.3+; standard library only). */
export const UDP_RELAY_PY = `
import os, select, socket, struct, sys, time
allowed = set(int(p) for p in sys.argv[1:])
clients, by_fd, buf, IDLE = {}, {}, b"", 60
def send(cid, port, data):
    view = memoryview(struct.pack(">IHH", cid, port, len(data)) + data)
    while view:
        view = view[os.write(1, view):]
send(0, 0, b"")
while True:
    ready = select.select([0] + list(by_fd), [], [], 10)[0]
    now = time.time()
    for fd in ready:
        if fd == 0:
            chunk = os.read(0, 65536)
            if not chunk:
                sys.exit(0)
            buf += chunk
            while len(buf) >= 8:
                cid, port, n = struct.unpack(">IHH", buf[:8])
                if len(buf) < 8 + n:
                    break
                data, buf = buf[8:8 + n], buf[8 + n:]
                if port not in allowed:
                    continue
                c = clients.get(cid)
                if c is None:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.connect(("127.0.0.1", port))
                    c = clients[cid] = [s, port, now]
                    by_fd[s.fileno()] = cid
                c[2] = now
                try:
                    c[0].send(data)
                except OSError:
                    pass
        else:
            c = clients.get(by_fd.get(fd))
            if c is None:
                continue
            try:
                data = c[0].recv(65535)
            except OSError:
                continue
            c[2] = now
            send(by_fd[fd], c[1], data)
    for cid, c in list(clients.items()):
        if now - c[2] > IDLE:
            del by_fd[c[0].fileno()]
            c[0].close()
            del clients[cid]
`;

/** `ssh` argv starting the relay on `host` for `ports`. */
export function udpRelayArgs(host: Host, ports: number[]): string[] {
  return [...sshArgs(host), ["python3", "-c", UDP_RELAY_PY, ...ports.map(String)].map(shellWord).join(" ")];
}

/**
 * What a relay that died said, as advice: a host without python3 gets told what to install. `what`
 * names the relay's job ("it relays the sandbox's UDP ports").
 */
export function relayFailure(
  host: Host,
  code: number,
  stderr: string,
  what = "it relays the sandbox's UDP ports",
): string {
  const last = stderr.trim().split("\n").pop() ?? "";
  if (code === 127 || /python3: (command )?not found|No such file/.test(stderr)) {
    return `python3 is missing on ${host.name}: install it there (${what})`;
  }
  return last || `the relay exited (${code})`;
}
