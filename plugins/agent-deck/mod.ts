/**
 * The agent-deck plugin (order 40), written against agent-deck v1.14.0 (docs/agent-deck.md). With
 * `--session`, on `worktree.ready` it creates a session in the worktree (`add --no-parent`), starts it,
 * waits until `session show` says the agent is at its prompt (bounded; `send_delay` when show cannot
 * tell) and sends the milestone message, which agent-deck itself holds until the prompt is there. The
 * session id is kept as this plugin's state in the registry. `done`: a `running` session vetoes removal
 * unless `--force`; then `session stop` (nothing to stop when its tmux died) and `session remove
 * --force`, so no session outlives its worktree. Without agent-deck, or when it fails, one warning —
 * the worktree and sandbox are never affected.
 */
import {
  definePlugin,
  type HookContext,
  KinfraError,
  onPath,
  parseDuration,
} from "../../core/hooks/plugin_api.ts";
import { AgentDeck, DeckError, NOT_FOUND_EXIT } from "./cli.ts";
import { findMilestoneFile, renderMessage } from "./message.ts";
import { NEEDS_USER, waitReady } from "./readiness.ts";

interface Settings {
  tool: string;
  group?: string;
  title: string;
  message?: string;
  sendDelayMs: number;
  readyTimeoutMs: number;
}

function settings(ctx: HookContext<"worktree.ready">): Settings {
  const c = ctx.pluginConfig as Record<string, unknown>;
  // A bare number is seconds, a string "500ms" / "3s" / "1m" (the manifest's rule); anything else the default.
  const ms = (v: unknown, fallback: number) =>
    typeof v === "number" || typeof v === "string" ? parseDuration(v) ?? fallback : fallback;
  return {
    tool: typeof c.tool === "string" ? c.tool : "claude",
    group: typeof c.group === "string" ? c.group : ctx.project.name,
    title: typeof c.title === "string" ? c.title : "{project} {feature}{/milestone}",
    message: typeof c.message === "string" ? c.message : undefined,
    sendDelayMs: ms(c.send_delay, 3000),
    readyTimeoutMs: ms(c.ready_timeout, 60_000),
  };
}

let warned = false;
/** One warning per run when agent-deck is missing. */
async function available(ctx: HookContext): Promise<boolean> {
  if (await onPath("agent-deck")) return true;
  if (!warned) {
    ctx.log.warn(
      "agent-deck is not installed; no session was created (install agent-deck, then `kinfra done` and retry).",
    );
  }
  warned = true;
  return false;
}

/** Why `add` was refused, said so the user can act on it. */
function addFailure(e: unknown, title: string, path: string): string {
  if (e instanceof DeckError && e.reply.code === "ALREADY_EXISTS") {
    const existing = String(e.reply.data.existing_id ?? "?");
    return `agent-deck already has a session "${title}" at ${path} (id ${existing}), which kinfra did not make ` +
      `for this worktree and leaves alone. If it is a leftover: \`agent-deck session remove ${existing} --force\`, ` +
      `or set another [plugins.agent-deck] title`;
  }
  return e instanceof Error ? e.message : String(e);
}

export const agentDeckPlugin = definePlugin({
  name: "agent-deck",
  order: 40,
  description: "Starts a coding agent in the worktree (--session)",
  hooks: {
    "worktree.ready": async (ctx) => {
      if (!ctx.flags.session || !ctx.worktree || !await available(ctx)) return;
      const s = settings(ctx);
      const deck = new AgentDeck(ctx.exec);
      const milestoneFile = await findMilestoneFile(
        ctx.worktree.path,
        ctx.worktree.feature,
        ctx.worktree.milestone,
      );
      const fill = (template: string) => renderMessage(template, ctx, milestoneFile);
      const title = fill(s.title);
      const group = s.group === undefined ? undefined : fill(s.group);
      let id: string | undefined;
      try {
        id = await deck.add({ path: ctx.worktree.path, title, tool: s.tool, group }).catch((e) => {
          throw new KinfraError(addFailure(e, title, ctx.worktree!.path));
        });
        const started = await deck.start(id);
        if (!started.ok) throw new DeckError("session start", started);
        const message = fill(s.message ?? defaultMessage(ctx.worktree.kind));
        if (started.data.status === "queued") {
          // A queued start runs nothing yet, so there is no agent to send to (docs/agent-deck.md).
          ctx.log.warn(
            `agent-deck queued session ${id}: its group "${group}" is at its max_concurrent cap (agent-deck ` +
              `gives a new group 1), so the milestone message was not sent. Once the session runs: ` +
              `agent-deck session send ${id} ${JSON.stringify(message)}. To run agents side by side: ` +
              `agent-deck group update ${JSON.stringify(group)} --max-concurrent 0`,
          );
          return { state: { session_id: id } };
        }
        const readiness = await waitReady(deck, id, s, ctx);
        const sent = await deck.send(id, message, s.readyTimeoutMs);
        if (!sent.ok) throw new DeckError("session send", sent);
        return {
          state: { session_id: id },
          messages: [`session ${id} started (${readiness}); milestone message sent`],
        };
      } catch (e) {
        ctx.log.warn(
          `agent-deck: ${
            e instanceof Error ? e.message : e
          }. The worktree is ready without a working session.`,
        );
        return id ? { state: { session_id: id } } : undefined;
      }
    },

    "worktree.removing": async (ctx) => {
      const id = ctx.state.session_id;
      if (typeof id !== "string" || !await onPath("agent-deck")) return;
      const status = await new AgentDeck(ctx.exec).status(id);
      if (status === "running") {
        return {
          veto: `agent-deck session ${id} is running (its agent is still working); stop it or pass --force`,
        };
      }
    },

    "worktree.removed": async (ctx) => {
      const id = ctx.state.session_id;
      if (typeof id !== "string" || !await onPath("agent-deck")) return;
      const deck = new AgentDeck(ctx.exec);
      // Stopping first lets agent-deck save the agent's conversation id and start a queued sibling. It
      // fails when the tmux session is already gone ("is not running", exit 1): then remove does it all.
      const stopped = await deck.stop(id);
      const removed = await deck.remove(id);
      if (!removed.ok && removed.exitCode !== NOT_FOUND_EXIT) {
        throw new DeckError(`session remove ${id}`, removed);
      }
      return {
        messages: [
          removed.ok
            ? `session ${id} ${stopped.ok ? "stopped and removed" : `removed (stop: ${stopped.error})`}`
            : `session ${id} was already gone from agent-deck`,
        ],
      };
    },

    status: async (ctx) => {
      const id = ctx.state.session_id;
      if (typeof id !== "string") return;
      if (!await onPath("agent-deck")) {
        return {
          status: { session: id, state: "unknown", needs_input: false },
          lines: [`agent-deck session ${id}: agent-deck not installed`],
        };
      }
      const state = await new AgentDeck(ctx.exec).status(id) ?? "unknown";
      const waiting = state === NEEDS_USER;
      return {
        // `needs_input` makes `status` highlight the lines; `worktrees` and the board read `state`.
        status: { session: id, state, needs_input: waiting },
        lines: [
          `agent-deck session ${id}: ${state}` +
          (waiting
            ? ` ▲ needs your input (agent-deck session attach ${id})`
            : state === "gone"
            ? " (removed outside kinfra)"
            : ""),
        ],
      };
    },

    doctor: async (ctx) => {
      const installed = await onPath("agent-deck");
      const version = installed ? (await ctx.exec("agent-deck", ["version"])).stdout.trim() : "";
      const [major = 0, minor = 0] = (version.match(/v(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
      const old = installed && version && (major < 1 || (major === 1 && minor < 14));
      return {
        checks: [
          !installed
            ? {
              name: "agent-deck",
              ok: false,
              severity: "warning",
              detail: "not installed (only needed for --session)",
              hint: "Install agent-deck to start coding agents with `kinfra impl --session`.",
            }
            : old
            ? {
              name: "agent-deck",
              ok: false,
              severity: "warning",
              detail: `${version}: kinfra is written against v1.14.0`,
              hint: "Update agent-deck (`agent-deck update`) before using --session.",
            }
            : { name: "agent-deck", ok: true, detail: version || "installed" },
        ],
      };
    },
  },
});

function defaultMessage(kind: "spec" | "impl"): string {
  return kind === "impl"
    ? "Implement milestone {milestone} of {feature} in {worktree} (branch {branch}). The milestone is described in {milestone_file}."
    : "Write the specification for {feature} in {worktree} (branch {branch}).";
}
