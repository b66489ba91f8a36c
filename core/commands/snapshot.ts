/**
 * `kinfra snapshot save|list|rm`: copies of a sandbox's data. The core finds the worktree and its
 * slot; the plugins that keep data (the built-in `data` plugin) do the copying (COMMAND_EVENTS).
 */
import type { Context } from "../context.ts";
import { KinfraError, messageOf, usageError } from "../errors.ts";
import type { Snapshot } from "../hooks/plugin_api.ts";
import type { CommandOutput } from "../io/output.ts";
import { formatBytes } from "../text/bytes.ts";
import { SNAPSHOT_NAME, SNAPSHOT_RULE } from "../project/config/schema.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { hookInput, withSlot } from "../hooks/inputs.ts";
import { runtimeInput } from "../sandbox/runtime.ts";
import { slotOf } from "../slots/registry.ts";

export function checkSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME.test(name)) throw usageError(`"${name}" is not a snapshot name: ${SNAPSHOT_RULE}.`);
}

/** Each engine snapshots may be on: this machine's, then every remote host's (`kinfra hosts`). */
async function engines(ctx: Context): Promise<{ name: string; dockerHost?: string }[]> {
  const { hosts } = await (await import("../remote/hosts.ts")).readHosts(ctx.home);
  return [
    { name: "local" },
    ...Object.values(hosts).map((h) => ({ name: h.name, dockerHost: h.docker_host })),
  ];
}

/**
 * This home's snapshots, from every plugin that keeps data, on every engine — each with the host it
 * is on (a snapshot lives beside the volumes it was saved from). A host that does not answer is said.
 */
export async function snapshots(ctx: Context): Promise<(Snapshot & { host: string })[]> {
  const hooks = await ctx.hooks();
  const lists = await Promise.all((await engines(ctx)).map(async (e) => {
    try {
      const replies = await hooks.onEngine(e.dockerHost, e.name).command("snapshot.list", runtimeInput(null));
      return replies.flatMap((r) => (r.result.snapshots ?? []).map((s) => ({ ...s, host: e.name })));
    } catch (err) {
      if (!e.dockerHost) throw err;
      ctx.log.warn(`Snapshots on host ${e.name} are not listed: ${messageOf(err)}`);
      return [];
    }
  }));
  return lists.flat();
}

/**
 * The snapshot a new sandbox starts from exists, on the engine the sandbox goes to (`--host`, else
 * `[sandbox] host`): volumes are copied within one engine. Returns the engines holding it, among
 * which `auto` then chooses.
 */
export async function requireSnapshot(
  ctx: Context,
  name: string,
  hostFlag?: string,
  fromConfig = false,
): Promise<string[]> {
  checkSnapshotName(name);
  const found = (await snapshots(ctx)).filter((s) => s.name === name);
  if (!found.length) {
    throw usageError(
      `No snapshot "${name}"${fromConfig ? " (infra.toml's [sandbox.data] seed)" : ""}; nothing was created.`,
      "See `kinfra snapshot list`; save one with `kinfra snapshot save <name> <worktree>`.",
    );
  }
  const target = hostFlag ?? (await ctx.globalConfig()).sandbox.host ?? "local";
  if (target !== "auto" && !found.some((s) => s.host === target)) {
    const where = found.map((s) => s.host).join(", ");
    throw usageError(
      `Snapshot "${name}" is on ${where}, and this sandbox goes to ${target}: a sandbox starts from a snapshot on its own engine; nothing was created.`,
      `Pass --host ${found[0].host}, or save a snapshot on ${target}.`,
    );
  }
  return [...new Set(found.map((s) => s.host))];
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
  // The HOST column only once some snapshot lives on a remote host.
  const hosts = all.some((s) => s.host !== "local");
  const rows = all.map((s) => [
    s.name,
    ...(hosts ? [s.host] : []),
    s.volumes.join(","),
    formatBytes(s.bytes),
    s.created.slice(0, 19),
    s.source,
  ]);
  const header = ["NAME", ...(hosts ? ["HOST"] : []), "VOLUMES", "SIZE", "CREATED", "SOURCE"];
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
  const hooks = await ctx.hooks();
  // Wherever it is: on this machine's engine or a host's.
  const where = [
    ...new Set((await snapshots(ctx)).filter((s) => s.name === options.name).map((s) => s.host)),
  ];
  const dockerHosts = new Map((await engines(ctx)).map((e) => [e.name, e.dockerHost]));
  const removed: string[] = [];
  for (const host of where.length ? where : ["local"]) {
    const replies = await hooks.onEngine(dockerHosts.get(host), host).command(
      "snapshot.remove",
      runtimeInput(null, { snapshot: options.name }),
    );
    removed.push(...replies.flatMap((r) => r.result.removed ?? []));
  }
  return {
    data: { name: options.name, removed },
    text: `${ctx.style.green("✓")} Removed snapshot ${options.name} (${removed.join(", ")})`,
  };
}
