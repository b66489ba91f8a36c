/**
 * Which plugins run for a project: the built-ins, plus each third-party plugin that is enabled
 * (`[plugins] enable` in infra.toml or the global config), valid, not shadowed, and — when it
 * comes from the project's own directory — trusted as it is now. Every plugin skipped is said.
 */
import type { Plugin } from "./plugin_api.ts";
import type { Project } from "../project/project.ts";
import type { FoundPlugin } from "./discover.ts";
import { builtinNames, type PluginHost } from "./host.ts";
import type { TrustState } from "./trust.ts";

/** The names enabled for a project, from infra.toml and the global config. */
export async function enabledNames(ctx: PluginHost, project?: Project): Promise<Set<string>> {
  return new Set([...project?.config?.plugins.enable ?? [], ...(await ctx.globalConfig()).plugins.enable]);
}

/** Where a third-party plugin stands: found or not, valid or not, trusted or not, enabled or not. */
export interface PluginStanding {
  name: string;
  plugin?: FoundPlugin;
  /** Named in `[plugins] enable`, installed, valid and not shadowed. */
  enabled: boolean;
  /** Enabled and, where required, trusted as it is now: it runs. */
  runs: boolean;
  /** "trusted", "untrusted", "changed", or "not required" outside project directories. */
  trust: TrustState | "not required";
  /** Why an enabled plugin does not run; undefined when it runs (or is not enabled). */
  problem?: string;
}

/**
 * The one rule for third-party plugins: every plugin found, and every name enabled but not found,
 * with whether it runs and why not. `plugins list`, `doctor` and the dispatcher all read this.
 */
export async function pluginStandings(ctx: PluginHost, project?: Project): Promise<PluginStanding[]> {
  const names = await enabledNames(ctx, project);
  const [{ discoverPlugins, pluginDirs }, { trustState }] = await Promise.all([
    import("./discover.ts"),
    import("./trust.ts"),
  ]);
  const found = await discoverPlugins(ctx, project);
  const reserved = await builtinNames(ctx);
  const standings: PluginStanding[] = [];
  for (const plugin of found) {
    const trust = plugin.source === "project" ? await trustState(ctx.home, plugin.dir) : "not required";
    const on = names.has(plugin.name) && !plugin.shadowedBy;
    const problem = !on
      ? undefined
      : plugin.error || !plugin.manifest
      ? `is invalid and was skipped: ${plugin.error}`
      : trust === "changed" || trust === "untrusted"
      ? `${
        trust === "changed" ? "changed since it was trusted" : "is not trusted"
      }; skipped. Review ${plugin.dir}, ` +
        `then run \`kinfra plugins trust ${plugin.name}\``
      : undefined;
    const enabled = on && !plugin.error && Boolean(plugin.manifest);
    standings.push({ name: plugin.name, plugin, enabled, runs: enabled && !problem, trust, problem });
  }
  for (const name of names) {
    if (reserved.includes(name) || found.some((p) => p.name === name)) continue;
    const dirs = pluginDirs(ctx, project).map((d) => d.dir).join(", ");
    standings.push({
      name,
      enabled: false,
      runs: false,
      trust: "not required",
      problem: `is enabled but not installed (looked in ${dirs}); skipped`,
    });
  }
  return standings;
}

export async function activePlugins(
  ctx: PluginHost,
  project: Project | undefined,
  builtins: Plugin[],
): Promise<Plugin[]> {
  const enabled = [...await enabledNames(ctx, project)].filter((n) => !builtins.some((p) => p.name === n));
  if (enabled.length === 0) return builtins; // no discovery at all on the common path
  const active = [...builtins];
  const { externalPlugin } = await import("./external.ts");
  for (const standing of await pluginStandings(ctx, project)) {
    if (standing.problem) ctx.log.warn(`Plugin "${standing.name}" ${standing.problem}.`);
    const { plugin } = standing;
    if (standing.runs && plugin?.manifest) {
      active.push(externalPlugin({ name: plugin.name, dir: plugin.dir, manifest: plugin.manifest }));
    }
  }
  return active;
}
