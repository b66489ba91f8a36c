/**
 * Who holds a port, where the OS tells: on Linux the socket's inode from /proc/net/{tcp,udp}{,6}
 * and the process whose /proc/<pid>/fd links to it; elsewhere `lsof`. Processes of other users
 * are only visible to root, so the answer may be "another process" without a name.
 */
import type { Protocol } from "../slots/ports.ts";

export interface PortHolder {
  pid: number;
  /** The program name (`comm`), and its command line when readable. */
  name: string;
  command?: string;
}

/** Inodes of sockets bound to `port` (listening, for TCP) from one /proc/net table. */
export function socketInodes(table: string, port: number, protocol: Protocol): Set<string> {
  const inodes = new Set<string>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = fields[1], state = fields[3], inode = fields[9];
    if (parseInt(local.split(":").pop()!, 16) !== port) continue;
    if (protocol === "tcp" && state !== "0A") continue; // 0A: LISTEN
    if (inode !== "0") inodes.add(inode);
  }
  return inodes;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function linuxHolder(port: number, protocol: Protocol): PortHolder | undefined {
  const inodes = new Set<string>();
  for (const family of ["", "6"]) {
    const table = readText(`/proc/net/${protocol}${family}`);
    if (table) { for (const i of socketInodes(table, port, protocol)) inodes.add(i); }
  }
  if (!inodes.size) return undefined;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let fds: Iterable<Deno.DirEntry>;
    try {
      fds = Deno.readDirSync(`/proc/${entry.name}/fd`);
      for (const fd of fds) {
        let link: string;
        try {
          link = Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1])) return describe(Number(entry.name));
      }
    } catch {
      continue; // gone, or not ours to look at
    }
  }
  return undefined;
}

function describe(pid: number): PortHolder {
  const name = readText(`/proc/${pid}/comm`)?.trim() ?? "?";
  const cmdline = readText(`/proc/${pid}/cmdline`)?.split("\0").filter(Boolean).join(" ");
  // Another home's kinfra proxy: say whose (its KINFRA_HOME), so the fix is obvious.
  const home = cmdline?.endsWith("proxy run")
    ? readText(`/proc/${pid}/environ`)?.split("\0").find((v) => v.startsWith("KINFRA_HOME="))?.slice(12)
    : undefined;
  const command = home ? `the kinfra proxy of the home ${home}` : cmdline?.slice(0, 160);
  return { pid, name, ...(command ? { command } : {}) };
}

async function lsofHolder(port: number, protocol: Protocol): Promise<PortHolder | undefined> {
  const args = protocol === "tcp"
    ? ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"]
    : ["-nP", `-iUDP:${port}`, "-Fpc"];
  try {
    const out = await new Deno.Command("lsof", { args, stdout: "piped", stderr: "null" }).output();
    const text = new TextDecoder().decode(out.stdout);
    const pid = /^p(\d+)$/m.exec(text)?.[1];
    return pid ? { pid: Number(pid), name: /^c(.*)$/m.exec(text)?.[1] ?? "?" } : undefined;
  } catch {
    return undefined;
  }
}

/** The process holding `port`, or undefined when the OS does not say. */
export async function portHolder(port: number, protocol: Protocol = "tcp"): Promise<PortHolder | undefined> {
  if (Deno.build.os === "linux") return linuxHolder(port, protocol);
  return await lsofHolder(port, protocol);
}

/** "pid 123 (nc: nc -l 8080)" or "another process (the OS does not say which …)". */
export function describeHolder(holder: PortHolder | undefined, port: number, protocol: Protocol): string {
  if (!holder) {
    return `another process (the OS did not say which; try \`${
      protocol === "tcp" ? `ss -ltnp 'sport = :${port}'` : `ss -lunp 'sport = :${port}'`
    }\` or \`lsof -i :${port}\`)`;
  }
  return `pid ${holder.pid} (${holder.name}${holder.command ? `: ${holder.command}` : ""})`;
}
