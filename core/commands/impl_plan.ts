/** `kinfra impl --dry-run`: the steps, the override and the compose command `impl` would run, changing nothing. */
import { join } from "../io/path.ts";
import { SLOT_FILES, slotFiles, slotName } from "../slots/slot_files.ts";
import type { Context } from "../context.ts";
import type { Project } from "../project/project.ts";
import type { CommandOutput } from "../io/output.ts";
import { readRegistry } from "../slots/registry.ts";
import type { SlotCompose } from "../compose/slot_compose.ts";
import { firstUsableSlot } from "../slots/slots.ts";
import { composeProject } from "../slots/slot_files.ts";
import { worktreeLayout } from "../project/worktrees.ts";
import { hookInput, withSlot } from "../hooks/inputs.ts";

/** What `impl` would do, without doing any of it: the steps, the override and the compose command. */
export async function plan(
  ctx: Context,
  project: Project,
  target: { feature: string; milestone: string },
  base: string,
  compose?: SlotCompose,
): Promise<CommandOutput> {
  const { path, branch } = worktreeLayout(project, { kind: "impl", ...target });
  const steps = [`git worktree add -b ${branch} ${path} ${base}`];
  let override: string | undefined;
  let slotId: number | null = null;
  let ports: Record<string, number> = {};
  const sandbox = project.config?.sandbox;
  if (sandbox && compose) {
    const registry = await readRegistry(ctx.home);
    const skipped: string[] = [];
    const slot = await firstUsableSlot(registry, {
      project: project.name,
      bases: sandbox.ports,
      maxSlots: (await ctx.globalConfig()).slots.max,
      protocols: (await import("../compose/slot_compose.ts")).portProtocols(compose.sources),
    }, (line) => skipped.push(line));
    slotId = slot?.id ?? null;
    ports = slot?.ports ?? {};
    const id = slot?.id ?? 1;
    const dir = join(ctx.home.slots, slotName(project.name, id));
    const name = composeProject(project.name, id);
    steps.push(
      !slot
        ? `no free slot right now: ${noSlotReason(Object.keys(registry.slots).length, skipped)}`
        : Object.keys(ports).length
        ? `claim slot ${id}: ${Object.entries(ports).map(([k, v]) => `${k}=${v}`).join(" ")}`
        : `claim slot ${id} (no port variables: every published port is one Docker picks)`,
      `write ${dir}/ (${Object.values(SLOT_FILES).join(", ")})`,
      [
        (await ctx.compose()).command,
        ...["-f", join(path, sandbox.compose_file), "-f", slotFiles(dir).override],
        ...["-p", name, "up", "-d"],
      ].join(" "),
      ...(sandbox.health ? [`wait for ${sandbox.health.endpoint} (up to ${sandbox.health.timeout}s)`] : []),
    );
    override = await dryOverride(
      ctx,
      project,
      { path, branch, ...target },
      { id, dir, name, ports },
      compose,
    );
  }
  return {
    data: { dry_run: true, path, branch, base, slot: slotId, ports, steps, override: override ?? null },
    text: [
      "Plan (nothing was changed):",
      ...steps.map((s, i) => `  ${i + 1}. ${s}`),
      ...(override
        ? ["docker-compose.override.yml (from the built-in plugins):", override.replace(/^/gm, "  ")]
        : []),
    ].join("\n"),
  };
}

/** The override the built-in plugins would write (external plugins run only for real). */
async function dryOverride(
  ctx: Context,
  project: Project,
  worktree: { path: string; branch: string; feature: string; milestone: string },
  slot: { id: number; dir: string; name: string; ports: Record<string, number> },
  compose: SlotCompose,
): Promise<string> {
  const builtins = new Set((await ctx.builtins()).map((p) => p.name));
  const hooks = (await ctx.hooks(project)).only((p) => builtins.has(p.name));
  const entry = {
    ...worktree,
    kind: "impl" as const,
    project: project.name,
    project_root: project.root,
    base: "",
    created_at: "",
  };
  const input = {
    ...withSlot(hookInput(project, entry, {}), {
      slot_id: slot.id,
      slot_dir: slot.dir,
      project: project.name,
      ports: slot.ports,
    }),
    model: compose.model.doc,
  };
  const [{ prepareOverride }, { renderOverride }] = await Promise.all([
    import("../sandbox/sandbox.ts"),
    import("../sandbox/override.ts"),
  ]);
  const { override } = await prepareOverride(hooks, input);
  return renderOverride(override, {
    worktree: worktree.path,
    slot: slotName(project.name, slot.id),
    generatedAt: "(dry run)",
  })
    .trimEnd();
}

/** Why `--dry-run` found no slot: slots held by sandboxes, and the first reasons the others were skipped. */
function noSlotReason(held: number, skipped: string[]): string {
  const shown = skipped.slice(0, 3).map((line) =>
    line.replace(/^Slot (\d+) skipped: /, "slot $1: ").replace(/\.$/, "")
  );
  return [
    ...(held ? [`${held} slot${held > 1 ? "s" : ""} held by sandboxes`] : []),
    ...shown,
    ...(skipped.length > 3 ? [`${skipped.length - 3} more skipped alike`] : []),
  ].join("; ");
}
