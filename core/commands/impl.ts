/**
 * `kinfra impl <feature>/<milestone>`: an impl worktree on `impl/<feature>-<milestone>` and, with a
 * `[sandbox]`, its running sandbox on a slot of its own. `--dry-run` prints the plan and changes
 * nothing.
 */
import { join, relative } from "node:path";
import type { Context } from "../context.ts";
import { messagesOf } from "../hooks.ts";
import { usageError } from "../errors.ts";
import type { Project } from "../project.ts";
import { parseImplTarget } from "../names.ts";
import type { CommandOutput } from "../output.ts";
import { readRegistry } from "../registry.ts";
import { Rollback } from "../rollback.ts";
import { checkCompose, type SandboxResult, startSandbox } from "../sandbox.ts";
import { composeProject, firstUsableSlot } from "../slots.ts";
import {
  createWorktree,
  discardWorktree,
  hookInput,
  resolveBase,
  saveState,
  worktreeLayout,
} from "../worktrees.ts";
import { renderSandbox } from "./status.ts";

export interface ImplOptions {
  target: string;
  base?: string;
  session?: boolean;
  /** false with `--no-sandbox`. */
  sandbox?: boolean;
  dryRun?: boolean;
}

export async function impl(ctx: Context, options: ImplOptions): Promise<CommandOutput> {
  const { feature, milestone } = parseImplTarget(options.target);
  const project = await ctx.project();
  const base = await resolveBase(ctx, project, options.base);
  const withSandbox = options.sandbox !== false && Boolean(project.config?.sandbox);
  if (withSandbox) await checkBaseCompose(ctx, project, base);
  if (options.dryRun) return await plan(ctx, project, { feature, milestone }, base, withSandbox);

  const hooks = await ctx.hooks(project);
  const entry = await createWorktree(ctx, project, { kind: "impl", feature, milestone }, base);
  const input = hookInput(project, entry, { session: options.session, sandbox: withSandbox });

  // A failure in worktree.created undoes the fresh worktree; later failures keep it (see startSandbox).
  const rollback = new Rollback(ctx.log);
  rollback.add("remove worktree", () => discardWorktree(ctx, project.gitRoot, entry));
  const messages: string[] = [];
  try {
    messages.push(...messagesOf(await hooks.setup("worktree.created", input, rollback)));
  } catch (e) {
    await rollback.run();
    throw e;
  }

  let sandbox: SandboxResult | undefined;
  if (withSandbox) {
    sandbox = await startSandbox(ctx, project, hooks, entry, input);
    messages.push(...sandbox.messages);
  }
  messages.push(...messagesOf(await hooks.setup("worktree.ready", input)));
  await saveState(ctx, entry.path, input);

  const data = {
    kind: "impl",
    project: project.name,
    path: entry.path,
    branch: entry.branch,
    base,
    slot: sandbox?.slot.slot_id ?? null,
    compose_project: sandbox ? composeProject(project.name, sandbox.slot.slot_id) : null,
    ports: sandbox?.slot.ports ?? {},
    messages,
  };
  return {
    data,
    text: [
      `${ctx.style.green("✓")} Impl worktree ready: ${ctx.style.bold(entry.path)}`,
      `  branch ${entry.branch} (from ${base})`,
      ...(sandbox ? renderSandbox(sandbox.slot, project.config?.sandbox) : ["  no sandbox"]),
      ...messages.map((m) => `  ${m}`),
      `  cd ${JSON.stringify(entry.path)}`,
    ].join("\n"),
  };
}

/**
 * Checks the compose file as the new worktree will have it — committed on `base` — before anything
 * is created, so an unparameterized or uncommitted file costs nothing.
 */
async function checkBaseCompose(ctx: Context, project: Project, base: string): Promise<void> {
  const file = relative(project.gitRoot, join(project.root, project.config!.sandbox!.compose_file));
  const shown = await ctx.exec("git", ["-C", project.gitRoot, "show", `${base}:${file}`]);
  if (!shown.success) {
    throw usageError(
      `${file} is not committed on ${base}, so the new worktree would have no compose file.`,
      `Commit it (git add ${file} && git commit), or pass --no-sandbox.`,
    );
  }
  await checkCompose(project, shown.stdout, `${file} (on ${base})`);
}

/** What `impl` would do, without doing any of it. */
async function plan(
  ctx: Context,
  project: Project,
  target: { feature: string; milestone: string },
  base: string,
  withSandbox: boolean,
): Promise<CommandOutput> {
  const { path, branch } = worktreeLayout(project, { kind: "impl", ...target });
  const slot = withSandbox
    ? firstUsableSlot(await readRegistry(ctx.home), {
      project: project.name,
      bases: project.config!.sandbox!.ports,
      maxSlots: (await ctx.globalConfig()).slots.max,
    }) ?? null
    : null;
  const steps = [
    `git worktree add -b ${branch} ${path} ${base}`,
    ...(withSandbox
      ? [
        `check ${project.config!.sandbox!.compose_file} uses ${
          Object.keys(project.config!.sandbox!.ports).join(", ")
        }`,
        slot
          ? `claim slot ${slot.id}: ${Object.entries(slot.ports).map(([k, v]) => `${k}=${v}`).join(" ")}`
          : "no free slot right now",
        `write ${ctx.home.slots}/${project.name}-${
          slot?.id ?? "<n>"
        }/ (.env.sandbox, docker-compose.yml, docker-compose.override.yml)`,
        `compose up -d (project ${project.name}-slot-${slot?.id ?? "<n>"})`,
        ...(project.config!.sandbox!.health
          ? [
            `wait for ${project.config!.sandbox!.health.endpoint} (up to ${
              project.config!.sandbox!.health.timeout
            }s)`,
          ]
          : []),
      ]
      : []),
  ];
  return {
    data: { dry_run: true, path, branch, base, slot: slot?.id ?? null, ports: slot?.ports ?? {}, steps },
    text: ["Plan (nothing was changed):", ...steps.map((s, i) => `  ${i + 1}. ${s}`)].join("\n"),
  };
}
