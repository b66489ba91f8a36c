/** `kinfra worktrees`: every kinfra worktree of every project, from the registry. */
import { basename } from "../io/path.ts";
import type { Context } from "../context.ts";
import { type CommandOutput, table } from "../io/output.ts";
import { existingSync } from "../io/home.ts";
import { readRegistry } from "../slots/registry.ts";
import { cleanStale } from "../sandbox/repair.ts";
import { worktreeName } from "../project/names.ts";
import { type AgentSession, agentSessions, sessionLabel } from "./agent_session.ts";
import { type AgentWorktree, agentWorktree } from "../project/agent_worktrees.ts";
import { isCheckedOut } from "../proxy/checkouts.ts";
import { sandboxUrls } from "../proxy/names.ts";
import { composeProject } from "../slots/slot_files.ts";
import { compareText } from "../text/compare.ts";
import { formatBytes } from "../text/bytes.ts";
import { formatDuration } from "../text/duration.ts";

export interface WorktreeRow {
  kind: "spec" | "impl";
  project: string;
  name: string;
  path: string;
  branch: string;
  slot: number | null;
  ports: Record<string, number>;
  status: string;
  /** The worktree's agent-deck session and its state (`waiting`: the agent needs the user), or null. */
  session: AgentSession | null;
  /** The coding-agent host it was made for (`agent-hook`), or null. */
  agent: AgentWorktree | null;
  /** The project's checked-out worktree (`kinfra checkout`): its canonical ports lead here. */
  checked_out: boolean;
  /** The sandbox's stable name (`kinfra proxy`'s router), or null without a live sandbox. */
  url: string | null;
  /** What its sandbox uses now (memory in bytes, cpu in percent of one CPU), or null. */
  usage: { memory: number; cpu: number | null; containers: number } | null;
  /** The `kinfra hosts` name of the remote engine its sandbox runs on, or null (local or no sandbox). */
  host: string | null;
}

export async function worktrees(ctx: Context, options: { names?: boolean } = {}): Promise<CommandOutput> {
  if (options.names) {
    // For shell completions: the registry alone, no repair, no disk checks.
    const names = Object.values((await readRegistry(ctx.home)).worktrees).map((w) => worktreeName(w)).sort();
    return { data: { names }, text: names.join("\n") };
  }
  await cleanStale(ctx);
  const registry = await readRegistry(ctx.home);
  const routerPort = (await ctx.globalConfig()).proxy.port;
  const rows: WorktreeRow[] = [];
  // Measured only when some sandbox runs: the listing stays instant otherwise.
  const [sessions, usage] = await Promise.all([
    agentSessions(ctx, Object.values(registry.worktrees)),
    Object.keys(registry.slots).length
      ? import("../sandbox/usage.ts").then(async (m) => ({
        m,
        report: await m.measureUsage(ctx, { cpu: true }),
      }))
      : undefined,
  ]);
  const present = existingSync(Object.keys(registry.worktrees));
  for (const entry of Object.values(registry.worktrees)) {
    const slot = entry.slot === undefined ? undefined : registry.slots[String(entry.slot)];
    rows.push({
      kind: entry.kind,
      project: entry.project,
      name: basename(entry.path),
      path: entry.path,
      branch: entry.branch,
      slot: slot?.slot_id ?? null,
      ports: slot?.ports ?? {},
      status: !present.has(entry.path)
        ? "missing"
        : slot
        ? slot.status
        : entry.idle_stopped
        ? `stopped after ${formatDuration(entry.idle_stopped.idle_ms)} idle`
        : entry.kind === "impl"
        ? "no sandbox"
        : "ready",
      session: sessions.get(entry.path) ?? null,
      agent: agentWorktree(entry) ?? null,
      checked_out: isCheckedOut(registry, entry.path),
      url: slot && entry.kind === "impl" ? sandboxUrls(slot, entry, routerPort).url : null,
      usage:
        usage?.m.usageJson(slot && usage.report.sandboxes.get(composeProject(slot.project, slot.slot_id))) ??
          null,
      host: slot?.remote?.host ?? null,
    });
  }
  rows.sort((a, b) => compareText(a.project, b.project) || compareText(a.name, b.name));
  return {
    data: { worktrees: rows },
    // Built only when shown: with --json, 500 rows' table is milliseconds for nothing.
    get text() {
      return listing(rows, ctx);
    },
  };
}

function listing(rows: WorktreeRow[], ctx: Context): string {
  // The AGENT column only when some worktree has a session, so plain listings stay as they were.
  const agent = rows.some((r) => r.session);
  // The HOST column likewise, only when some sandbox runs on a remote engine.
  const host = rows.some((r) => r.host);
  return rows.length
    ? table(
      [
        "KIND",
        "PROJECT",
        "NAME",
        "BRANCH",
        "SLOT",
        ...host ? ["HOST"] : [],
        "MEM",
        "CPU",
        "STATUS",
        ...agent ? ["AGENT"] : [],
        "PATH",
      ],
      rows.map((r) => [
        r.kind,
        r.project,
        r.name + (r.checked_out ? " *" : ""),
        r.branch,
        r.slot?.toString() ?? "-",
        ...host ? [r.host ?? "local"] : [],
        r.usage ? formatBytes(r.usage.memory) : "-",
        r.usage?.cpu != null ? `${r.usage.cpu}%` : "-",
        statusText(r),
        ...agent ? [sessionLabel(r.session, ctx.style)] : [],
        r.path,
      ]),
    ) + (rows.some((r) => r.checked_out)
      ? "\n* checked out: the project's canonical ports lead to its sandbox"
      : "")
    : "No kinfra worktrees. Start one with `kinfra spec <feature>` or `kinfra impl <feature>/<milestone>`.";
}

/** The status column, with the agent host a worktree was made for (and whether its run ended). */
const statusText = (r: WorktreeRow) =>
  r.agent
    ? `${r.status} (${r.agent.host}${r.agent.host_running ? "" : ", session ended"}${
      r.agent.remove_refused ? ", remove refused" : ""
    })`
    : r.status;
