/**
 * `kinfra up`, `down`, `env`, `logs` and `restart`: start or stop the sandbox of an existing impl
 * worktree, print its variables for `eval`, show its services' last log lines, restart them.
 */
import type { Context } from "../context.ts";
import { parseEnv, slotFiles } from "../slots/slot_files.ts";
import { Exit, KinfraError, usageError } from "../errors.ts";
import { ENV_KEY, messagesOf } from "../hooks/dispatch.ts";
import { basename } from "../io/path.ts";
import type { CommandOutput } from "../io/output.ts";
// Starting and stopping load the compose machinery (YAML and all); `env` must stay quick.
const sandbox = () => import("../sandbox/sandbox.ts");
import type { Project } from "../project/project.ts";
import type { SlotEntry, WorktreeEntry } from "../slots/registry.ts";
import { AlreadyClaimed } from "../slots/slots.ts";
import { composeProject } from "../slots/slot_files.ts";
import { slotOf } from "../slots/registry.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { hookInput, withSlot, type WorktreeInput } from "../hooks/inputs.ts";
import type { Hooks } from "../hooks/dispatch.ts";
import { renderSandbox } from "./status.ts";
import { type SandboxView, sandboxView } from "../proxy/view.ts";

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

/** False when a plugin says its part of the sandbox is gone or stopped (`status` → `running: false`). */
async function sandboxRunning(hooks: Hooks, input: WorktreeInput, slot: SlotEntry): Promise<boolean> {
  const { replies } = await hooks.observe("status", withSlot(input, slot));
  return replies.every((r) => r.result.running !== false);
}

const alreadyUp = (
  entry: WorktreeEntry,
  slot: SlotEntry,
  project: Project,
  view: SandboxView,
): CommandOutput => ({
  data: {
    path: entry.path,
    slot: slot.slot_id,
    ports: slot.ports,
    status: slot.status,
    started: false,
    ...view,
  },
  text: [
    `Sandbox already ${slot.status === "running" ? "up" : slot.status} for ${entry.path}:`,
    ...renderSandbox(slot, project.config?.sandbox, view),
  ].join("\n"),
});

export async function up(
  ctx: Context,
  options: { name?: string; host?: string; force?: boolean },
): Promise<CommandOutput> {
  const { entry, project, slot } = await target(ctx, options.name);
  // The memory budget of the engine it goes (back) to: this machine's, or the host's.
  if (!slot) {
    const target = options.host ?? (entry.last_host as string | undefined) ??
      (await ctx.globalConfig()).sandbox.host;
    const { ensureRoom } = await import("../sandbox/host_capacity.ts");
    await ensureRoom(ctx, target, { project: project.name, force: options.force });
  }
  const hooks = await ctx.hooks(project);
  if (
    slot && (slot.status !== "running" || await sandboxRunning(hooks, hookInput(project, entry, {}), slot))
  ) {
    // Its name and checkout need the proxy; after a crash or a reboot, this brings it back.
    await (await import("../proxy/ensure.ts")).ensureProxy(ctx);
    return alreadyUp(entry, slot, project, await sandboxView(ctx, entry, slot));
  }
  if (slot) {
    // Containers removed or stopped behind kinfra's back: take the slot down cleanly, start afresh.
    ctx.log.warn(`The sandbox of slot ${slot.slot_id} is gone or stopped; starting the sandbox again.`);
    await (await import("../sandbox/stop.ts")).stopSandbox(
      ctx,
      hooks,
      hookInput(project, entry, { keepVolumes: true }),
      slot,
      [],
    );
  }
  let started;
  try {
    const input = hookInput(project, entry, {});
    started = await (await sandbox()).startSandbox(ctx, project, hooks, entry, input, { host: options.host });
  } catch (e) {
    // Another `up` of this worktree got the slot first: one sandbox, already on its way.
    if (e instanceof AlreadyClaimed) {
      return alreadyUp(entry, e.slot, project, await sandboxView(ctx, entry, e.slot));
    }
    throw e;
  }
  const view = await sandboxView(ctx, entry, started.slot);
  return {
    data: {
      path: entry.path,
      slot: started.slot.slot_id,
      ports: started.slot.ports,
      status: started.slot.status,
      started: true,
      ...view,
      messages: started.messages,
    },
    text: [
      `${ctx.style.green("✓")} Sandbox up for ${entry.path}`,
      ...renderSandbox(started.slot, project.config?.sandbox, view),
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
  const failures = await (await import("../sandbox/stop.ts")).stopSandbox(
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

/** Single-quotes a value for POSIX shells, always: `eval "$(kinfra env)"` must never run anything. */
const shellQuote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

export async function env(ctx: Context, options: { name?: string }): Promise<CommandOutput> {
  const { entry, slot } = await target(ctx, options.name);
  if (!slot) {
    // A stopped sandbox is a state, not a mistake: the contract's "blocked" (3), like a dirty `done`.
    throw new KinfraError(`The sandbox of ${entry.path} is stopped: it has no slot, so no variables.`, {
      code: Exit.blocked,
      hint: `Start it with \`kinfra up ${basename(entry.path)}\`, then run this again.`,
    });
  }
  let vars: Record<string, string>;
  try {
    vars = parseEnv(await Deno.readTextFile(slotFiles(slot.slot_dir).env));
  } catch {
    vars = {
      COMPOSE_PROJECT_NAME: composeProject(slot.project, slot.slot_id),
      ...Object.fromEntries(Object.entries(slot.ports).map(([k, v]) => [k, String(v)])),
    };
  }
  // A sandbox on a remote host: `docker compose ps` after the eval reaches its engine (TLS too).
  if (slot.remote) {
    const { dockerHostEnv } = await import("../io/engine.ts");
    vars = { ...vars, ...dockerHostEnv(slot.remote.docker_host) };
  }
  return {
    data: { env: vars },
    // A key that is not a variable name could only come from a tampered file: never print it.
    text: Object.entries(vars).filter(([k]) => ENV_KEY.test(k)).map(([k, v]) =>
      `export ${k}=${shellQuote(v)}`
    )
      .join("\n"),
  };
}

/** The slot of a running sandbox, for commands that act on one (`logs`, `restart`). */
async function runningSlot(ctx: Context, name: string | undefined, what: string) {
  const found = await target(ctx, name);
  if (!found.slot) {
    throw new KinfraError(`The sandbox of ${found.entry.path} is stopped, so it has no ${what}.`, {
      code: Exit.blocked,
      hint: `Start it with \`kinfra up ${basename(found.entry.path)}\`.`,
    });
  }
  const input = withSlot(hookInput(found.project, found.entry, {}), found.slot);
  return { ...found, slot: found.slot, input, hooks: await ctx.hooks(found.project) };
}

export async function logs(
  ctx: Context,
  options: { name?: string; service?: string; tail?: string },
): Promise<CommandOutput> {
  const lines = Number(options.tail ?? 200);
  if (!Number.isInteger(lines) || lines < 1 || lines > 100_000) {
    throw usageError(`--tail "${options.tail}" is not a number of lines (1–100000).`);
  }
  const { entry, input, hooks } = await runningSlot(ctx, options.name, "logs");
  Object.assign(input.flags, { lines, ...(options.service ? { service: options.service } : {}) });
  const replies = await hooks.command("sandbox.logs", input);
  const text = replies.flatMap((r) => r.result.lines ?? []);
  return { data: { path: entry.path, service: options.service ?? null, lines: text }, text: text.join("\n") };
}

export async function restart(
  ctx: Context,
  options: { name?: string; service?: string },
): Promise<CommandOutput> {
  const { entry, input, hooks } = await runningSlot(ctx, options.name, "services to restart");
  if (options.service) input.flags.service = options.service;
  ctx.log.step(`Restarting ${options.service ?? "the services"} of ${entry.path}`);
  const messages = messagesOf(await hooks.command("sandbox.restart", input));
  return {
    data: { path: entry.path, service: options.service ?? null, messages },
    text: [`${ctx.style.green("✓")} Restarted`, ...messages.map((m) => `  ${m}`)].join("\n"),
  };
}
