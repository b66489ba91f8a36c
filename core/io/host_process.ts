/**
 * Which process is the coding-agent host that ran a hook, and whether it still runs: `gc` and
 * `worktrees` tell a worktree whose `claude -p` run ended (it never removes its worktree) from one
 * an agent still works in. Linux `/proc` only; elsewhere a host always counts as running.
 */

/** The process of the agent host that ran this hook, with its start time (pids get reused). */
export interface HostProcess {
  pid: number;
  started: string;
  host: string;
}

const SHELLS = new Set(["sh", "dash", "bash", "zsh", "fish", "ksh", "busybox"]);

/** `/proc/<pid>/stat`'s command name, parent and start time; undefined when it cannot be read. */
function procStat(pid: number): { comm: string; ppid: number; started: string } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" "); // from field 3 (state) on
    return { comm: stat.slice(stat.indexOf("(") + 1, close), ppid: Number(fields[1]), started: fields[19] };
  } catch {
    return undefined;
  }
}

/** The nearest ancestor that is not a shell: Claude Code runs hook commands through `sh -c`. */
export function hostProcess(): HostProcess | undefined {
  let pid = Deno.ppid;
  for (let depth = 0; depth < 5 && pid > 1; depth++) {
    const stat = procStat(pid);
    if (!stat) return undefined;
    if (!SHELLS.has(stat.comm)) return { pid, started: stat.started, host: Deno.hostname() };
    pid = stat.ppid;
  }
  return undefined;
}

/** False only when the host process is known to have ended (on this host, by pid and start time). */
export function hostAlive(process: HostProcess): boolean {
  if (process.host !== Deno.hostname() || Deno.build.os !== "linux") return true;
  return procStat(process.pid)?.started === process.started;
}
