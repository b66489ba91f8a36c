/**
 * What `kinfra checkout` refuses before it changes anything: a canonical port that another
 * project's checkout forwards, that kinfra's router uses, that some other process holds (named
 * where the OS tells), or that the OS will not let us bind (below 1024 without the privilege).
 */
import type { Context } from "../context.ts";
import { Exit, KinfraError } from "../errors.ts";
import { type CanonicalPort, canonicalPorts, checkoutsOf } from "../proxy/checkouts.ts";
import { askProxy } from "../proxy/control.ts";
import { describeHolder, portHolder } from "../proxy/holder.ts";
import { proxyPaths } from "../proxy/paths.ts";
import type { Registry, WorktreeEntry } from "../slots/registry.ts";

type BindResult = "free" | "in use" | "denied";

async function tryBind(port: number, protocol: "tcp" | "udp"): Promise<BindResult> {
  if (protocol === "tcp") {
    try {
      Deno.listen({ hostname: "127.0.0.1", port, transport: "tcp" }).close();
      return "free";
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) return "in use";
      if (e instanceof Deno.errors.PermissionDenied) return "denied";
      throw e;
    }
  }
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  return await new Promise((resolve) => {
    socket.once("error", (e: Error & { code?: string }) => {
      socket.close();
      resolve(e.code === "EACCES" ? "denied" : "in use");
    });
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve("free")));
  });
}

/** What the OS needs for a port below 1024, in a sentence or two. */
export function privilegedHint(port: number): string {
  if (Deno.build.os === "linux") {
    return `On Linux, allow unprivileged processes from port ${port} up: \`sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${port}\` ` +
      `(persist it in /etc/sysctl.d/), or give kinfra the capability: \`sudo setcap cap_net_bind_service=+ep ${Deno.execPath()}\`. ` +
      "Or use a base of 1024 or more in [sandbox.ports].";
  }
  return `Ports below 1024 need root on this system (${Deno.build.os}); use a base of 1024 or more in [sandbox.ports].`;
}

/** The reasons `entry` cannot get `ports`, as one error; undefined when it can. */
export async function refusals(
  ctx: Context,
  registry: Registry,
  entry: WorktreeEntry,
  ports: CanonicalPort[],
): Promise<KinfraError | undefined> {
  const held: string[] = [];
  const taken = new Map<string, string>();
  for (const other of checkoutsOf(registry)) {
    if (other.project === entry.project || !other.slot) continue;
    for (const p of canonicalPorts(other.slot)) {
      taken.set(`${p.protocol}:${p.port}`, `${other.project} (${other.worktree.path})`);
    }
  }
  const proxy = await askProxy(proxyPaths(ctx.home).socket, { op: "status" }).catch(() => undefined);
  const proxyPid = proxy?.ok ? proxy.state.pid : undefined;
  const routerPort = (await ctx.globalConfig()).proxy.port;
  let denied: CanonicalPort | undefined;
  for (const p of ports) {
    const what = `port ${p.port}${p.protocol === "udp" ? "/udp" : ""} (${p.variable})`;
    const other = taken.get(`${p.protocol}:${p.port}`);
    if (other) {
      held.push(
        `${what} is the checked-out canonical port of project ${other}; run \`kinfra checkout --none\` there first`,
      );
      continue;
    }
    if (p.protocol === "tcp" && p.port === routerPort) {
      held.push(
        `${what} is kinfra's router port ([proxy] port in the global config); choose another for one of them`,
      );
      continue;
    }
    const result = await tryBind(p.port, p.protocol);
    if (result === "denied") denied ??= p;
    if (result !== "in use") continue;
    const holder = await portHolder(p.port, p.protocol);
    if (holder && holder.pid === proxyPid) continue; // our own forward of this project: a switch keeps it
    held.push(`${what} is held by ${describeHolder(holder, p.port, p.protocol)}`);
  }
  if (held.length) {
    return new KinfraError(`Cannot check out ${entry.path}: ${held[0]}.`, {
      code: Exit.blocked,
      details: held.slice(1).map((h) => `also ${h}`),
      hint: "Nothing was changed. Stop that process (or move it to another port), then run this again.",
    });
  }
  if (denied) {
    return new KinfraError(
      `Cannot check out ${entry.path}: port ${denied.port} (${denied.variable}) is below 1024, and the OS does not let this process bind it.`,
      { code: Exit.environment, hint: `Nothing was changed. ${privilegedHint(denied.port)}` },
    );
  }
  return undefined;
}
