/**
 * The memory budget check before a new sandbox starts (`impl`, `up`, `warm`): what this project's
 * sandbox is known to need — measured once healthy, else its declared memory limits — against what
 * is left of `[slots] memory` (default: the engine's memory less a reserve). Refused with exit 3
 * before anything is created, naming the numbers and the sandboxes whose `kinfra down` would make
 * room; `--force` starts it anyway. A project with nothing known yet is never refused.
 */
import type { Context } from "../context.ts";
import { Exit, KinfraError } from "../errors.ts";
import { formatBytes, parseBytes } from "../text/bytes.ts";
import { formatDuration } from "../text/duration.ts";
import { basename } from "../io/path.ts";
import { type BudgetSandbox, defaultBudget, fitBudget } from "../slots/budget.ts";
import { readRegistry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";
import { idleCheck, unusedTimes } from "./idle_check.ts";
import { measureUsage } from "./usage.ts";

/** The memory limits a resolved compose model declares, summed; undefined unless every service has one. */
export function declaredMemory(model: Record<string, unknown> | undefined): number | undefined {
  const services = Object.values((model?.services ?? {}) as Record<string, Record<string, unknown> | null>);
  if (!services.length) return undefined;
  let sum = 0;
  for (const body of services) {
    const deploy = body?.deploy as { resources?: { limits?: { memory?: unknown } } } | undefined;
    const limit = body?.mem_limit ?? deploy?.resources?.limits?.memory;
    const bytes = typeof limit === "string" || typeof limit === "number" ? parseBytes(limit) : undefined;
    if (!bytes) return undefined;
    sum += bytes;
  }
  return sum;
}

export interface CapacityRequest {
  project: string;
  /** `--force`: start it whatever the budget says. */
  force?: boolean;
  /** The resolved compose model, for declared limits when nothing was measured yet. */
  model?: Record<string, unknown>;
  /** What is being started, for the message ("a shop sandbox", "a warm shop sandbox"). */
  what?: string;
}

/** Throws (exit 3) when one more sandbox of `project` does not fit the memory budget. */
export async function ensureCapacity(ctx: Context, request: CapacityRequest): Promise<void> {
  if (request.force) return;
  let registry = await readRegistry(ctx.home);
  const measured = registry.usage?.[request.project];
  const need = measured?.memory ?? declaredMemory(request.model);
  if (need === undefined) return; // the first sandbox of a project: nothing known yet
  const global = await ctx.globalConfig();
  const configured = global.slots.memory === undefined ? undefined : parseBytes(global.slots.memory);
  // Far from the budget by what is known of every running sandbox: no need to ask the engine (its
  // stats take up to a second). Near it, or with anything unknown, the engine's numbers decide.
  // Sandboxes on remote hosts use their host's memory, not this machine's (host_capacity.ts).
  const known = Object.values(registry.slots).filter((s) => !s.remote).map((s) =>
    registry.usage?.[s.project]?.memory
  );
  const roughBudget = configured ?? (measured?.memory_total && defaultBudget(measured.memory_total));
  if (roughBudget && known.every((m) => m !== undefined)) {
    const estimate = known.reduce((sum: number, m) => sum + m!, 0);
    if (estimate + need <= roughBudget * 0.8) return;
  }
  let usage = await measureUsage(ctx);
  const budget = configured ?? (usage.memoryTotal ? defaultBudget(usage.memoryTotal) : undefined);
  if (budget === undefined) return; // the runtime cannot say what it has, and no budget is set
  const used = [...usage.sandboxes.values()].reduce((sum, u) => sum + u.memory, 0);
  if (used + need <= budget) return;
  // It does not fit: observing stops what is idle (which may make the room) and says how long each
  // sandbox has been unused; then the engine is asked again.
  if ((await idleCheck(ctx, { observe: true })).stopped.length) usage = await measureUsage(ctx);
  const unused = unusedTimes(ctx);
  registry = await readRegistry(ctx.home);
  const running: BudgetSandbox[] = Object.values(registry.slots).filter((s) => !s.remote).map((slot) => {
    const name = slot.warm
      ? `warm ${slot.project} sandbox (slot ${slot.slot_id})`
      : basename(slot.worktree_path);
    return {
      name,
      slot: slot.slot_id,
      memory: usage.sandboxes.get(composeProject(slot.project, slot.slot_id))?.memory ?? 0,
      unusedMs: unused.get(slot.slot_id),
      free: slot.warm
        ? `kinfra warm ${Math.max(0, (registry.warm?.[slot.project]?.count ?? 1) - 1)} -C ${slot.warm.root}`
        : `kinfra down ${name}`,
    };
  });
  const verdict = fitBudget(budget, need, running);
  if (verdict.fits) return;
  const source = measured
    ? `measured on ${measured.compose_project} once healthy`
    : "the memory limits its compose file declares";
  const where = configured !== undefined
    ? `[slots] memory in ${ctx.home.config}`
    : `the engine's ${formatBytes(usage.memoryTotal!)} less a reserve`;
  throw new KinfraError(
    `Not enough memory for ${request.what ?? `another ${request.project} sandbox`}: it needs about ${
      formatBytes(need)
    } (${source}), and ${running.length} sandbox(es) use ${formatBytes(verdict.used)} of the ${
      formatBytes(budget)
    } budget (${where}), leaving ${formatBytes(Math.max(0, verdict.left))}. Nothing was created.`,
    {
      code: Exit.blocked,
      details: verdict.freeable.length
        ? [
          "Stopping these would make room:",
          ...verdict.freeable.map((s) =>
            `${s.free}   # ${s.name}, slot ${s.slot}, ${formatBytes(s.memory)}${
              s.unusedMs !== undefined ? `, unused for ${formatDuration(s.unusedMs)}` : ""
            }`
          ),
        ]
        : [],
      hint:
        "Stop a sandbox (see above), raise [slots] memory in the global config, or pass --force to start it anyway.",
      data: {
        budget,
        need,
        used: verdict.used,
        left: verdict.left,
        shortfall: verdict.shortfall,
        need_source: measured ? "measured" : "declared",
        freeable: verdict.freeable.map((s) => ({
          name: s.name,
          slot: s.slot,
          memory: s.memory,
          unused_ms: s.unusedMs ?? null,
          command: s.free,
        })),
      },
    },
  );
}
