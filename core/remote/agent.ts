/**
 * The per-slot process that makes a remote sandbox feel local (`kinfra hosts agent <slot>`, started
 * detached by `impl`/`up`): it keeps `ssh -N -L 127.0.0.1:<port>:127.0.0.1:<port>` tunnels up for
 * the slot's ports (restarted when ssh exits) and feeds the host's copy of the worktree (a watcher,
 * debounced ~150 ms, then rsync). Its state goes to `<slot dir>/remote.json` for `status`. It exits
 * on SIGTERM (`down`, `done`, stale repair) and on its own once its slot is no longer in the registry,
 * so no forgotten process keeps ports open. When the on-demand proxy process lands, the tunnels
 * become one of its parts; the files and the state stay the same.
 */
import { join } from "../io/path.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { Context } from "../context.ts";
import { messageOf } from "../errors.ts";
import { exec as realExec } from "../io/exec.ts";
import { expandPorts } from "../slots/ports.ts";
import { readRegistry, type SlotEntry } from "../slots/registry.ts";
import { getHost, type Host } from "./hosts.ts";
import { sshArgs } from "./ssh.ts";
import { syncOnce } from "./sync.ts";

export interface AgentState {
  agent_pid: number;
  host: string;
  tunnel: { state: "starting" | "up" | "down"; pid?: number; ports: number[]; since: string; error?: string };
  sync: {
    state: "idle" | "syncing" | "error";
    copy: string;
    last_sync?: string;
    last_ms?: number;
    error?: string;
  };
}

export const agentStatePath = (slot: Pick<SlotEntry, "slot_dir">) => join(slot.slot_dir, "remote.json");

export async function readAgentState(slot: Pick<SlotEntry, "slot_dir">): Promise<AgentState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(agentStatePath(slot)));
  } catch {
    return undefined;
  }
}

/** The TCP ports a slot's tunnels forward (UDP cannot go through ssh). */
export function tunnelPorts(slot: SlotEntry): number[] {
  const udp = new Set(slot.udp ?? []);
  return expandPorts(slot.ports, slot.widths).filter((p) => !udp.has(p.name.replace(/_END$/, ""))).map((p) =>
    p.port
  );
}

/** `ssh -N` argv forwarding each port of 127.0.0.1 here to 127.0.0.1 on the host. */
export function tunnelArgs(host: Host, ports: number[]): string[] {
  return [
    "-N",
    "-o",
    "ExitOnForwardFailure=yes",
    ...ports.flatMap((p) => ["-L", `127.0.0.1:${p}:127.0.0.1:${p}`]),
    ...sshArgs(host),
  ];
}

const alive = (pid: number) => {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
};

/** Runs the agent for slot `id` until its slot is gone or it is told to stop. */
export async function runAgent(ctx: Context, id: number): Promise<void> {
  const initial = (await readRegistry(ctx.home)).slots[String(id)];
  if (!initial?.remote) throw new Error(`slot ${id} is not a remote slot`);
  const slot = structuredClone(initial) as SlotEntry;
  const remote = slot.remote!;
  const host = await getHost(ctx.home, remote.host);
  const stop = new AbortController();
  const state: AgentState = {
    agent_pid: Deno.pid,
    host: host.name,
    tunnel: { state: "starting", ports: tunnelPorts(slot), since: new Date().toISOString() },
    sync: { state: "idle", copy: remote.copy ?? "" },
  };
  let writing = Promise.resolve();
  const save = () =>
    writing = writing.then(() =>
      writeFileAtomic(agentStatePath(slot), JSON.stringify(state, null, 2)).catch(() => {})
    );
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => stop.abort());

  const tunnel = async () => {
    while (!stop.signal.aborted) {
      const child = new Deno.Command("ssh", {
        args: tunnelArgs(host, state.tunnel.ports),
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      state.tunnel = { ...state.tunnel, pid: child.pid, error: undefined };
      await save();
      const kill = () => child.kill("SIGTERM");
      stop.signal.addEventListener("abort", kill);
      // ssh says nothing when forwarding works: up once the first port accepts connections.
      const ready = (async () => {
        for (let i = 0; i < 100 && !stop.signal.aborted; i++) {
          try {
            (await Deno.connect({ hostname: "127.0.0.1", port: state.tunnel.ports[0] })).close();
            state.tunnel = { ...state.tunnel, state: "up", since: new Date().toISOString() };
            await save();
            return;
          } catch { /* not listening yet */ }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const [out] = await Promise.all([child.output(), ready]);
      stop.signal.removeEventListener("abort", kill);
      state.tunnel = {
        ...state.tunnel,
        state: "down",
        pid: undefined,
        since: new Date().toISOString(),
        error: new TextDecoder().decode(out.stderr).trim().split("\n").pop() || `ssh exited (${out.code})`,
      };
      await save();
      if (!stop.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  };

  const sync = async () => {
    if (!remote.copy) return;
    let pending = true;
    let wake = () => {};
    const watcher = Deno.watchFs(slot.worktree_path, { recursive: true });
    stop.signal.addEventListener("abort", () => {
      watcher.close();
      wake();
    });
    (async () => {
      for await (const event of watcher) {
        if (event.paths.every((p) => p.includes("/.git/") || p.endsWith("/.git"))) continue;
        pending = true;
        wake();
      }
    })().catch(() => {});
    while (!stop.signal.aborted) {
      if (!pending) await new Promise<void>((r) => wake = r);
      if (stop.signal.aborted) break;
      await new Promise((r) => setTimeout(r, 150)); // a burst of writes (a save, a git checkout) is one pass
      pending = false;
      state.sync = { ...state.sync, state: "syncing" };
      const start = performance.now();
      try {
        await syncOnce(realExec, host, slot.worktree_path, remote.copy, stop.signal);
        state.sync = {
          ...state.sync,
          state: "idle",
          last_sync: new Date().toISOString(),
          last_ms: Math.round(performance.now() - start),
          error: undefined,
        };
      } catch (e) {
        if (stop.signal.aborted) break;
        state.sync = { ...state.sync, state: "error", error: messageOf(e) };
        pending = true; // try again shortly
        setTimeout(() => wake(), 1000);
      }
      await save();
    }
  };

  // Gone from the registry (released, repaired, another claim): nothing left to serve.
  const watchSlot = async () => {
    while (!stop.signal.aborted) {
      await new Promise((r) => setTimeout(r, 1000));
      const current = (await readRegistry(ctx.home).catch(() => undefined))?.slots[String(id)];
      if (current && current.claimed_at !== slot.claimed_at) stop.abort();
      if (!current) stop.abort();
    }
  };
  await Promise.all([tunnel(), sync(), watchSlot()]);
  await writing;
}

/** The agent of a slot is running (the pid is alive and is kinfra's agent for it). */
export function agentAlive(pid: number | undefined): boolean {
  if (!pid || !alive(pid)) return false;
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("agent");
  } catch {
    return false;
  }
}

/** Stops a slot's agent and its ssh tunnel (also one an agent killed with -9 left behind). */
export async function stopAgent(slot: SlotEntry): Promise<void> {
  const state = await readAgentState(slot);
  const pids = [slot.remote?.agent_pid, state?.agent_pid].filter((p): p is number => agentAlive(p));
  for (const pid of new Set(pids)) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
  }
  for (let i = 0; i < 40 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) if (alive(pid)) Deno.kill(pid, "SIGKILL");
  const ssh = state?.tunnel.pid;
  if (ssh && alive(ssh) && /(^|\/)ssh$/.test(Deno.readTextFileSync(`/proc/${ssh}/cmdline`).split("\0")[0])) {
    Deno.kill(ssh, "SIGTERM");
  }
}
