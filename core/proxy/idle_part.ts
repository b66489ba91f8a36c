/**
 * The idle part (issue 27): while the proxy process runs — for the router or a checkout — it runs
 * the same idle check kinfra commands run (core/sandbox/idle_check.ts), every few seconds and
 * throttled the same way, with the traffic the router and forwarders saw in this process. It never
 * keeps the process alive on its own (`needed` is false): without a resident daemon, commands do
 * the check.
 */
import { messageOf } from "../errors.ts";
import type { PartFactory } from "./part.ts";

const TICK_MS = 5000;

export const idlePart: PartFactory = (env) => {
  let lastCheck: string | null = null;
  let stopped: { path: string; slot: number; idle_ms: number; at: string }[] = [];
  let problem: string | undefined;
  return {
    name: "idle",
    needed: () => false,
    reconcile: async () => {},
    intervalMs: TICK_MS,
    tick: async () => {
      try {
        const { idleCheck } = await import("../sandbox/idle_check.ts");
        const report = await idleCheck(env.ctx, { throttled: true, activity: env.activity.read() });
        lastCheck = new Date().toISOString();
        problem = undefined;
        for (const s of report.stopped) {
          env.log(
            `idle: stopped the sandbox of ${s.path} (slot ${s.slot}) after ${
              Math.round(s.idleMs / 1000)
            }s unused`,
          );
          stopped = [...stopped, { path: s.path, slot: s.slot, idle_ms: s.idleMs, at: lastCheck }].slice(-20);
        }
      } catch (e) {
        problem = `idle check failed: ${messageOf(e)}`;
      }
    },
    status: () => ({ last_check: lastCheck, stopped, ...(problem && { problems: [problem] }) }),
    close: async () => {},
  };
};
