/**
 * Which plugins run for a project: the built-ins, plus each third-party plugin that is enabled
 * (`[plugins] enable` in infra.toml or the global config), valid, not shadowed, and — when it
 * comes from the project's own directory — trusted as it is now. Every plugin skipped is said.
 */
import type { Plugin } from "./plugin_api.ts";
import type { Project } from "../project/project.ts";
import { BUILTIN_NAMES, discoverPlugins, pluginDirs, type PluginHost } from "./discover.ts";
import { externalPlugin } from "./external.ts";
import { trustState } from "./trust.ts";

/** The names enabled for a project, from infra.toml and the global config. */
export async function enabledNames(ctx: PluginHost, project?: Project): Promise<Set<string>> {
  return new Set([...project?.config?.plugins.enable ?? [], ...(await ctx.globalConfig()).plugins.enable]);
}

export async function activePlugins(
  ctx: PluginHost,
  project: Project,
  builtins: Plugin[],
): Promise<Plugin[]> {
  const enabled = [...await enabledNames(ctx, project)].filter((n) => !BUILTIN_NAMES.includes(n));
  if (enabled.length === 0) return builtins; // no discovery at all on the common path
  const found = await discoverPlugins(ctx, project);
  const active = [...builtins];
  for (const name of enabled) {
    const plugin = found.find((p) => p.name === name && !p.shadowedBy);
    if (!plugin) {
      ctx.log.warn(
        `Plugin "${name}" is enabled but not installed (looked in ${
          pluginDirs(ctx, project).map((d) => d.dir).join(", ")
        }); skipped.`,
      );
    } else if (plugin.error || !plugin.manifest) {
      ctx.log.warn(`Plugin "${name}" is invalid and was skipped: ${plugin.error}.`);
    } else {
      const trust = plugin.source === "project" ? await trustState(ctx.home, plugin.dir) : "trusted";
      if (trust === "trusted") {
        active.push(externalPlugin({ name, dir: plugin.dir, manifest: plugin.manifest }));
      } else {
        ctx.log.warn(
          `Plugin "${name}" ${
            trust === "changed" ? "changed since it was trusted" : "is not trusted"
          }; skipped. ` +
            `Review ${plugin.dir}, then run \`kinfra plugins trust ${name}\`.`,
        );
      }
    }
  }
  return active;
}
