/**
 * What agent-deck v1.14.0's session statuses mean to kinfra (docs/agent-deck.md), and waiting for a
 * freshly started agent to take its first message.
 */
import { type HookContext, KinfraError } from "../../core/hooks/plugin_api.ts";
import type { AgentDeck } from "./cli.ts";

/** At its prompt: `waiting` (finished, the user has not looked yet) or `idle` (seen). */
export const READY = new Set(["waiting", "idle"]);
/** The agent's process is gone. */
export const DEAD = new Set(["error", "stopped"]);
/** The one state that needs the user now: shown with a marker in `status`, `worktrees` and the board. */
export const NEEDS_USER = "waiting";

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Polls `session show` until the agent is at its prompt. "unknown" (just started), "running" (drawing
 * its UI) and "queued" keep the wait going; a dead agent or a vanished session ends it with an error;
 * when `show` cannot tell at all, `send_delay` is waited instead. Returns how readiness was decided —
 * `session send` still waits for the prompt itself, so a timeout here only means "send and let it wait".
 */
export async function waitReady(
  deck: AgentDeck,
  id: string,
  timing: { readyTimeoutMs: number; sendDelayMs: number; pollMs?: number },
  ctx: HookContext,
): Promise<string> {
  const deadline = Date.now() + timing.readyTimeoutMs;
  let last = "";
  for (let polls = 1; Date.now() < deadline && !ctx.signal.aborted; polls++) {
    const status = await deck.status(id);
    if (status === undefined) {
      await sleep(timing.sendDelayMs, ctx.signal);
      return `status unreadable, waited send_delay ${timing.sendDelayMs} ms`;
    }
    if (READY.has(status)) return `ready (${status}) after ${polls} poll(s)`;
    if (status === "gone") {
      throw new KinfraError(`session ${id} disappeared from agent-deck right after start`);
    }
    if (DEAD.has(status)) {
      throw new KinfraError(
        `the agent in session ${id} exited right after start (status ${status}; \`agent-deck session show ${id}\` says why)`,
      );
    }
    last = status;
    await sleep(timing.pollMs ?? 500, ctx.signal);
  }
  return `still ${last || "starting"} after ${
    timing.readyTimeoutMs / 1000
  }s; agent-deck waits for the prompt before sending`;
}
