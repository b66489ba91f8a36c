/**
 * Worktrees kinfra made for a coding-agent host, as `worktrees` and `gc` explain them. A host's run
 * may end without removing its worktree — `claude -p` never calls WorktreeRemove, and "Keep
 * worktree" on exit keeps it on purpose — so such a worktree is kept (it may hold the agent's work)
 * and said to be what it is, with the command that removes it.
 */
import { basename } from "../io/path.ts";
import { hostAlive } from "../io/host_process.ts";
import type { WorktreeEntry } from "../slots/registry.ts";

const HOST_NAMES: Record<string, string> = { "claude-code": "Claude Code" };

export interface AgentWorktree {
  path: string;
  host: string;
  session_id: string | null;
  /** False once the host's process has ended (unknown counts as running). */
  host_running: boolean;
  /** Why the host's last remove was refused (uncommitted work…), or null. */
  remove_refused: string | null;
  explanation: string;
}

/** What an entry made for an agent host is, or undefined for a worktree a person made. */
export function agentWorktree(entry: WorktreeEntry): AgentWorktree | undefined {
  const agent = entry.agent;
  if (!agent) return undefined;
  const running = agent.process ? hostAlive(agent.process) : true;
  const who = `${HOST_NAMES[agent.host] ?? agent.host}${
    agent.session_id ? ` session ${agent.session_id}` : ""
  }`;
  const sandbox = entry.slot === undefined ? "" : `; its sandbox (slot ${entry.slot}) is kept too`;
  const refused = agent.remove_refused;
  return {
    path: entry.path,
    host: agent.host,
    session_id: agent.session_id ?? null,
    host_running: running,
    remove_refused: refused ?? null,
    explanation: refused
      ? `made for ${who}, which asked to remove it; refused: ${refused}`
      : running
      ? `made for ${who}, still running`
      : `made for ${who}, which ended without removing it (a \`claude -p\` run never does; ` +
        `"Keep worktree" on exit keeps it)${sandbox}; \`kinfra done ${basename(entry.path)}\` removes it`,
  };
}
