/**
 * A sandbox on a remote host, from the core's side: which host (`--host`, the worktree's last one,
 * `[sandbox] host`, `auto`), what is checked before the claim (ssh answers, ports in use there),
 * what runs around `compose up` (the first copy of the code, the agent with tunnels and sync), and
 * a release that trusts only the host itself: a slot whose host does not answer stays reserved, so
 * the next command (stale repair) finishes the job and says which host it waits for.
 */
import type { Context } from "../context.ts";
import { KinfraError, messageOf, usageError } from "../errors.ts";
import { kinfraBin } from "../hooks/external.ts";
import { readRegistry, type RemoteSlot, type SlotEntry, updateRegistry } from "../slots/registry.ts";
import { releaseSlot } from "../slots/slots.ts";
import { agentAlive, readAgentState, stopAgent } from "./agent.ts";
import { execOnEngine } from "../io/engine.ts";
import { getHost, type Host, LOCAL, readHosts, updateHosts } from "./hosts.ts";
import { type BusyPorts, remoteBusyPorts } from "./ports.ts";
import { hostDown, onHost } from "./ssh.ts";
import { initialSync, remoteCopyDir, removeCopy } from "./sync.ts";

/**
 * The host a new sandbox goes to: the flag, else the worktree's last host, else `[sandbox] host`;
 * "local" (or nothing) is this machine. "auto" takes the host with the most room.
 */
export async function chooseHost(ctx: Context, flag?: string, last?: string): Promise<Host | undefined> {
  const name = flag ?? last ?? (await ctx.globalConfig()).sandbox.host;
  if (!name || name === LOCAL) return undefined;
  if (name === "auto") return await mostRoom(ctx);
  const host = await getHost(ctx.home, name);
  if (!host.ssh) {
    throw usageError(
      `Host "${host.name}" (${host.endpoint}) is not reached over ssh, so its sandbox's ports could not be tunnelled here nor its code synced.`,
      "Add the machine as ssh://user@host (`kinfra hosts add`); tcp:// hosts and contexts can be listed and tested only.",
    );
  }
  return host;
}

/**
 * `--host auto`: among the ssh hosts and this machine, the one with the fewest sandboxes (each
 * sandbox is one full stack; kinfra records no memory of its own yet), ties to this machine, then
 * by name.
 */
async function mostRoom(ctx: Context): Promise<Host | undefined> {
  const { hosts } = await readHosts(ctx.home);
  const slots = Object.values((await readRegistry(ctx.home)).slots);
  const load = (name: string) => slots.filter((s) => (s.remote?.host ?? LOCAL) === name).length;
  const candidates = [LOCAL, ...Object.values(hosts).filter((h) => h.ssh).map((h) => h.name).sort()];
  const best = candidates.reduce((a, b) => load(b) < load(a) ? b : a);
  ctx.log.info(`--host auto: ${best} (${candidates.map((c) => `${c} ${load(c)} sandbox(es)`).join(", ")})`);
  return best === LOCAL ? undefined : hosts[best];
}

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
): Promise<{ remote: RemoteSlot; busy: BusyPorts & { host: string } }> {
  await remoteHome(ctx, host);
  const [copy, busy] = await Promise.all([
    remoteCopyDir(host, await ctx.homeId(), worktree),
    remoteBusyPorts(ctx.exec, host),
  ]);
  return {
    remote: { host: host.name, docker_host: host.docker_host, copy },
    busy: { host: host.name, ...busy },
  };
}

/**
 * After the claim, before `compose up`: the code copied over, then the agent started and its
 * tunnels listening (the health gate goes through them). Each step registers its undo.
 */
export async function startRemote(
  ctx: Context,
  slot: SlotEntry,
  addUndo: (what: string, fn: () => Promise<unknown>) => void,
) {
  const remote = slot.remote!;
  const host = await getHost(ctx.home, remote.host);
  if (remote.copy) {
    ctx.log.step(`Copying ${slot.worktree_path} to ${host.name}:${remote.copy}`);
    const start = performance.now();
    await initialSync(ctx.exec, host, slot.worktree_path, remote.copy, ctx.signal);
    ctx.log.info(`copied in ${Math.round(performance.now() - start)} ms`);
  }
  addUndo("stop tunnels and sync", () => stopAgent(slot));
  await startAgent(ctx, slot);
}

/** Starts the slot's agent detached and waits for its tunnels to listen. */
export async function startAgent(ctx: Context, slot: SlotEntry): Promise<void> {
  await Deno.mkdir(slot.slot_dir, { recursive: true });
  const log = await Deno.open(`${slot.slot_dir}/agent.log`, { append: true, create: true });
  const child = new Deno.Command(kinfraBin(ctx.home.root), {
    args: ["hosts", "agent", String(slot.slot_id)],
    env: { KINFRA_HOME: ctx.home.root },
    stdin: "null",
    stdout: log.writable ? "piped" : "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  // The agent's output goes to its log, never to this terminal.
  child.stdout.pipeTo(log.writable).catch(() => {});
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  child.unref();
  await updateRegistry(ctx.home, (registry) => {
    const current = registry.slots[String(slot.slot_id)];
    if (current?.claimed_at === slot.claimed_at && current.remote) current.remote.agent_pid = child.pid;
  });
  slot.remote!.agent_pid = child.pid;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !ctx.signal.aborted) {
    const state = await readAgentState(slot);
    const own = state?.agent_pid === child.pid;
    if (own && state.tunnel.state === "up") return;
    if ((own && state.tunnel.state === "down") || !agentAlive(child.pid)) {
      await stopAgent(slot);
      throw new KinfraError(
        `The tunnels to ${slot.remote!.host} did not come up: ${state?.tunnel.error ?? "the agent exited"}.`,
        { hint: `See ${slot.slot_dir}/agent.log and \`kinfra hosts test ${slot.remote!.host}\`.` },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopAgent(slot);
  throw new KinfraError(`The tunnels to ${slot.remote!.host} did not come up within 15 s.`);
}

/** Keeps the agent of a running remote slot alive (`status`, `up`): started again when it died. */
export async function ensureAgent(ctx: Context, slot: SlotEntry): Promise<void> {
  if (!slot.remote || slot.status !== "running" || agentAlive(slot.remote.agent_pid)) return;
  ctx.log.warn(
    `The tunnels and sync of slot ${slot.slot_id} (host ${slot.remote.host}) had stopped; starting them again.`,
  );
  await startAgent(ctx, slot).catch((e) => ctx.log.warn(messageOf(e)));
}

/**
 * Whether the host still has anything of this slot: false when it is clean, true when containers
 * remain; throws (naming the host) when it does not answer.
 */
async function leftOnHost(ctx: Context, slot: SlotEntry): Promise<boolean> {
  const project = `${slot.project}-slot-${slot.slot_id}`;
  const result = await execOnEngine(ctx.exec, slot.remote!.docker_host, slot.remote!.host)(
    "docker",
    ["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`],
  );
  if (!result.success) {
    throw hostDown(
      { name: slot.remote!.host, endpoint: slot.remote!.docker_host } as Host,
      result.stderr.trim().split("\n").pop() ?? "docker failed",
    );
  }
  return result.stdout.trim() !== "";
}

/**
 * Before a remote slot is released: its agent stopped, and the host asked whether teardown really
 * removed its containers. When the host does not answer, the slot is parked (kept, marked with the
 * host) and false is returned: the caller must not release it.
 */
export async function settleRemote(
  ctx: Context,
  slot: SlotEntry,
  purge?: () => Promise<unknown>,
): Promise<boolean> {
  if (!slot.remote) return true;
  await stopAgent(slot);
  try {
    if (await leftOnHost(ctx, slot) && purge) {
      await purge();
      if (await leftOnHost(ctx, slot)) throw new Error("containers are still there after the purge");
    }
    return true;
  } catch (e) {
    const why = messageOf(e);
    ctx.log.warn(
      `Slot ${slot.slot_id} stays reserved until host ${slot.remote.host} answers again (${why}); ` +
        "the next kinfra command (or `kinfra gc`) finishes its cleanup.",
    );
    await updateRegistry(ctx.home, (registry) => {
      const current = registry.slots[String(slot.slot_id)];
      if (current?.claimed_at === slot.claimed_at && current.remote) {
        current.remote.unreachable = why;
        current.status = "failed";
      }
    });
    return false;
  }
}

/**
 * Releases a slot; a remote one only once its host confirms nothing of it is left (what teardown
 * missed is purged). False when the host did not answer: the slot is kept, marked, for repair.
 */
export async function releaseChecked(ctx: Context, slot: SlotEntry): Promise<boolean> {
  if (slot.remote) {
    const { purgeSandbox } = await import("../sandbox/runtime.ts");
    const purge = () =>
      purgeSandbox(ctx, slot.project, slot.slot_id, slot.remote!.docker_host, slot.remote!.host);
    if (!await settleRemote(ctx, slot, purge)) return false;
  }
  await releaseSlot(ctx, slot);
  return true;
}

/** `done`: the worktree's copy on the host goes too (a host that does not answer is reported). */
export async function removeRemoteCopy(
  ctx: Context,
  remote: RemoteSlot | undefined,
): Promise<string | undefined> {
  if (!remote?.copy) return undefined;
  const host = await getHost(ctx.home, remote.host).catch(() => undefined);
  if (!host) return `the copy ${remote.copy} stays on ${remote.host} (the host was removed from kinfra)`;
  try {
    await removeCopy(ctx.exec, host, remote.copy);
    return `removed the copy ${host.name}:${remote.copy}`;
  } catch (e) {
    ctx.log.warn(`Could not remove ${host.name}:${remote.copy}: ${messageOf(e)}`);
    return undefined;
  }
}
