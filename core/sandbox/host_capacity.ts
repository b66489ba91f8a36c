/**
 * The memory budget of a remote host (`kinfra hosts add … --memory <size>`, default: the host
 * engine's memory less a reserve, as for this machine): a sandbox on a host uses that host's memory,
 * never this machine's, so each host is counted on its own. What this home's sandboxes there use is
 * asked of the host's engine (over ssh) only when what is known of them comes near the budget.
 * Refused with exit 3 before anything is created, naming the host and what `kinfra down` would make
 * room; `--force` starts it anyway.
 */
import type { Context } from "../context.ts";
import { Exit, KinfraError } from "../errors.ts";
import { formatBytes, parseBytes } from "../text/bytes.ts";
import { basename } from "../io/path.ts";
import { defaultBudget, fitBudget } from "../slots/budget.ts";
import { readRegistry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";
import { getHost } from "../remote/hosts.ts";
import { type CapacityRequest, declaredMemory } from "./capacity.ts";
import { measureUsage } from "./usage.ts";

/** Throws (exit 3) when one more sandbox of `project` does not fit host `host`'s memory budget. */
export async function ensureHostCapacity(ctx: Context, request: CapacityRequest & { host: string }) {
  if (request.force) return;
  const host = await getHost(ctx.home, request.host);
  const registry = await readRegistry(ctx.home);
  const measured = registry.usage?.[request.project];
  const need = measured?.memory ?? declaredMemory(request.model);
  if (need === undefined) return; // nothing known yet: never refused
  const configured = host.memory === undefined ? undefined : parseBytes(host.memory);
  const there = Object.values(registry.slots).filter((s) => s.remote?.host === host.name);
  const known = there.map((s) => registry.usage?.[s.project]?.memory);
  if (configured && known.every((m) => m !== undefined)) {
    if (known.reduce((sum: number, m) => sum + m!, 0) + need <= configured * 0.8) return;
  }
  const usage = await measureUsage(ctx, { engine: { host: host.name, docker_host: host.docker_host } });
  const budget = configured ?? (usage.memoryTotal ? defaultBudget(usage.memoryTotal) : undefined);
  if (budget === undefined) return; // the host's engine could not say, and no budget is set
  const running = there.map((slot) => {
    const name = basename(slot.worktree_path);
    return {
      name,
      slot: slot.slot_id,
      memory: usage.sandboxes.get(composeProject(slot.project, slot.slot_id))?.memory ?? 0,
      free: `kinfra down ${name}`,
    };
  });
  const verdict = fitBudget(budget, need, running);
  if (verdict.fits) return;
  throw new KinfraError(
    `Not enough memory on host ${host.name} for ${
      request.what ?? `another ${request.project} sandbox`
    }: it needs about ${formatBytes(need)}, and ${running.length} sandbox(es) there use ${
      formatBytes(verdict.used)
    } of its ${formatBytes(budget)} budget (${
      configured !== undefined
        ? `kinfra hosts add … --memory`
        : `its engine's ${formatBytes(usage.memoryTotal!)} less a reserve`
    }), leaving ${formatBytes(Math.max(0, verdict.left))}. Nothing was created.`,
    {
      code: Exit.blocked,
      details: verdict.freeable.length
        ? [
          "Stopping these would make room:",
          ...verdict.freeable.map((s) => `${s.free}   # slot ${s.slot}, ${formatBytes(s.memory)}`),
        ]
        : [],
      hint:
        `Stop a sandbox there (see above), use another host (--host), or pass --force to start it anyway.`,
      data: {
        host: host.name,
        budget,
        need,
        used: verdict.used,
        left: verdict.left,
        shortfall: verdict.shortfall,
        freeable: verdict.freeable.map((s) => ({
          name: s.name,
          slot: s.slot,
          memory: s.memory,
          command: s.free,
        })),
      },
    },
  );
}

/**
 * The budget check for where a sandbox goes: this machine's (`[slots] memory`) for "local" or
 * nothing, the host's for a named host; `auto` chooses the engine with the most room already.
 */
export async function ensureRoom(ctx: Context, target: string | undefined, request: CapacityRequest) {
  if (!target || target === "local") {
    return await (await import("./capacity.ts")).ensureCapacity(ctx, request);
  }
  if (target !== "auto") await ensureHostCapacity(ctx, { ...request, host: target });
}
