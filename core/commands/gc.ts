/**
 * `kinfra gc [--dry-run]`: repairs stale slots, drops registry entries of worktrees that no longer
 * exist, finishes interrupted worktree creations and removals, and removes this home's orphans —
 * slot directories no slot owns, and sandboxes labelled with this home's id whose slot the
 * registry does not know (found and removed by the plugins: `runtime.scan`, `sandbox.purge`), and
 * warm sandboxes (`kinfra warm`). Every removal is decided under the registry lock, so a slot claimed while
 * gc runs is never touched; objects of other homes or other tools are never touched at all.
 */
import { basename, join } from "../io/path.ts";
import type { Context } from "../context.ts";
import { purgeSandbox, scanRuntime } from "../sandbox/runtime.ts";
import type { CommandOutput } from "../io/output.ts";
import { exists } from "../io/home.ts";
import { readRegistry, type Registry, updateRegistry } from "../slots/registry.ts";
import { releaseSlot } from "../slots/slots.ts";
import { composeProject, parseComposeProject, parseSlotDir } from "../slots/slot_files.ts";
import { cleanStale } from "../sandbox/repair.ts";
import { finishInterrupted, ownerBusy } from "../project/worktrees.ts";
import { type AgentWorktree, agentWorktree } from "../project/agent_worktrees.ts";

/** The compose projects the registry holds on one engine (undefined: the local one). */
const activeProjects = (registry: Registry, dockerHost?: string) =>
  new Set(
    Object.values(registry.slots).filter((s) => s.remote?.docker_host === dockerHost).map((s) =>
      composeProject(s.project, s.slot_id)
    ),
  );

export async function gc(ctx: Context, options: { dryRun?: boolean }): Promise<CommandOutput> {
  const dryRun = Boolean(options.dryRun);
  const stale = await cleanStale(ctx, { dryRun });
  const removed = {
    stale_slots: stale.map((s) => `${s.slot.project}-${s.slot.slot_id}: ${s.reason}`),
    worktrees: [] as string[],
    slot_dirs: [] as string[],
    compose_projects: [] as string[],
    code_copies: [] as string[],
    warm: [] as string[],
  };

  // Warm sandboxes hold no work: gc removes them (and what `kinfra warm <n>` asked for).
  for (const slot of Object.values((await readRegistry(ctx.home)).slots)) {
    if (!slot.warm || (slot.status !== "running" && slot.status !== "failed")) continue;
    removed.warm.push(composeProject(slot.project, slot.slot_id));
    if (dryRun) continue;
    await purgeSandbox(ctx, slot.project, slot.slot_id);
    await releaseSlot(ctx, slot);
  }
  if (!dryRun) await updateRegistry(ctx.home, (reg) => void delete reg.warm);

  for (const entry of Object.values((await readRegistry(ctx.home)).worktrees)) {
    if (ownerBusy(entry)) continue; // being created or removed right now
    if (entry.state === "creating" || entry.state === "removing") {
      // One with changes now is kept (and back to normal): only `done --force` removes work.
      if (dryRun || await finishInterrupted(ctx, entry) !== "kept") removed.worktrees.push(entry.path);
      continue;
    }
    if (await exists(entry.path)) continue;
    removed.worktrees.push(entry.path);
    if (dryRun) continue;
    await updateRegistry(ctx.home, (reg) => {
      const current = reg.worktrees[entry.path];
      if (current && !ownerBusy(current)) delete reg.worktrees[entry.path];
    });
    await ctx.git.pruneWorktrees(entry.project_root).catch(() => {});
  }

  // Slot directories no slot owns: decided and removed under the lock, with their labelled objects.
  const slotDirs = await exists(ctx.home.slots) ? await Array.fromAsync(Deno.readDir(ctx.home.slots)) : [];
  for (const dir of slotDirs) {
    const path = join(ctx.home.slots, dir.name);
    const slot = parseSlotDir(dir.name);
    if (!dir.isDirectory || !slot) continue;
    const orphan = await updateRegistry(ctx.home, async (reg) => {
      if (Object.values(reg.slots).some((s) => s.slot_dir === path)) return false;
      if (!dryRun) {
        await purgeSandbox(ctx, slot.project, slot.id);
        await Deno.remove(path, { recursive: true });
      }
      return true;
    });
    if (orphan) removed.slot_dirs.push(path);
  }

  // The local engine, then every remote host kinfra knows (a host that does not answer is said).
  const { readHosts } = await import("../remote/hosts.ts");
  const engines = [
    { name: "local", dockerHost: undefined as string | undefined },
    ...Object.values((await readHosts(ctx.home)).hosts).map((h) => ({
      name: h.name,
      dockerHost: h.docker_host,
    })),
  ];
  for (const engine of engines) {
    const { ours, failures } = await scanRuntime(ctx, engine.dockerHost, engine.name);
    for (const failure of failures) {
      ctx.log.warn(
        `The orphan scan${engine.dockerHost ? ` of host ${engine.name}` : ""} is incomplete: ${failure}`,
      );
    }
    for (const project of ours) {
      const slot = parseComposeProject(project);
      if (!slot) continue; // not shaped like a slot's sandbox: not one kinfra made
      const orphan = await updateRegistry(ctx.home, async (reg) => {
        if (activeProjects(reg, engine.dockerHost).has(project)) return false;
        if (!dryRun) await purgeSandbox(ctx, slot.project, slot.id, engine.dockerHost, engine.name);
        return true;
      });
      if (orphan) {
        removed.compose_projects.push(engine.dockerHost ? `${project} (host ${engine.name})` : project);
      }
    }
    // tcp:// hosts: code copies in volumes that no slot or worktree names any more.
    if (engine.dockerHost) {
      const { orphanCopies } = await import("../remote/volume_copy.ts");
      const copies = await orphanCopies(
        ctx.home,
        await ctx.homeId(),
        { docker_host: engine.dockerHost },
        await readRegistry(ctx.home),
        dryRun,
      ).catch((e) => (ctx.log.warn(`The code copies of host ${engine.name} were not checked: ${e}`), []));
      removed.code_copies.push(...copies.map((c) => `${c} (host ${engine.name})`));
    }
  }

  // Worktrees an agent host left when its run ended: kept (they may hold its work), and said what they are.
  const kept = Object.values((await readRegistry(ctx.home)).worktrees).map(agentWorktree)
    .filter((a): a is AgentWorktree =>
      !!a && (!a.host_running || !!a.remove_refused) && !removed.worktrees.includes(a.path)
    );
  const total = Object.values(removed).reduce((n, list) => n + list.length, 0);
  const verb = dryRun ? "Would remove" : "Removed";
  return {
    data: { dry_run: dryRun, ...removed, kept_agent_worktrees: kept },
    text: [
      ...(total === 0 ? ["Nothing to clean up."] : []),
      ...removed.stale_slots.map((s) => `${verb} stale slot ${s}`),
      ...removed.worktrees.map((w) => `${verb} registry entry of missing or half-made worktree ${w}`),
      ...removed.slot_dirs.map((d) => `${verb} orphaned slot directory ${basename(d)}`),
      ...removed.compose_projects.map((p) => `${verb} orphaned containers, networks and volumes of ${p}`),
      ...removed.code_copies.map((c) => `${verb} orphaned code copy ${c}`),
      ...kept.map((a) => `Kept ${a.path}: ${a.explanation}`),
      ...removed.warm.map((p) => `${verb} warm sandbox ${p}`),
    ].join("\n"),
  };
}
