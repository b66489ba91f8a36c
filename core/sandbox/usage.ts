/**
 * What this home's sandboxes use, through the plugins' `runtime.scan` with `flags.usage` (the docker
 * plugin reads the Engine API), and what a project's sandbox was measured to use once healthy (kept in the registry).
 */
import type { Context } from "../context.ts";
import type { SandboxUsage } from "../hooks/plugin_api.ts";
import { messageOf } from "../errors.ts";
import { join } from "../io/path.ts";
import { runtimeInput } from "./runtime.ts";
import { type IdleStop, readRegistry, updateRegistry } from "../slots/registry.ts";

const REMEASURE_MS = 3600_000;
import { formatBytes } from "../text/bytes.ts";
import { formatDuration } from "../text/duration.ts";

/** A remote slot's engine (`SlotEntry.remote`): measured there, over ssh. */
export type RemoteEngine = { host: string; docker_host: string };

export interface UsageReport {
  /** The runtime's memory (the engine's MemTotal), when a plugin said. */
  memoryTotal?: number;
  /** By compose project (this home's only). */
  sandboxes: Map<string, SandboxUsage>;
  /** Plugins that could not say (`<plugin>: <why>`). */
  failures: string[];
}

/** `<home>/proxy/usage.json`, which the proxy's usage part writes every few seconds. */
export interface UsageFile {
  at: string;
  memory_total: number | null;
  sandboxes: Record<string, SandboxUsage>;
  failures: string[];
}

/** How old the proxy's measurement may be to stand for a new one. */
const FRESH_MS = 15_000;

/** The proxy's measurement when it is fresh (and has CPU when asked), else undefined. */
function cachedUsage(ctx: Context, cpu: boolean): UsageReport | undefined {
  try {
    const file: UsageFile = JSON.parse(Deno.readTextFileSync(join(ctx.home.root, "proxy", "usage.json")));
    const age = ctx.now().getTime() - Date.parse(file.at);
    if (!(age >= 0 && age < FRESH_MS)) return undefined;
    const sandboxes = new Map(Object.entries(file.sandboxes));
    if (cpu && [...sandboxes.values()].some((u) => u.cpu === null)) return undefined;
    return { memoryTotal: file.memory_total ?? undefined, sandboxes, failures: file.failures };
  } catch {
    return undefined;
  }
}

/**
 * Every plugin's answer to `runtime.scan` with `flags.usage`, added up per compose project (`cpu`:
 * CPU too) — or the proxy's measurement of a few seconds ago, which costs no wait on the engine
 * (`fresh` asks the plugins whatever).
 */
export async function measureUsage(
  ctx: Context,
  options: { cpu?: boolean; fresh?: boolean; engine?: RemoteEngine } = {},
): Promise<UsageReport> {
  const cached = options.fresh || options.engine ? undefined : cachedUsage(ctx, options.cpu === true);
  if (cached) return cached;
  const report: UsageReport = { sandboxes: new Map(), failures: [] };
  try {
    const hooks = await ctx.hooks();
    const { replies, failures } =
      await (options.engine ? hooks.onEngine(options.engine.docker_host, options.engine.host) : hooks)
        .observe(
          "runtime.scan",
          runtimeInput(null, { usage: true, cpu: options.cpu === true }),
        );
    report.failures = failures.map((f) => `${f.plugin}: ${f.message}`);
    for (const { result } of replies) {
      if (result.memory_total) report.memoryTotal = Math.max(report.memoryTotal ?? 0, result.memory_total);
      for (const [name, u] of Object.entries(result.sandboxes ?? {})) {
        const sum = report.sandboxes.get(name);
        report.sandboxes.set(
          name,
          sum
            ? {
              memory: sum.memory + u.memory,
              cpu: sum.cpu === null || u.cpu === null ? null : sum.cpu + u.cpu,
              cpu_time: sum.cpu_time + u.cpu_time,
              containers: sum.containers + u.containers,
            }
            : { ...u },
        );
      }
    }
  } catch (e) {
    report.failures.push(messageOf(e));
  }
  return report;
}

/** A sandbox's usage as JSON shows it: `{ memory: <bytes>, cpu: <percent of one CPU> }`, or null. */
export const usageJson = (usage?: SandboxUsage) =>
  usage ? { memory: usage.memory, cpu: usage.cpu, containers: usage.containers } : null;

/**
 * Measures a sandbox that just became healthy and remembers it as what this project's sandbox
 * needs (the memory budget's estimate). Never fails the caller: a missing measurement is no harm.
 */
export async function rememberUsage(
  ctx: Context,
  project: string,
  composeProject: string,
  engine?: RemoteEngine,
): Promise<void> {
  try {
    // Once an hour is enough: the engine's one-shot stats can take a second, on every impl otherwise.
    const known = (await readRegistry(ctx.home)).usage?.[project];
    if (known && ctx.now().getTime() - Date.parse(known.measured_at) < REMEASURE_MS) return;
    // A sandbox just healthy is not in the cache yet; a remote one is measured on its host.
    const report = await measureUsage(ctx, { fresh: true, engine });
    const usage = report.sandboxes.get(composeProject);
    if (!usage || usage.memory <= 0) return;
    await updateRegistry(ctx.home, (registry) => {
      registry.usage ??= {};
      registry.usage[project] = {
        memory: usage.memory,
        cpu: usage.cpu,
        measured_at: ctx.now().toISOString(),
        compose_project: composeProject,
        // The local budget's default comes from this machine's memory, never a host's.
        ...(report.memoryTotal && !engine && { memory_total: report.memoryTotal }),
      };
    });
  } catch (e) {
    ctx.log.debug(`Could not measure ${composeProject}: ${messageOf(e)}`);
  }
}

/** `memory 210 MB · cpu 0.4%` (cpu left out when it was not sampled). */
export function usageText(usage: Pick<SandboxUsage, "memory" | "cpu">): string {
  return `memory ${formatBytes(usage.memory)}${usage.cpu === null ? "" : ` · cpu ${usage.cpu}%`}`;
}

/** `stopped after 4h idle` — what status, worktrees and the dashboard say of an idle-stopped sandbox. */
export const idleStoppedText = (stop: IdleStop) => `stopped after ${formatDuration(stop.idle_ms)} idle`;
