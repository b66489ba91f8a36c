/**
 * `kinfra gc [--dry-run]`: repairs stale slots, drops registry entries of worktrees that no longer
 * exist, and removes orphans — slot directories no slot owns, and containers and networks of
 * `<project>-slot-<n>` compose projects the registry does not know.
 */
import { basename, join } from "node:path";
import type { Context } from "../context.ts";
import { composeProjectsInDocker, removeByLabel, stopSlotContainers } from "../containers.ts";
import { messageOf } from "../errors.ts";
import type { CommandOutput } from "../output.ts";
import { exists } from "../paths.ts";
import { readRegistry, updateRegistry } from "../registry.ts";
import { composeProject } from "../slots.ts";
import { cleanStale } from "../stale.ts";

const SLOT_PROJECT = /^([a-z0-9][a-z0-9_-]*)-slot-([0-9]+)$/;

export async function gc(ctx: Context, options: { dryRun?: boolean }): Promise<CommandOutput> {
  const dryRun = Boolean(options.dryRun);
  const stale = await cleanStale(ctx, { dryRun });
  const removed = {
    stale_slots: stale.map((s) => `${s.slot.project}-${s.slot.slot_id}: ${s.reason}`),
    worktrees: [] as string[],
    slot_dirs: [] as string[],
    compose_projects: [] as string[],
  };

  const registry = await readRegistry(ctx.home);
  for (const entry of Object.values(registry.worktrees)) {
    if (await exists(entry.path)) continue;
    removed.worktrees.push(entry.path);
    if (dryRun) continue;
    await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
    await ctx.git.pruneWorktrees(entry.project_root).catch(() => {});
  }

  const owned = new Set(Object.values(registry.slots).map((s) => s.slot_dir));
  const active = new Set(Object.values(registry.slots).map((s) => composeProject(s.project, s.slot_id)));
  const tool = await ctx.compose().catch(() => undefined);
  const slotDirs = await exists(ctx.home.slots) ? await Array.fromAsync(Deno.readDir(ctx.home.slots)) : [];
  for (const dir of slotDirs) {
    const path = join(ctx.home.slots, dir.name);
    const m = /^(.+)-([0-9]+)$/.exec(dir.name);
    if (!dir.isDirectory || owned.has(path) || !m) continue;
    removed.slot_dirs.push(path);
    if (dryRun) continue;
    if (tool) {
      await stopSlotContainers(ctx.exec, tool, path, composeProject(m[1], Number(m[2])), { volumes: true })
        .catch(() => {});
    }
    await Deno.remove(path, { recursive: true });
  }

  try {
    for (const project of await composeProjectsInDocker(ctx.exec)) {
      if (!SLOT_PROJECT.test(project) || active.has(project)) continue;
      removed.compose_projects.push(project);
      if (!dryRun) await removeByLabel(ctx.exec, project, true);
    }
  } catch (e) {
    ctx.log.warn(`Skipped the Docker orphan scan: ${messageOf(e)}`);
  }

  const total = Object.values(removed).reduce((n, list) => n + list.length, 0);
  const verb = dryRun ? "Would remove" : "Removed";
  return {
    data: { dry_run: dryRun, ...removed },
    text: total === 0 ? "Nothing to clean up." : [
      ...removed.stale_slots.map((s) => `${verb} stale slot ${s}`),
      ...removed.worktrees.map((w) => `${verb} registry entry of missing worktree ${w}`),
      ...removed.slot_dirs.map((d) => `${verb} orphaned slot directory ${basename(d)}`),
      ...removed.compose_projects.map((p) => `${verb} orphaned containers and networks of ${p}`),
    ].join("\n"),
  };
}
