/**
 * `kinfra up`, `down` and `env`: start or stop the sandbox of an existing impl worktree, and print
 * its variables for `eval`.
 */
import type { Context } from "../context.ts";
import { usageError } from "../errors.ts";
import type { CommandOutput } from "../output.ts";
import { startSandbox, stopSandbox } from "../sandbox.ts";
import { composeProject, slotOf } from "../slots.ts";
import { findWorktree } from "../find_worktree.ts";
import { hookInput } from "../worktrees.ts";
import { renderSandbox } from "./status.ts";

async function target(ctx: Context, name?: string) {
  const entry = await findWorktree(ctx, name);
  const project = await ctx.project(entry.project_root);
  if (entry.kind !== "impl" || !project.config?.sandbox) {
    throw usageError(
      `${entry.path} has no sandbox: ${
        entry.kind !== "impl" ? "it is a spec worktree" : "infra.toml has no [sandbox]"
      }.`,
      "Sandboxes belong to impl worktrees of projects with a [sandbox] section (`kinfra init`).",
    );
  }
  return { entry, project, slot: await slotOf(ctx, entry.path) };
}

export async function up(ctx: Context, options: { name?: string }): Promise<CommandOutput> {
  const { entry, project, slot } = await target(ctx, options.name);
  if (slot) {
    return {
      data: { path: entry.path, slot: slot.slot_id, ports: slot.ports, status: slot.status, started: false },
      text: [`Sandbox already up for ${entry.path}:`, ...renderSandbox(slot, project.config?.sandbox)].join(
        "\n",
      ),
    };
  }
  const hooks = await ctx.hooks(project);
  const started = await startSandbox(ctx, project, hooks, entry, hookInput(project, entry, {}));
  return {
    data: {
      path: entry.path,
      slot: started.slot.slot_id,
      ports: started.slot.ports,
      status: started.slot.status,
      started: true,
      messages: started.messages,
    },
    text: [
      `${ctx.style.green("✓")} Sandbox up for ${entry.path}`,
      ...renderSandbox(started.slot, project.config?.sandbox),
      ...started.messages.map((m) => `  ${m}`),
    ]
      .join("\n"),
  };
}

export async function down(ctx: Context, options: { name?: string }): Promise<CommandOutput> {
  const { entry, project, slot } = await target(ctx, options.name);
  if (!slot) {
    return { data: { path: entry.path, stopped: false }, text: `No sandbox is running for ${entry.path}.` };
  }
  const messages: string[] = [];
  // `down` keeps named volumes so the next `up` finds its data; `done` removes them.
  const failures = await stopSandbox(
    ctx,
    await ctx.hooks(project),
    hookInput(project, entry, { keepVolumes: true }),
    slot,
    messages,
  );
  return {
    data: { path: entry.path, stopped: true, slot: slot.slot_id, messages, plugin_failures: failures },
    text: [
      `${ctx.style.green("✓")} Sandbox stopped, slot ${slot.slot_id} released`,
      ...messages.map((m) => `  ${m}`),
    ].join("\n"),
  };
}

/** Single-quotes a value for POSIX shells. */
const shellQuote = (v: string) => /^[A-Za-z0-9_./:@%+=,-]*$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`;

export async function env(ctx: Context, options: { name?: string }): Promise<CommandOutput> {
  const { entry, slot } = await target(ctx, options.name);
  if (!slot) throw usageError(`No sandbox is running for ${entry.path}.`, "Start it with `kinfra up`.");
  let vars: Record<string, string>;
  try {
    vars = Object.fromEntries(
      (await Deno.readTextFile(`${slot.slot_dir}/.env.sandbox`)).split("\n").filter((l) => l.includes("="))
        .map((l) => {
          const i = l.indexOf("=");
          return [l.slice(0, i), l.slice(i + 1)];
        }),
    );
  } catch {
    vars = {
      COMPOSE_PROJECT_NAME: composeProject(slot.project, slot.slot_id),
      ...Object.fromEntries(Object.entries(slot.ports).map(([k, v]) => [k, String(v)])),
    };
  }
  return {
    data: { env: vars },
    text: Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join("\n"),
  };
}
