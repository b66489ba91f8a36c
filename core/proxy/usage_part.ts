/**
 * The usage part: while the proxy runs (for the router or a checkout), it measures what this home's
 * sandboxes use every few seconds and keeps it in `<home>/proxy/usage.json`. The engine answers a
 * stats read on its one-second collector tick; with this file fresh, `status`, `worktrees` and the
 * dashboard read it instead and never wait on the engine (core/sandbox/usage.ts). Like the idle
 * part it never keeps the process alive by itself.
 */
import { messageOf } from "../errors.ts";
import { replaceFileAtomic } from "../io/atomic.ts";
import { measureUsage, type UsageFile } from "../sandbox/usage.ts";
import type { PartFactory } from "./part.ts";
import { proxyPaths } from "./paths.ts";

const TICK_MS = 5000;

export const usagePart: PartFactory = (env) => {
  let measuredAt: string | null = null;
  let problem: string | undefined;
  return {
    name: "usage",
    needed: () => false,
    reconcile: async () => {},
    intervalMs: TICK_MS,
    tick: async (world) => {
      if (!Object.values(world.registry.slots).some((s) => s.status === "running")) return;
      try {
        const report = await measureUsage(env.ctx, { cpu: true, fresh: true });
        measuredAt = new Date().toISOString();
        const file: UsageFile = {
          at: measuredAt,
          memory_total: report.memoryTotal ?? null,
          sandboxes: Object.fromEntries(report.sandboxes),
          failures: report.failures,
        };
        await replaceFileAtomic(proxyPaths(env.home).usage, JSON.stringify(file));
        problem = undefined;
      } catch (e) {
        problem = `usage not measured: ${messageOf(e)}`;
      }
    },
    status: () => ({ measured_at: measuredAt, ...(problem && { problems: [problem] }) }),
    close: async () => {},
  };
};
