/**
 * Finding third-party plugins (docs/plugins.md, "Where plugins live"): `KINFRA_PLUGIN_PATH` directories, then the project's
 * `.devops-ai/plugins/`, then the home's `plugins/`. The first plugin of a name wins; later copies
 * are reported as shadowed. Invalid plugins are listed with their reason and never throw.
 */
import { join } from "../io/path.ts";
import { builtinNames, type PluginHost } from "./host.ts";
import { exists } from "../io/home.ts";
import type { Project } from "../project/project.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { compareText } from "../text/compare.ts";

export type PluginSource = "path" | "project" | "user";

export interface FoundPlugin {
  name: string;
  dir: string;
  source: PluginSource;
  manifest?: Manifest;
  /** Why the plugin cannot be used. */
  error?: string;
  /** Set on a later copy hidden by an earlier plugin of the same name. */
  shadowedBy?: string;
}

export type { PluginHost } from "./host.ts";

export function pluginDirs(ctx: PluginHost, project?: Project): { dir: string; source: PluginSource }[] {
  const fromEnv = (ctx.env.get("KINFRA_PLUGIN_PATH") ?? "").split(":").filter(Boolean);
  return [
    ...fromEnv.map((dir) => ({ dir, source: "path" as const })),
    ...(project ? [{ dir: join(project.root, ".devops-ai", "plugins"), source: "project" as const }] : []),
    { dir: ctx.home.plugins, source: "user" as const },
  ];
}

/** Every plugin found, in discovery order, shadowed copies included. */
export async function discoverPlugins(ctx: PluginHost, project?: Project): Promise<FoundPlugin[]> {
  const found: FoundPlugin[] = [];
  const winners = new Map<string, FoundPlugin>();
  const reserved = await builtinNames(ctx);
  for (const { dir, source } of pluginDirs(ctx, project)) {
    if (!await exists(dir)) continue;
    const entries = (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.isDirectory || e.isSymlink);
    for (const entry of entries.sort((a, b) => compareText(a.name, b.name))) {
      const pluginDir = join(dir, entry.name);
      const manifestPath = join(pluginDir, "plugin.toml");
      if (!await exists(manifestPath)) continue;
      const plugin: FoundPlugin = { name: entry.name, dir: pluginDir, source };
      const manifest = parseManifest(await Deno.readTextFile(manifestPath), entry.name);
      if (typeof manifest === "string") plugin.error = manifest;
      else plugin.manifest = manifest;
      if (reserved.includes(entry.name)) {
        plugin.error = `"${entry.name}" is reserved for a built-in plugin`;
      }
      const winner = winners.get(entry.name);
      if (winner) plugin.shadowedBy = winner.dir;
      else winners.set(entry.name, plugin);
      found.push(plugin);
    }
  }
  return found;
}
