/**
 * `kinfra status [name]`: the sandbox of a worktree — slot, ports, compose project, containers,
 * health, and what plugins add through the `status` event. Repairs stale slots first.
 */
import type { SandboxConfig } from "../project/config/schema.ts";
import { healthUrl } from "../slots/ports.ts";
import type { Context } from "../context.ts";
import type { CommandOutput } from "../io/output.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";
import { slotOf } from "../slots/registry.ts";
import { shownPorts } from "../slots/ports.ts";
import { cleanStale } from "../sandbox/repair.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { projectIfAny } from "../project/project.ts";
import { hookInput, withSlot } from "../hooks/inputs.ts";
import { readRegistry } from "../slots/registry.ts";
import { agentSessions, sessionLabel } from "./agent_session.ts";
import { type SandboxView, sandboxView, viewLines } from "../proxy/view.ts";
import { isCheckedOut } from "../proxy/checkouts.ts";
import { sandboxUrls } from "../proxy/names.ts";
import { idleStoppedText, measureUsage, usageJson, usageText } from "../sandbox/usage.ts";

/** Text lines describing a slot: ports and URLs (and its stable names and checkout, given the view). */
export function renderSandbox(slot: SlotEntry, sandbox?: SandboxConfig, view?: SandboxView): string[] {
  const lines = [
    `  slot ${slot.slot_id} · compose project ${composeProject(slot.project, slot.slot_id)} · ${slot.status}`,
  ];
  for (const p of shownPorts(slot)) {
    lines.push(`  ${p.name}=${p.port}${p.note ?? ""}${p.url ? `  ${p.url}` : ""}`);
  }
  if (sandbox?.health) {
    lines.push(`  health ${healthUrl(slot.ports, sandbox.health)}`);
  }
  return view ? [...lines, ...viewLines(view, slot)] : lines;
}

export async function status(ctx: Context, options: { name?: string }): Promise<CommandOutput> {
  ctx.builtins().catch(() => {}); // the plugins' modules load while the registry is read (errors: below)
  await cleanStale(ctx);
  if (options.name === undefined) {
    const overview = await projectOverview(ctx);
    if (overview) return overview;
  }
  const found = await findWorktree(ctx, options.name);
  // The entry and its slot from one read: an idle stop elsewhere may change the registry meanwhile.
  const registry = await readRegistry(ctx.home);
  const entry = registry.worktrees[found.path] ?? found;
  const project = await ctx.project(entry.project_root);
  const slot = await slotOf(ctx, entry.path, registry);
  const input = slot ? withSlot(hookInput(project, entry, {}), slot) : hookInput(project, entry, {});
  const remote = slot?.remote
    ? await (await import("../remote/status.ts")).remoteStatus(ctx, slot)
    : undefined;
  const [{ replies, failures }, measured, view] = await Promise.all([
    ctx.hooks(project).then((hooks) => hooks.observe("status", input)),
    // A remote sandbox is measured on its host (over ssh).
    slot ? measureUsage(ctx, { cpu: true, ...(slot.remote && { engine: slot.remote }) }) : undefined,
    sandboxView(ctx, entry, slot),
    // Back after a crash, so the names work (a remote slot's status has already seen to it).
    slot && !remote ? import("../proxy/ensure.ts").then((m) => m.ensureProxy(ctx)) : undefined,
  ]);
  const usage = slot && measured?.sandboxes.get(composeProject(slot.project, slot.slot_id));
  const stoppedIdle = slot ? undefined : entry.idle_stopped;
  const plugins = Object.fromEntries(replies.map((r) => [r.plugin, r.result.status ?? {}]));
  const data = {
    name: entry.path.split("/").pop(),
    kind: entry.kind,
    project: entry.project,
    path: entry.path,
    branch: entry.branch,
    slot: slot?.slot_id ?? null,
    status: slot?.status ?? (stoppedIdle ? "stopped" : "no sandbox"),
    compose_project: slot ? composeProject(slot.project, slot.slot_id) : null,
    ports: slot?.ports ?? {},
    usage: usageJson(usage),
    idle_stopped: stoppedIdle ?? null,
    ...view,
    remote: remote?.data ?? null,
    plugins,
    plugin_failures: failures,
  };
  return {
    data,
    text: [
      `${ctx.style.bold(data.name ?? "")} (${entry.kind}, ${entry.project}) on ${entry.branch}`,
      `  ${entry.path}`,
      ...(slot ? renderSandbox(slot, project.config?.sandbox, view) : [
        stoppedIdle
          ? `  ${
            idleStoppedText(stoppedIdle)
          } (${stoppedIdle.at}); \`kinfra up\` brings it back on slot ${stoppedIdle.slot}`
          : "  no sandbox (start one with `kinfra up`)",
        ...viewLines(view, undefined),
      ]),
      ...(usage ? [`  ${usageText(usage)}`] : []),
      ...(remote?.lines ?? []),
      // Each plugin renders its own section; a plugin that gives no lines is shown as key value pairs.
      ...replies.flatMap(({ plugin, result }) =>
        // A plugin saying its part needs the user (an agent waiting for input) is shown in yellow.
        result.lines?.map((l) => `  ${result.status?.needs_input === true ? ctx.style.yellow(l) : l}`) ??
          (result.status
            ? [
              `  ${plugin}: ${
                Object.entries(result.status).map(([k, v]) =>
                  `${k} ${typeof v === "string" ? v : JSON.stringify(v)}`
                )
                  .join(", ")
              }`,
            ]
            : [])
      ),
      ...failures.map((f) => `  ${ctx.style.yellow("!")} plugin ${f.plugin}: ${f.message}`),
    ].join("\n"),
  };
}

/**
 * `kinfra status` in a project's main checkout (no worktree there to show): the project's kinfra
 * worktrees with their sandboxes, one line each. Undefined when the cwd is not a main checkout.
 */
async function projectOverview(ctx: Context): Promise<CommandOutput | undefined> {
  const top = (await ctx.git.locate(ctx.cwd).catch(() => undefined))?.top;
  const registry = await readRegistry(ctx.home);
  if (!top || registry.worktrees[top]) return undefined;
  const project = await projectIfAny(() => ctx.project());
  if (!project || project.root !== top) return undefined;
  const slots = Object.values(registry.slots);
  const entries = Object.values(registry.worktrees).filter((w) => w.project_root === project.root);
  const [sessions, measured] = await Promise.all([
    agentSessions(ctx, entries),
    slots.length ? measureUsage(ctx, { cpu: true }).then((r) => r.sandboxes) : new Map(),
  ]);
  const routerPort = (await ctx.globalConfig()).proxy.port;
  const worktrees = entries
    .sort((a, b) => a.path < b.path ? -1 : 1)
    .map((w) => {
      const slot = slots.find((s) => s.worktree_path === w.path);
      return {
        name: w.path.split("/").pop()!,
        kind: w.kind,
        path: w.path,
        branch: w.branch,
        slot: slot?.slot_id ?? null,
        status: slot?.status ?? (w.idle_stopped ? idleStoppedText(w.idle_stopped) : "no sandbox"),
        ports: slot?.ports ?? {},
        usage: usageJson(slot && measured.get(composeProject(slot.project, slot.slot_id))),
        session: sessions.get(w.path) ?? null,
        checked_out: isCheckedOut(registry, w.path),
        url: slot && w.kind === "impl" ? sandboxUrls(slot, w, routerPort).url : null,
      };
    });
  const warm = slots.filter((s) => s.warm && s.project === project.name).map((s) => ({
    slot: s.slot_id,
    status: s.status,
    base: s.warm!.base,
    ports: s.ports,
    usage: usageJson(measured.get(composeProject(s.project, s.slot_id))),
  }));
  const lines = worktrees.map((w) =>
    `  ${w.name}  ${w.kind}  ${
      w.slot === null
        ? w.status
        : `slot ${w.slot} · ${w.status} · ${Object.entries(w.ports).map(([k, v]) => `${k}=${v}`).join(" ")}${
          w.url ? ` · ${w.url}` : ""
        }${w.usage ? ` · ${usageText(w.usage)}` : ""}`
    }${w.checked_out ? " · checked out" : ""}${
      w.session ? `  agent ${sessionLabel(w.session, ctx.style)}` : ""
    }`
  );
  lines.push(
    ...warm.map((s) =>
      `  (warm)  slot ${s.slot} · ${s.status} · base ${s.base}${s.usage ? ` · ${usageText(s.usage)}` : ""}`
    ),
  );
  return {
    data: { project: project.name, root: project.root, worktrees, warm },
    text: worktrees.length || warm.length
      ? [
        `${ctx.style.bold(project.name)}: ${worktrees.length} worktree(s)`,
        ...lines,
        "  `kinfra status <name>` for one in detail",
      ].join("\n")
      : `${project.name} has no kinfra worktrees. Start one with \`kinfra impl <feature>/M1\` or \`kinfra spec <feature>\`.`,
  };
}
