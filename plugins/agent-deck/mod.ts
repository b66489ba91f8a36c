/**
 * The agent-deck plugin (order 40). With `--session`, on `worktree.ready` it creates an agent-deck
 * session in the worktree, starts it, waits until the agent is ready (polling `session show`,
 * bounded, or `send_delay` when show cannot tell, GAP-20) and sends the milestone message. The
 * session id is kept as this plugin's state in the registry. `done`: a `running` session vetoes
 * removal (GAP-21) unless `--force`; then `session stop` and `session remove`. Without agent-deck,
 * or when it fails, one warning — the worktree and sandbox are never affected.
 */
import {
  definePlugin,
  type HookContext,
  KinfraError,
  onPath,
  parseDuration,
} from "../../core/hooks/plugin_api.ts";
import { AgentDeck } from "./cli.ts";
import { findMilestoneFile, renderMessage } from "./message.ts";

const READY = new Set(["idle", "waiting", "ready"]);

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

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** Waits until the agent can take a message: polls `show`, or sleeps `send_delay` if show cannot tell. */
async function waitReady(deck: AgentDeck, id: string, s: Settings, ctx: HookContext): Promise<string> {
  const deadline = Date.now() + s.readyTimeoutMs;
  for (let polls = 0; Date.now() < deadline && !ctx.signal.aborted; polls++) {
    const status = await deck.status(id);
    if (status === undefined) {
      await sleep(s.sendDelayMs, ctx.signal);
      return `status unknown, waited send_delay ${s.sendDelayMs} ms`;
    }
    if (READY.has(status)) return `ready (${status}) after ${polls + 1} poll(s)`;
    await sleep(500, ctx.signal);
  }
  return `not ready within ${s.readyTimeoutMs / 1000}s; sending anyway`;
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
      let id: string | undefined;
      try {
        id = await deck.add({ path: ctx.worktree.path, title: fill(s.title), tool: s.tool, group: s.group });
        const started = await deck.session("start", id);
        if (!started.success) {
          throw new KinfraError(`agent-deck session start failed: ${started.stderr.trim()}`);
        }
        const readiness = await waitReady(deck, id, s, ctx);
        const sent = await deck.send(id, fill(s.message ?? defaultMessage(ctx.worktree.kind)));
        if (!sent.success) throw new KinfraError(`agent-deck session send failed: ${sent.stderr.trim()}`);
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
      for (const verb of ["stop", "remove"] as const) {
        const r = await deck.session(verb, id);
        if (!r.success && r.code !== 2) {
          throw new KinfraError(`agent-deck session ${verb} ${id} failed: ${r.stderr.trim()}`);
        }
      }
      return { messages: [`session ${id} stopped and removed`] };
    },

    status: async (ctx) => {
      const id = ctx.state.session_id;
      if (typeof id !== "string") return;
      const status = await onPath("agent-deck")
        ? await new AgentDeck(ctx.exec).status(id)
        : "agent-deck not installed";
      return { status: { session: id, state: status ?? "unknown" } };
    },

    doctor: async (ctx) => {
      const installed = await onPath("agent-deck");
      const version = installed ? (await ctx.exec("agent-deck", ["version"])).stdout.trim() : "";
      return {
        checks: [
          installed ? { name: "agent-deck", ok: true, detail: version || "installed" } : {
            name: "agent-deck",
            ok: false,
            severity: "warning",
            detail: "not installed (only needed for --session)",
            hint: "Install agent-deck to start coding agents with `kinfra impl --session`.",
          },
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
