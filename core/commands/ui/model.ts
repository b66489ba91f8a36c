/**
 * The board: every project's kinfra worktrees with their sandboxes, as `kinfra ui` and `status --watch`
 * show it. Read-only: it never repairs or cleans (a stale entry is marked, `kinfra gc` removes it).
 * What a sandbox is doing comes from the plugins' `status` replies, exactly as `kinfra status` gets it.
 */
import type { Context } from "../../context.ts";
import { messageOf } from "../../errors.ts";
import { existsSync } from "../../io/home.ts";
import { basename } from "../../io/path.ts";
import { endpoints, stackContainers } from "../../sandbox/observability.ts";
import { hookInput, withSlot } from "../../hooks/inputs.ts";
import { readRegistry, type SlotEntry, type WorktreeEntry } from "../../slots/registry.ts";
import { composeProject } from "../../slots/slot_files.ts";
import type { SandboxUsage } from "../../hooks/plugin_api.ts";
import { idleStoppedText, usageJson } from "../../sandbox/usage.ts";
import { shownPorts, type SlotPort } from "../../slots/ports.ts";
import { staleReason } from "../../slots/stale.ts";
import { type AgentSession, agentSession } from "../agent_session.ts";
import { sandboxView } from "../../proxy/view.ts";

export interface Container {
  service: string;
  state: string;
  status: string;
}

export interface Sandbox {
  slot: number;
  /** The registry's word: claiming, starting, running, stopping, failed. */
  status: string;
  /** What it looks like: up, starting, stopping, degraded (a container is not running), failed. */
  state: "up" | "starting" | "stopping" | "degraded" | "failed";
  compose_project: string;
  started_at: string;
  ports: SlotPort[];
  /** The `kinfra hosts` name of the remote engine it runs on, or null on the local one. */
  host: string | null;
  containers: Container[];
  health: { url: string; state: string } | null;
  /** The slot's traces' `service.namespace` when it is wired to the shared stack, else null. */
  namespace: string | null;
  jaeger: string | null;
  grafana: string | null;
  /** The stable name (`kinfra proxy`'s router) and one per HTTP port variable. */
  url: string | null;
  urls: Record<string, string>;
  /** What it uses (memory in bytes, cpu in percent of one CPU), as last measured; null before that. */
  usage: { memory: number; cpu: number | null; containers: number } | null;
}

export interface Row {
  project: string;
  name: string;
  kind: "spec" | "impl";
  path: string;
  branch: string;
  /** Why the entry is stale (its worktree or slot directory is gone, its process died), or null. */
  stale: string | null;
  sandbox: Sandbox | null;
  /** The agent-deck session: its state is agent-deck's (`waiting`: the agent needs the user). */
  session: AgentSession | null;
  /** Plugins that could not say how things are. */
  problems: string[];
  /** The project's checked-out worktree (`kinfra checkout`). */
  checked_out: boolean;
  /** Set when `idle_stop` stopped its sandbox: "stopped after 4h idle", when, and the slot kept for it. */
  idle_stopped: { text: string; at: string; slot: number } | null;
}

/** A warm sandbox (`kinfra warm`) of the project, waiting for an `impl`. */
export interface WarmRow {
  slot: number;
  status: string;
  base: string;
  services: string[];
  usage: { memory: number; cpu: number | null; containers: number } | null;
}

export interface Board {
  home: string;
  projects: { name: string; root: string; worktrees: Row[]; warm: WarmRow[] }[];
  observability: {
    state: "running" | "partial" | "stopped" | "unknown";
    containers: Container[];
    jaeger: string | null;
    grafana: string | null;
  };
}

const record = (v: unknown) => (v && typeof v === "object" ? v : {}) as Record<string, unknown>;

function sandboxState(slot: SlotEntry, containers: Container[]): Sandbox["state"] {
  if (slot.status === "claiming" || slot.status === "starting") return "starting";
  if (slot.status === "stopping") return "stopping";
  if (slot.status === "failed") return "failed";
  return containers.length && containers.every((c) => c.state === "running") ? "up" : "degraded";
}

/** One worktree as a row: the registry's facts plus what the plugins' `status` says. */
async function row(
  ctx: Context,
  entry: WorktreeEntry,
  slot: SlotEntry | undefined,
  usage: Map<string, SandboxUsage>,
): Promise<Row> {
  const base: Row = {
    project: entry.project,
    name: basename(entry.path),
    kind: entry.kind,
    path: entry.path,
    branch: entry.branch,
    stale: !existsSync(entry.path)
      ? `its worktree ${entry.path} is gone`
      : (slot && staleReason(slot)) ?? (entry.state ? `interrupted while ${entry.state}` : null),
    sandbox: null,
    session: null,
    problems: [],
    checked_out: false,
    idle_stopped: !slot && entry.idle_stopped
      ? {
        text: idleStoppedText(entry.idle_stopped),
        at: entry.idle_stopped.at,
        slot: entry.idle_stopped.slot,
      }
      : null,
  };
  let plugins: Record<string, Record<string, unknown>> = {};
  try {
    const project = await ctx.project(entry.project_root);
    const input = slot ? withSlot(hookInput(project, entry, {}), slot) : hookInput(project, entry, {});
    const { replies, failures } = await (await ctx.hooks(project)).observe("status", input);
    plugins = Object.fromEntries(replies.map((r) => [r.plugin, record(r.result.status)]));
    base.problems = failures.map((f) => `${f.plugin}: ${f.message}`);
  } catch (e) {
    base.problems = [messageOf(e)];
  }
  const view = await sandboxView(ctx, entry, slot);
  base.checked_out = view.checked_out;
  const { docker = {}, otel = {}, "agent-deck": deck } = plugins;
  base.session = agentSession(deck);
  if (!slot) return base;
  const containers = (Array.isArray(docker.containers) ? docker.containers : []).map((c) => ({
    service: String(record(c).service),
    state: String(record(c).state),
    status: String(record(c).status),
  }));
  const health = docker.health ? record(docker.health) : undefined;
  base.sandbox = {
    slot: slot.slot_id,
    status: slot.status,
    state: sandboxState(slot, containers),
    compose_project: composeProject(slot.project, slot.slot_id),
    started_at: slot.claimed_at,
    ports: shownPorts(slot),
    host: slot.remote?.host ?? null,
    containers,
    health: health ? { url: String(health.url), state: String(health.state) } : null,
    namespace: typeof otel.namespace === "string" ? otel.namespace : null,
    jaeger: typeof otel.jaeger === "string" ? otel.jaeger : null,
    grafana: typeof otel.grafana === "string" ? otel.grafana : null,
    url: view.url,
    urls: view.urls,
    usage: usageJson(usage.get(composeProject(slot.project, slot.slot_id))),
  };
  return base;
}

async function observability(ctx: Context): Promise<Board["observability"]> {
  const config = (await ctx.globalConfig()).observability;
  const [containers, urls] = await Promise.all([
    stackContainers(ctx).then((list) =>
      list.map(({ service, state, status }) => ({ service, state, status }))
    )
      .catch(() => undefined),
    endpoints(config),
  ]);
  const answering = (name: string) => urls.find((e) => e.name === name && e.answers)?.url ?? null;
  const running = containers?.filter((c) => c.state === "running").length ?? 0;
  return {
    state: !containers ? "unknown" : running === 0 ? "stopped" : running < 3 ? "partial" : "running",
    containers: containers ?? [],
    jaeger: answering("Jaeger UI"),
    grafana: answering("Grafana")?.replace(/api\/health$/, "") ?? null,
  };
}

/**
 * The whole board, now. Worktrees are looked at in parallel; a failing one is a row with a problem.
 * `usage`: what the sandboxes use, by compose project, measured by the caller (the engine's
 * statistics take a second or two: `follow` measures them on a timer of their own).
 */
export async function board(ctx: Context, usage: Map<string, SandboxUsage> = new Map()): Promise<Board> {
  const registry = await readRegistry(ctx.home);
  const slots = Object.values(registry.slots);
  const [rows, stack] = await Promise.all([
    Promise.all(
      Object.values(registry.worktrees).map((w) =>
        row(ctx, w, slots.find((s) => s.worktree_path === w.path), usage)
      ),
    ),
    observability(ctx),
  ]);
  const projects = new Map<string, Board["projects"][number]>();
  const order = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;
  for (const r of rows.sort((a, b) => order(a.project, b.project) || order(a.name, b.name))) {
    const root = registry.worktrees[r.path].project_root;
    const group = projects.get(root) ?? { name: r.project, root, worktrees: [], warm: [] };
    group.worktrees.push(r);
    projects.set(root, group);
  }
  for (const s of slots.filter((s) => s.warm).sort((a, b) => a.slot_id - b.slot_id)) {
    const group = projects.get(s.warm!.root) ??
      { name: s.project, root: s.warm!.root, worktrees: [], warm: [] };
    group.warm.push({
      slot: s.slot_id,
      status: s.status,
      base: s.warm!.base,
      services: s.warm!.services,
      usage: usageJson(usage.get(composeProject(s.project, s.slot_id))),
    });
    projects.set(s.warm!.root, group);
  }
  return { home: ctx.home.root, projects: [...projects.values()], observability: stack };
}
