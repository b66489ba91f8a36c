/**
 * Which ports are in use on a remote host — asked of the host, since a local bind test says
 * nothing about another machine: its listening sockets (/proc/net, read over ssh) and the ports
 * its engine publishes (which need no socket when Docker's userland proxy is off).
 */
import type { Exec } from "../io/exec.ts";
import type { Host } from "./hosts.ts";
import { hostDown, onHost } from "./ssh.ts";
import { execOnEngine } from "../io/engine.ts";

export interface BusyPorts {
  tcp: Set<number>;
  udp: Set<number>;
}

/** Local ports of /proc/net/{tcp,udp}[6] lines: tcp in LISTEN (0A), udp bound (07). */
export function parseProcNet(text: string, busy: BusyPorts): void {
  let udp = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("==udp")) udp = true;
    if (line.startsWith("==tcp")) udp = false;
    const fields = line.trim().split(/\s+/);
    const local = fields[1]?.split(":").pop();
    if (!local || !/^[0-9A-F]{4}$/.test(local)) continue;
    const port = parseInt(local, 16);
    if (udp && fields[3] === "07") busy.udp.add(port);
    if (!udp && fields[3] === "0A") busy.tcp.add(port);
  }
}

/** Published ports in `docker ps --format {{.Ports}}` text: `0.0.0.0:8081->8080/tcp, …`. */
export function parsePublished(text: string, busy: BusyPorts): void {
  for (const m of text.matchAll(/:([0-9]+)(?:-([0-9]+))?->[0-9]+(?:-[0-9]+)?\/(tcp|udp|sctp)/g)) {
    const from = Number(m[1]), to = Number(m[2] ?? m[1]);
    for (let p = from; p <= to; p++) (m[3] === "udp" ? busy.udp : busy.tcp).add(p);
  }
}

/** The ports in use on `host`; a host that does not answer is an error naming it. */
export async function remoteBusyPorts(exec: Exec, host: Host): Promise<BusyPorts> {
  const busy: BusyPorts = { tcp: new Set(), udp: new Set() };
  const files = ["tcp", "tcp6", "udp", "udp6"];
  const [net, published] = await Promise.all([
    host.ssh
      ? onHost(exec, host, [
        "sh",
        "-c",
        files.map((f) => `echo ==${f}; cat /proc/net/${f} 2>/dev/null`).join("; "),
      ])
      : undefined,
    execOnEngine(exec, host.docker_host, host.name)("docker", ["ps", "--format", "{{.Ports}}"]),
  ]);
  if (net && net.code === 255) throw hostDown(host, net.stderr.trim().split("\n").pop() ?? "ssh failed");
  if (!published.success) throw hostDown(host, published.stderr.trim().split("\n").pop() ?? "docker failed");
  if (net) parseProcNet(net.stdout, busy);
  parsePublished(published.stdout, busy);
  return busy;
}
