/**
 * `kinfra warm [n]`: keep n warm sandboxes of this project's base ready (core/sandbox/warm.ts), so
 * `impl` starts only the services that mount code. Warm slots made from another commit or another
 * `[sandbox]` config are replaced; `kinfra warm 0` removes them all.
 */
import type { Context } from "../context.ts";
import { KinfraError, usageError } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";
import { resolveBase } from "../project/worktrees.ts";
import { readRegistry, type Registry, updateRegistry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";
import { cleanStale } from "../sandbox/repair.ts";
import { ownerAlive, TRANSIENT } from "../slots/stale.ts";

export async function warm(
  ctx: Context,
  options: { count?: string; force?: boolean; host?: string },
): Promise<CommandOutput> {
  await localOnly(ctx, options.host);
  const project = await ctx.project();
  const sandbox = project.config?.sandbox;
  if (!sandbox) {
    throw usageError(`${project.name} has no [sandbox] in infra.toml: there is nothing to keep warm.`);
  }
  const max = (await ctx.globalConfig()).slots.max;
  const count = Number(options.count ?? 1);
  if (!Number.isInteger(count) || count < 0 || count > max) {
    throw usageError(`"${options.count}" is not a number of warm sandboxes (0–${max}, [slots] max).`);
  }
  const { removeWarm, sandboxHash, startWarm, warmSlots } = await import("../sandbox/warm.ts");
  await cleanStale(ctx);
  const base = await resolveBase(ctx, project);
  const commit = (await ctx.git.resolveRef(project.gitRoot, base))!;
  const hash = await sandboxHash(project);
  await updateRegistry(ctx.home, (registry) => {
    registry.warm ??= {};
    if (count) registry.warm[project.name] = { count, root: project.root };
    else delete registry.warm[project.name];
  });
  const hooks = await ctx.hooks(project);
  const removed: number[] = [];
  // Another kinfra starting or removing one (a background refill) finishes first.
  const busy = (registry: Registry) =>
    warmSlots(registry, project.name).filter((s) => TRANSIENT.has(s.status) && ownerAlive(s));
  for (const deadline = Date.now() + 120_000; busy(await readRegistry(ctx.home)).length;) {
    if (Date.now() > deadline) {
      throw new KinfraError("Another kinfra is still starting warm sandboxes; try again.");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const current = warmSlots(await readRegistry(ctx.home), project.name);
  // Outdated ones first (another commit, another config), then the newest beyond the count.
  const outdated = current.filter((s) => s.warm!.base_commit !== commit || s.warm!.config_hash !== hash);
  const fresh = current.filter((s) => !outdated.includes(s)).sort((a, b) => a.slot_id - b.slot_id);
  for (const slot of [...outdated, ...fresh.slice(count)]) {
    ctx.log.step(`Removing warm sandbox ${composeProject(slot.project, slot.slot_id)}`);
    await removeWarm(ctx, project, hooks, structuredClone(slot));
    removed.push(slot.slot_id);
  }
  const started: number[] = [];
  for (let have = Math.min(fresh.length, count); have < count; have++) {
    const { ensureCapacity } = await import("../sandbox/capacity.ts");
    await ensureCapacity(ctx, {
      project: project.name,
      force: options.force,
      what: `a warm ${project.name} sandbox`,
    });
    started.push((await startWarm(ctx, project, hooks, base, commit)).slot_id);
  }
  const slots = warmSlots(await readRegistry(ctx.home), project.name).map((s) => ({
    slot: s.slot_id,
    status: s.status,
    compose_project: composeProject(s.project, s.slot_id),
    base: s.warm!.base,
    base_commit: s.warm!.base_commit,
    services: s.warm!.services,
    ports: s.ports,
  }));
  return {
    data: { project: project.name, count, base, base_commit: commit, warm: slots, started, removed },
    text: [
      `${ctx.style.green("✓")} ${slots.length} warm sandbox(es) of ${project.name} at ${base} (${
        commit.slice(0, 12)
      })${started.length ? `, started ${started.length}` : ""}${
        removed.length ? `, removed ${removed.length}` : ""
      }`,
      ...slots.map((s) => `  slot ${s.slot} · ${s.status} · ${s.services.join(", ")} running`),
      ...(count ? ["  `kinfra impl <feature>/<milestone>` takes one; `kinfra warm 0` removes them"] : []),
    ].join("\n"),
  };
}

/**
 * Warm sandboxes are this machine's. On a remote host a taken warm sandbox would still need its
 * code copied and its tunnels opened, and `impl --host` never takes one: refused (exit 2) for
 * `--host <host>`, and while new sandboxes go to a host by default (`[sandbox] host`).
 */
async function localOnly(ctx: Context, flag: string | undefined): Promise<void> {
  const configured = (await ctx.globalConfig()).sandbox.host;
  const host = flag ?? configured ?? "local";
  if (host === "local") return;
  throw usageError(
    `Warm sandboxes run on this machine only, and ${
      flag ? `--host ${flag}` : `[sandbox] host = "${configured}" (${ctx.home.config})`
    } sends new sandboxes ${
      host === "auto" ? "wherever there is most room" : `to host ${host}`
    }: impl would not take them.`,
    flag
      ? "Run `kinfra warm` without --host (or --host local)."
      : "Pass --host local to warm this machine's anyway (`impl --host local` takes them).",
  );
}
