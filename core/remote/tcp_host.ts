/**
 * Sandboxes on a host without ssh — tcp://, TLS, or a docker context pointing at one — as
 * remote_slot.ts places them: kinfra's own engine client must reach the engine before anything is
 * made, and the code goes into volumes through the engine API (code_volumes.ts, engine_sync.ts).
 */
import type { Context } from "../context.ts";
import type { ComposeSources } from "../compose/file.ts";
import { environmentError, messageOf, usageError } from "../errors.ts";
import { engineEndpointOf, engineRequest } from "../io/engine_api.ts";
import { showEngine } from "../io/engine_address.ts";
import type { RemoteSlot } from "../slots/registry.ts";
import type { Host } from "./hosts.ts";
import { type BusyPorts, remoteBusyPorts } from "./ports.ts";

/**
 * A host without ssh (tcp://, TLS, or a context pointing at one) is reached by kinfra's own engine
 * client only (ports relayed, code fed through the API): it must answer it now, with the client
 * certificate a TLS engine wants — before anything is made.
 */
export async function checkEngineApi(host: Host): Promise<void> {
  const endpoint = engineEndpointOf(host.docker_host);
  if (!endpoint || "unix" in endpoint) {
    throw usageError(
      `Host "${host.name}" (${host.endpoint}) is this machine's engine socket, not a remote host.`,
      "Use --host local, or add the machine as ssh://user@host or tcp://host:port (`kinfra hosts add`).",
    );
  }
  const why = await engineRequest(endpoint, "GET", "/_ping", { signal: AbortSignal.timeout(5000) })
    .then(
      (a) =>
        a.status === 200
          ? undefined
          : /HTTPS server/.test(a.text())
          ? "it speaks TLS, and no certificates were given for it"
          : `it answered HTTP ${a.status}`,
      messageOf,
    );
  if (why) {
    throw environmentError(
      `Host "${host.name}" (${showEngine(host.docker_host)}) cannot be used: ${why}. Nothing was created.`,
      endpoint.tls
        ? `Check its TLS certificates (\`kinfra hosts test ${host.name}\`; re-add it with --tls-certs <dir>).`
        : `Check that its engine listens there (\`kinfra hosts test ${host.name}\`).`,
    );
  }
}

/**
 * A tcp:// host (plain or TLS, or a context pointing at one): the code goes into volumes through
 * the engine API, one per worktree directory the sandbox mounts (remote/code_volumes.ts). The
 * project's `shared` mounts are synced over ssh only: refused here rather than left empty there.
 */
export async function planVolumes(
  ctx: Context,
  host: Host,
  worktree: string,
  project: { shared: string[]; code: string[]; compose: ComposeSources },
): Promise<{ remote: RemoteSlot; busy: BusyPorts & { host: string } }> {
  await refuseWithoutSsh(host, project);
  const { codeSources, codeVolumes, volumeCopyName } = await import("./code_volumes.ts");
  const copy = await volumeCopyName(await ctx.homeId(), worktree);
  const [volumes, busy] = await Promise.all([
    codeVolumes(copy, worktree, codeSources(project.code, project.compose), host.name),
    remoteBusyPorts(ctx.exec, host),
  ]);
  return {
    remote: { host: host.name, docker_host: host.docker_host, copy, volumes },
    busy: { host: host.name, ...busy },
  };
}

/**
 * What a tcp:// host cannot carry, refused (exit 2) rather than started without it: `shared` mounts
 * and UDP ports, which go over ssh only. `impl --host` asks before it makes the worktree.
 */
export async function refuseWithoutSsh(host: Host, project: { shared: string[]; compose?: ComposeSources }) {
  const what = project.shared.length ? ["[sandbox.mounts] shared are synced"] : [];
  if (project.compose) {
    const { portProtocols } = await import("../compose/slot_compose.ts");
    const udp = Object.entries(portProtocols(project.compose)).filter(([, p]) => p.includes("udp")).map((
      [v],
    ) => v);
    if (udp.length) what.push(`UDP ports (${udp.join(", ")}) are relayed`);
  }
  if (!what.length) return;
  throw usageError(
    `Host "${host.name}" (${host.endpoint}) is reached over tcp://, and this sandbox's ${
      what.join(" and ")
    } over ssh only.`,
    "Run this sandbox on an ssh:// host (`kinfra hosts add <name> ssh://user@host`) or locally.",
  );
}
