/**
 * The usage part: while the proxy runs (for the router or a checkout), it measures what this home's
 * sandboxes use every few seconds and keeps it in `<home>/proxy/usage.json`. The engine answers a
 * stats read on its one-second collector tick; with this file fresh, `status`, `worktrees` and the
 * dashboard read it instead and never wait on the engine (core/sandbox/usage.ts). Sandboxes on
 * remote hosts are measured on their host (over ssh: a handshake per read), every 30 s, and their
 * last reading goes into the same file. Like the idle part it never keeps the process alive by itself.
 */
import { messageOf } from "../errors.ts";
import { replaceFileAtomic } from "../io/atomic.ts";
import { measureUsage, type RemoteEngine, type UsageFile } from "../sandbox/usage.ts";
import type { SandboxUsage } from "../hooks/plugin_api.ts";
import type { PartFactory } from "./part.ts";
import { proxyPaths } from "./paths.ts";

const TICK_MS = 5000;
const REMOTE_MS = 30_000;

export const usagePart: PartFactory = (env) => {
  let measuredAt: string | null = null;
  let problem: string | undefined;
  /** The last reading of each remote host in use, by host name. */
  const remote = new Map<string, { at: number; sandboxes: [string, SandboxUsage][] }>();
  const reading = new Set<string>();

  /** Reads the hosts whose reading is older than REMOTE_MS; forgets hosts no sandbox runs on. */
  const measureHosts = async (engines: Map<string, RemoteEngine>) => {
    for (const host of remote.keys()) if (!engines.has(host)) remote.delete(host);
    await Promise.all([...engines].map(async ([host, engine]) => {
      // Ticks overlap (each runs on its own timer): one read of a host at a time.
      if (reading.has(host) || Date.now() - (remote.get(host)?.at ?? 0) < REMOTE_MS) return;
      reading.add(host);
      try {
        const report = await measureUsage(env.ctx, { cpu: true, fresh: true, engine });
        remote.set(host, { at: Date.now(), sandboxes: [...report.sandboxes] });
      } finally {
        reading.delete(host);
      }
    }));
  };
  return {
    name: "usage",
    needed: () => false,
    reconcile: async () => {},
    intervalMs: TICK_MS,
    tick: async (world) => {
      const running = Object.values(world.registry.slots).filter((s) => s.status === "running");
      if (!running.length) return;
      try {
        const engines = new Map(
          running.flatMap((s) =>
            s.remote && !s.remote.unreachable ? [[s.remote.host, s.remote] as const] : []
          ),
        );
        const [report] = await Promise.all([
          measureUsage(env.ctx, { cpu: true, fresh: true }),
          measureHosts(engines),
        ]);
        measuredAt = new Date().toISOString();
        const file: UsageFile = {
          at: measuredAt,
          memory_total: report.memoryTotal ?? null,
          sandboxes: Object.fromEntries([
            ...report.sandboxes,
            ...[...remote.values()].flatMap((r) => r.sandboxes),
          ]),
          failures: report.failures,
        };
        if (env.keep()) await replaceFileAtomic(proxyPaths(env.home).usage, JSON.stringify(file));
        problem = undefined;
      } catch (e) {
        problem = `usage not measured: ${messageOf(e)}`;
      }
    },
    status: () => ({ measured_at: measuredAt, ...(problem && { problems: [problem] }) }),
    close: async () => {},
  };
};
