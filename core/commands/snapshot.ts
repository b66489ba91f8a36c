/**
 * `kinfra snapshot save|list|rm`: copies of a sandbox's data. The core finds the worktree and its
 * slot; the plugins that keep data (the built-in `data` plugin) do the copying (COMMAND_EVENTS).
 */
import type { Context } from "../context.ts";
import { KinfraError, usageError } from "../errors.ts";
import type { Snapshot } from "../hooks/plugin_api.ts";
import type { CommandOutput } from "../io/output.ts";
import { formatBytes } from "../text/bytes.ts";
import { SNAPSHOT_NAME, SNAPSHOT_RULE } from "../project/config/schema.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { hookInput, withSlot } from "../hooks/inputs.ts";
import { runtimeInput } from "../sandbox/runtime.ts";
import { slotOf } from "../slots/slots.ts";

export function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME.test(name)) throw usageError(`"${name}" is not a snapshot name: ${SNAPSHOT_RULE}.`);
}

/** This home's snapshots, from every plugin that keeps data. */
export async function snapshots(ctx: Context): Promise<Snapshot[]> {
  const replies = await (await ctx.hooks()).command("snapshot.list", runtimeInput(null));
  return replies.flatMap((r) => r.result.snapshots ?? []);
}

export async function save(
  ctx: Context,
  options: { name: string; worktree?: string },
): Promise<CommandOutput> {
  checkSnapshotName(options.name);
  const entry = await findWorktree(ctx, options.worktree);
  const slot = await slotOf(ctx, entry.path);
  if (!slot) {
    throw usageError(
      `${entry.path} has no sandbox (no slot), so there is no data to save.`,
      "Start it with `kinfra up`; a stopped sandbox keeps its volumes only while it holds its slot.",
    );
  }
  const project = await ctx.project(entry.project_root);
  const input = withSlot(hookInput(project, entry, { snapshot: options.name }), slot);
  ctx.log.step(`Saving snapshot ${options.name} of ${entry.path}`);
  const replies = await (await ctx.hooks(project)).command("snapshot.save", input);
  const saved = replies.find((r) => r.result.snapshot)?.result.snapshot;
  if (!saved) {
    throw new KinfraError("No plugin saved any data.", { hint: "The built-in data plugin does this." });
  }
  const messages = replies.flatMap((r) => r.result.messages ?? []);
  return {
    data: { ...saved, messages },
    text: [`${ctx.style.green("✓")} Snapshot ${saved.name}`, ...messages.map((m) => `  ${m}`)].join("\n"),
  };
}

export async function list(ctx: Context): Promise<CommandOutput> {
  const all = await snapshots(ctx);
  const rows = all.map((
    s,
  ) => [s.name, s.volumes.join(","), formatBytes(s.bytes), s.created.slice(0, 19), s.source]);
  const header = ["NAME", "VOLUMES", "SIZE", "CREATED", "SOURCE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return {
    data: { snapshots: all },
    text: all.length
      ? [line(header), ...rows.map(line)].join("\n")
      : "No snapshots. Save one with `kinfra snapshot save <name> [worktree]`.",
  };
}

export async function remove(ctx: Context, options: { name: string }): Promise<CommandOutput> {
  checkSnapshotName(options.name);
  const replies = await (await ctx.hooks()).command(
    "snapshot.remove",
    runtimeInput(null, { snapshot: options.name }),
  );
  const removed = replies.flatMap((r) => r.result.removed ?? []);
  return {
    data: { name: options.name, removed },
    text: `${ctx.style.green("✓")} Removed snapshot ${options.name} (${removed.join(", ")})`,
  };
}
