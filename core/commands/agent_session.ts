/**
 * A worktree's coding-agent session as the agent-deck plugin's `status` reply reports it, read the same
 * way by `status`, `worktrees` and the board — so an agent waiting for its user (`waiting`, the most
 * asked-for fact) stands out everywhere. States are agent-deck's own (docs/agent-deck.md).
 */
import type { Context } from "../context.ts";
import type { Style } from "../io/output.ts";
import { hookInput } from "../hooks/inputs.ts";
import type { WorktreeEntry } from "../slots/registry.ts";

/** The built-in plugin whose `status` reply carries `{ session, state, needs_input }`. */
export const SESSION_PLUGIN = "agent-deck";

export interface AgentSession {
  id: string;
  /** running, waiting, idle, error, stopped, queued, unknown (starting), or gone. */
  state: string;
  /** True while the agent waits for the user (`waiting`). */
  needs_input: boolean;
}

/** The session in a plugin's `status` data, or null when there is none. */
export function agentSession(status: Record<string, unknown> | undefined): AgentSession | null {
  if (!status?.session) return null;
  const state = String(status.state ?? "unknown");
  return {
    id: String(status.session),
    state,
    needs_input: status.needs_input === true || state === "waiting",
  };
}

/** A text cell: the state, and `▲` in yellow when the agent needs the user. */
export function sessionLabel(session: AgentSession | null, style: Style): string {
  if (!session) return "-";
  return session.needs_input ? style.yellow(`${session.state} ▲`) : session.state;
}

/**
 * The sessions of the worktrees that keep one (by path), asking only the session plugin, all at once.
 * A worktree whose project cannot be read reports state "unknown" rather than failing the listing.
 */
export async function agentSessions(
  ctx: Context,
  entries: WorktreeEntry[],
): Promise<Map<string, AgentSession>> {
  const found = new Map<string, AgentSession>();
  await Promise.all(
    entries.filter((e) => e.plugin_state?.[SESSION_PLUGIN]?.session_id).map(async (entry) => {
      const id = String(entry.plugin_state![SESSION_PLUGIN].session_id);
      try {
        const project = await ctx.project(entry.project_root);
        const hooks = (await ctx.hooks(project)).only((p) => p.name === SESSION_PLUGIN);
        const { replies } = await hooks.observe("status", hookInput(project, entry, {}));
        const session = agentSession(replies[0]?.result.status);
        found.set(entry.path, session ?? { id, state: "unknown", needs_input: false });
      } catch {
        found.set(entry.path, { id, state: "unknown", needs_input: false });
      }
    }),
  );
  return found;
}
