/**
 * A sandbox on a remote host, from the core's side: which host (`--host`, the worktree's last one,
 * `[sandbox] host`, `auto`), what is checked before the claim (ssh answers, ports in use there),
 * what runs around `compose up` (the first copy of the code; tunnels and sync by the proxy), and
 * a release that trusts only the host itself (release.ts): a slot whose host does not answer stays
 * reserved, so the next command (stale repair) finishes the job and says which host it waits for.
 */
import type { Context } from "../context.ts";
import type { ComposeSources } from "../compose/file.ts";
import { KinfraError, messageOf, usageError } from "../errors.ts";
import { readRegistry, type RemoteSlot, type SlotEntry, updateRegistry } from "../slots/registry.ts";
import { execOnEngine } from "../io/engine.ts";
import { tunnelPorts, udpTunnelPorts } from "./tunnels.ts";
import { getHost, type Host, LOCAL, updateHosts } from "./hosts.ts";
import { type BusyPorts, remoteBusyPorts } from "./ports.ts";
import { hostDown, onHost } from "./ssh.ts";
export { releaseChecked, settleRemote } from "./release.ts";
export { chooseHost } from "./choose_host.ts";
import { initialSync, remoteCopyDir, removeCopy } from "./sync.ts";
import { removeShared, sharedCopy, sharedInUse, syncShared } from "./shared_copy.ts";

/** The remote user's home (asked once, then kept with the host). */
export async function remoteHome(ctx: Context, host: Host): Promise<string> {
  if (host.remote_home) return host.remote_home;
  const result = await onHost(ctx.exec, host, ["sh", "-c", 'printf %s "$HOME"']);
  if (result.code === 255 || !result.success || !result.stdout.startsWith("/")) {
    throw hostDown(host, result.stderr.trim().split("\n").pop() || "no home directory");
  }
  const home = result.stdout;
  await updateHosts(ctx.home, (file) => {
    if (file.hosts[host.name]) file.hosts[host.name].remote_home = home;
  });
  return host.remote_home = home;
}

/** What a claim on `host` needs: the slot's remote record and the ports in use there. */
export async function planRemote(
  ctx: Context,
  host: Host,
  worktree: string,
  project: { name: string; root: string; shared: string[]; code: string[]; compose: ComposeSources },
): Promise<{ remote: RemoteSlot; busy: BusyPorts & { host: string } }> {
  if (!host.ssh) return await (await import("./tcp_host.ts")).planVolumes(ctx, host, worktree, project);
  await remoteHome(ctx, host);
  const homeId = await ctx.homeId();
  const [copy, shared, busy] = await Promise.all([
    remoteCopyDir(host, homeId, worktree),
    sharedCopy(host, homeId, project.name, project.root, project.shared),
    remoteBusyPorts(ctx.exec, host),
  ]);
  return {
    remote: { host: host.name, docker_host: host.docker_host, copy, ...(shared && { shared }) },
    busy: { host: host.name, ...busy },
  };
}

/**
 * After the claim, before `compose up`: the code copied over, then the proxy process (its tunnels
 * and sync parts) serving the slot, and its first port listening here — the health gate goes
 * through the tunnels. Releasing the slot is what stops them (the proxy follows the registry).
 */
export async function startRemote(
  ctx: Context,
  slot: SlotEntry,
  options: { traces?: boolean; busy?: Set<number> } = {},
): Promise<void> {
  const remote = slot.remote!;
  const host = await getHost(ctx.home, remote.host);
  // Where its traces go over there, recorded before the proxy reads the slot (its tunnels part opens
  // it). They come back over ssh: a tcp:// host's sandboxes have none yet.
  if (options.traces && host.ssh) await planTraces(ctx, host, slot, options.busy ?? new Set());
  const { ensureProxy, reconcileProxy } = await import("../proxy/ensure.ts");
  const ports = [...tunnelPorts(slot), ...udpTunnelPorts(slot)];
  // The copy and the proxy (which opens the tunnels) at once: both wait on the network.
  const copied = async () => {
    if (!remote.copy) return;
    ctx.log.step(`Copying ${slot.worktree_path} to ${host.name}:${remote.copy}`);
    const start = performance.now();
    if (remote.volumes) {
      const { syncSlotVolumes } = await import("./volume_copy.ts");
      await syncSlotVolumes(
        ctx.exec,
        ctx.home.root,
        await ctx.homeId(),
        remote,
        slot.worktree_path,
        ctx.signal,
      );
    } else await initialSync(ctx.exec, host, slot.worktree_path, remote.copy, ctx.signal);
    ctx.log.info(`copied in ${Math.round(performance.now() - start)} ms`);
  };
  // The shared mounts' copy (another slot of the project there may have made it: one more pass is cheap).
  const shared = async () => {
    if (!remote.shared) return;
    ctx.log.step(
      `Copying the shared mounts (${remote.shared.paths.join(", ")}) to ${host.name}:${remote.shared.copy}`,
    );
    await syncShared(ctx.exec, host, remote.shared, ctx.signal);
  };
  await Promise.all([copied(), shared(), ports.length && ensureProxy(ctx, { wait: true })]);
  if (!ports.length) return;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline && !ctx.signal.aborted;) {
    const state = await reconcileProxy(ctx, "status");
    const tunnel =
      (state?.parts.tunnels?.slots as Record<string, { state: string; error?: string }> | undefined)
        ?.[String(slot.slot_id)];
    if (tunnel?.state === "up") return;
    if (tunnel?.state === "down") {
      throw new KinfraError(`The tunnels to ${host.name} did not come up: ${tunnel.error}.`, {
        hint: `See \`kinfra proxy status\` and \`kinfra hosts test ${host.name}\`.`,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ctx.signal.aborted) {
    throw new KinfraError(`The tunnels to ${host.name} did not come up within 15 s.`, {
      hint: "See `kinfra proxy status`.",
    });
  }
}

/**
 * The address and port a remote slot's containers send traces to: the host's Docker bridge gateway
 * (what `host.docker.internal:host-gateway` resolves to) and a port of the slot's own there
 * (43100 + slot, else 44100 + slot…, one that is free on the host). Recorded with the slot; the
 * proxy's tunnels part runs the forwarder (otlp_relay.ts). Without a gateway, traces stay off.
 */
async function planTraces(ctx: Context, host: Host, slot: SlotEntry, busy: Set<number>): Promise<void> {
  const inspect = await execOnEngine(ctx.exec, host.docker_host, host.name)("docker", [
    "network",
    "inspect",
    "bridge",
    "--format",
    '{{range .IPAM.Config}}{{.Gateway}}{{end}} {{index .Options "com.docker.network.bridge.name"}}',
  ]);
  // The gateway when the engine names it, else the bridge's interface (the forwarder reads its address).
  const [gateway, bridge] = inspect.success ? inspect.stdout.trimEnd().split(" ") : [];
  const address = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(gateway ?? "") ? gateway : bridge;
  const port = [43100, 44100, 45100].map((b) => b + slot.slot_id).find((p) => !busy.has(p));
  if (!address || !/^[A-Za-z0-9.:_-]{1,40}$/.test(address) || !port) {
    ctx.log.warn(`Traces off for this sandbox: no Docker bridge gateway or free port on ${host.name}.`);
    return;
  }
  const otlp = { address, port };
  await updateRegistry(ctx.home, (registry) => {
    const current = registry.slots[String(slot.slot_id)];
    if (current?.claimed_at === slot.claimed_at && current.remote) current.remote.otlp = otlp;
  });
  slot.remote!.otlp = otlp;
}

/** `done`: the worktree's copy on the host goes too (a host that does not answer is reported). */
export async function removeRemoteCopy(
  ctx: Context,
  remote: RemoteSlot | undefined,
): Promise<string | undefined> {
  if (!remote?.copy) return undefined;
  const host = await getHost(ctx.home, remote.host).catch(() => undefined);
  if (!host) return `the copy ${remote.copy} stays on ${remote.host} (the host was removed from kinfra)`;
  const said = [];
  try {
    if (remote.volumes) {
      const { removeSlotVolumes } = await import("./volume_copy.ts");
      await removeSlotVolumes(ctx.home.root, remote);
    } else await removeCopy(ctx.exec, host, remote.copy);
    said.push(`removed the copy ${host.name}:${remote.copy}`);
  } catch (e) {
    ctx.log.warn(`Could not remove ${host.name}:${remote.copy}: ${messageOf(e)}`);
  }
  // The shared mounts' copy goes with the project's last sandbox on the host (`up` makes it again).
  const shared = remote.shared?.copy;
  if (shared && !sharedInUse(await readRegistry(ctx.home), host.name, shared)) {
    try {
      await removeShared(ctx.exec, host, shared);
      said.push(`removed the shared mounts' copy ${host.name}:${shared} (no other sandbox there uses it)`);
    } catch (e) {
      ctx.log.warn(`Could not remove ${host.name}:${shared}: ${messageOf(e)}`);
    }
  }
  return said.join("; ") || undefined;
}

/** `impl --from`: volumes are copied within one engine, so the new sandbox goes where the source runs. */
export async function requireSameEngine(
  ctx: Context,
  source: SlotEntry,
  hostFlag: string | undefined,
  name: string,
) {
  const from = source.remote?.host ?? LOCAL;
  const to = hostFlag ?? (await ctx.globalConfig()).sandbox.host ?? LOCAL;
  if (to !== "auto" && to !== from) {
    throw usageError(
      `--from ${name}: its sandbox runs on ${from}, and this one would go to ${to}; data is copied within one engine. Nothing was created.`,
      `Pass --host ${from}.`,
    );
  }
}
