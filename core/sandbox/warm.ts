/**
 * Warm sandboxes (`kinfra warm <n>`): slots of a project whose services that mount no worktree code
 * are started ahead of time — from the base commit's compose file, seeded (`[sandbox.data] seed`)
 * and healthy — so `impl` only has to start the code services. A warm slot is a claimed slot like
 * any other (its compose project `<project>-slot-<n>`, its ports, its directory), marked `warm` in
 * the registry, with the slot directory standing in for the worktree. `impl` re-keys it to the new
 * worktree (slots.ts `adoptWarm`) and runs `compose up -d --no-deps <code services>` with the
 * worktree's files under the same compose project name, so the running services are reused as they
 * are. A warm slot is taken only for the commit it was made from and the same `[sandbox]` config.
 */
import type { Context } from "../context.ts";
import { Exit, interrupted, KinfraError, messageOf } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { sha256Hex } from "../io/hash.ts";
import { isAbsolute } from "../io/path.ts";
import type { Hooks } from "../hooks/dispatch.ts";
import type { HookInput } from "../hooks/plugin_api.ts";
import { projectInput, type SlotInput, withSlot } from "../hooks/inputs.ts";
import type { Project } from "../project/project.ts";
import { readRegistry, type Registry, type SlotEntry } from "../slots/registry.ts";
import { claimSlot, releaseSlot, setSlotStatus } from "../slots/slots.ts";
import { composeProject } from "../slots/slot_files.ts";
import { warmSlots } from "../slots/registry.ts";
import { checkBaseCompose } from "./base_compose.ts";
import { httpVariables, portProtocols } from "../compose/slot_compose.ts";
import { prepareOverride, renderResolved } from "./sandbox.ts";
import { renderEnv, slotFiles } from "../slots/slot_files.ts";
import { Rollback } from "../hooks/rollback.ts";
import { renderOverride } from "./override.ts";
import { scanRuntime } from "./runtime.ts";

type Service = {
  build?: unknown;
  volumes?: ({ type?: string; source?: string } | string)[];
  depends_on?: Record<string, unknown> | string[];
} | null;

/**
 * Which services mount the worktree's code, and which do not (those a warm sandbox runs): code
 * services are infra.toml's `code_targets`, services built from the checkout, services bind-mounting
 * anything inside it, and every service depending on one of those.
 */
export function splitServices(
  doc: Record<string, unknown>,
  codeTargets: string[],
  checkout: string,
): { warm: string[]; code: string[] } {
  const services = (doc.services ?? {}) as Record<string, Service>;
  const inside = (path: string) => path === checkout || path.startsWith(checkout + "/");
  const code = new Set(codeTargets);
  for (const [name, body] of Object.entries(services)) {
    const mountsCode = (body?.volumes ?? []).some((v) => {
      const source = typeof v === "string" ? v.split(":")[0] : v.type === "bind" ? v.source : undefined;
      return typeof source === "string" && isAbsolute(source) && inside(source);
    });
    if (body?.build !== undefined || mountsCode) code.add(name);
  }
  const dependsOn = (body: Service) =>
    Array.isArray(body?.depends_on) ? body.depends_on : Object.keys(body?.depends_on ?? {});
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, body] of Object.entries(services)) {
      if (!code.has(name) && dependsOn(body).some((d) => code.has(d))) grew = code.add(name) && true;
    }
  }
  const names = Object.keys(services);
  return { warm: names.filter((n) => !code.has(n)), code: names.filter((n) => code.has(n)) };
}

/** The fingerprint of infra.toml's `[sandbox]` table: a warm slot made under another config is not taken. */
export const sandboxHash = (project: Project) => sha256Hex(JSON.stringify(project.config?.sandbox ?? null));

export { warmSlots } from "../slots/registry.ts";

/** A ready warm slot `impl` can take for a worktree made from `baseCommit`, or undefined. */
export async function takeableWarm(
  registry: Registry,
  project: Project,
  baseCommit: string | undefined,
): Promise<SlotEntry | undefined> {
  const hash = await sandboxHash(project);
  return warmSlots(registry, project.name).find((s) =>
    s.status === "running" && s.warm!.base_commit === baseCommit && s.warm!.config_hash === hash
  );
}

/** The hook input of a warm slot: the slot directory stands in for the worktree it does not have yet. */
function warmInput(
  project: Project,
  base: string,
  slot: SlotEntry,
  flags: HookInput["flags"],
  env: Record<string, string> = {},
): SlotInput {
  const worktree = {
    path: slot.slot_dir,
    branch: base,
    kind: "impl" as const,
    feature: "warm",
    milestone: `slot-${slot.slot_id}`,
  };
  return withSlot({ ...projectInput(project, flags), worktree }, slot, env);
}

/**
 * Starts one warm sandbox of `project` at `base` (`commit`): claims a slot, writes its directory
 * from the base commit's compose file, and runs the setup events with `flags.warm = "start"` and
 * `flags.services` = the services that mount no code. All or nothing, as any sandbox start.
 */
export async function startWarm(
  ctx: Context,
  project: Project,
  hooks: Hooks,
  base: string,
  commit: string,
): Promise<SlotEntry> {
  const sandbox = project.config!.sandbox!;
  const first = await checkBaseCompose(ctx, project, base);
  const split = splitServices(first.model.doc, sandbox.mounts.code_targets, project.root);
  if (!split.warm.length) {
    throw new KinfraError(
      `Every service of ${project.name} mounts the worktree's code (${
        split.code.join(", ")
      }): nothing to keep warm.`,
      { code: Exit.usage, hint: "Warm sandboxes help when some services (a database) need no code." },
    );
  }
  const { foreign, ours } = await scanRuntime(ctx);
  const slot = await claimSlot(ctx, {
    project: project.name,
    worktreePath: "",
    bases: sandbox.ports,
    maxSlots: (await ctx.globalConfig()).slots.max,
    foreignProjects: foreign,
    leftoverProjects: ours,
    protocols: portProtocols(first.sources),
    http: httpVariables(first.sources, sandbox.health?.port_var),
    warm: {
      root: project.root,
      base,
      base_commit: commit,
      config_hash: await sandboxHash(project),
      services: split.warm,
    },
  });
  const rollback = new Rollback(ctx.log);
  rollback.add(`release slot ${slot.slot_id}`, () => releaseSlot(ctx, slot));
  const name = composeProject(project.name, slot.slot_id);
  ctx.log.step(`Warming slot ${slot.slot_id} (${name}): ${split.warm.join(", ")}`);
  let input = warmInput(project, base, slot, { warm: "start", services: split.warm }, {
    COMPOSE_PROJECT_NAME: name,
    ...Object.fromEntries(Object.entries(slot.ports).map(([k, v]) => [k, String(v)])),
  });
  const checkpoint = () => {
    if (ctx.signal.aborted) throw interrupted();
  };
  try {
    const { model } = await checkBaseCompose(ctx, project, base, {
      id: slot.slot_id,
      ports: slot.ports,
      widths: slot.widths,
    });
    input = { ...input, model: model.doc };
    await Deno.mkdir(slot.slot_dir, { recursive: true });
    const files = slotFiles(slot.slot_dir);
    await writeFileAtomic(
      files.compose,
      renderResolved(model.doc, `${project.root} at ${base} (${commit.slice(0, 12)})`),
    );
    input = (await hooks.setup("slot.claimed", input, rollback)).input;
    checkpoint();
    const prepared = await prepareOverride(hooks, input, rollback);
    input = prepared.input;
    await writeFileAtomic(
      files.override,
      renderOverride(prepared.override, {
        worktree: `(warm) ${project.root}`,
        slot: `${project.name}-${slot.slot_id}`,
        generatedAt: ctx.now().toISOString(),
      }),
    );
    await writeFileAtomic(files.env, renderEnv(input.env));
    checkpoint();
    await setSlotStatus(ctx, slot, "starting");
    input = (await hooks.setup("sandbox.start", input, rollback)).input;
    checkpoint();
    await hooks.setup("sandbox.ready", input, rollback);
    checkpoint();
    await setSlotStatus(ctx, slot, "running");
  } catch (e) {
    const failure = ctx.signal.aborted ? interrupted() : e;
    ctx.log.warn(`Warm sandbox failed: ${messageOf(failure)}`);
    await rollback.run();
    throw failure;
  }
  return slot;
}

/** Stops a warm sandbox (its volumes go with it: no work lives there) and frees its slot. */
export async function removeWarm(
  ctx: Context,
  project: Project,
  hooks: Hooks,
  slot: SlotEntry,
): Promise<void> {
  const input = warmInput(project, slot.warm?.base ?? "", slot, {});
  await setSlotStatus(ctx, slot, "stopping");
  for (const event of ["sandbox.stop", "slot.released"] as const) {
    const { failures } = await hooks.teardown(event, input);
    for (const f of failures) ctx.log.warn(`${f.plugin}: ${f.message}`);
  }
  await releaseSlot(ctx, slot);
}

/**
 * After `impl` took a warm sandbox: `kinfra warm <n>` in the background (detached, output
 * discarded), so the project is back to the n warm sandboxes asked for. False when none were asked
 * for. `kinfra status` in the project shows the new one starting.
 */
export async function refillInBackground(ctx: Context, project: Project): Promise<boolean> {
  const count = (await readRegistry(ctx.home)).warm?.[project.name]?.count;
  if (!count) return false;
  const { startDetachedKinfra } = await import("../hooks/external.ts");
  const pid = startDetachedKinfra(ctx.home.root, ["warm", String(count), "--quiet"], project.root);
  ctx.log.debug(`refilling the warm sandboxes of ${project.name} (pid ${pid})`);
  return true;
}
