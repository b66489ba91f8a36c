/**
 * `kinfra plugins list|info|new|trust|untrust`: what is installed where, what runs, and the
 * skeletons plugin authors start from.
 */
import { join } from "../io/path.ts";
import { PLUGIN_NAME } from "../project/config/schema.ts";
import type { Context } from "../context.ts";
import { blockedError, usageError } from "../errors.ts";
import { type CommandOutput, table } from "../io/output.ts";
import { exists } from "../io/home.ts";
import type { Plugin } from "../hooks/plugin_api.ts";
import type { Project } from "../project/project.ts";
import type { FoundPlugin } from "../hooks/discover.ts";
import { builtinNames } from "../hooks/host.ts";
import { pluginStandings } from "../hooks/load.ts";
import { setTrust } from "../hooks/trust.ts";
import shHook from "../../templates/plugin/sh/hook.tmpl" with { type: "text" };
import shManifest from "../../templates/plugin/sh/plugin.toml.tmpl" with { type: "text" };
import tsHook from "../../templates/plugin/ts/hook.ts.tmpl" with { type: "text" };
import tsHelper from "../../templates/plugin/ts/kinfra_plugin.ts.tmpl" with { type: "text" };
import tsManifest from "../../templates/plugin/ts/plugin.toml.tmpl" with { type: "text" };

export interface PluginRow {
  name: string;
  source: "builtin" | FoundPlugin["source"];
  dir: string | null;
  version: string | null;
  description: string;
  events: string[];
  order: number | null;
  enabled: boolean;
  /** "trusted", "untrusted", "changed", or "not required" outside project directories. */
  trust: string;
  shadowed_by: string | null;
  error: string | null;
}

async function rows(ctx: Context, builtins: Plugin[]): Promise<{ rows: PluginRow[]; project?: Project }> {
  const project = await ctx.project().catch(() => undefined);
  const result: PluginRow[] = builtins.map((p) => ({
    name: p.name,
    source: "builtin",
    dir: null,
    version: p.version ?? null,
    description: p.description ?? "",
    events: Object.keys(p.hooks),
    order: p.order ?? 50,
    enabled: true,
    trust: "not required",
    shadowed_by: null,
    error: null,
  }));
  for (const { plugin: p, enabled, trust } of await pluginStandings(ctx, project)) {
    if (!p) continue;
    result.push({
      name: p.name,
      source: p.source,
      dir: p.dir,
      version: p.manifest?.version ?? null,
      description: p.manifest?.description ?? "",
      events: p.manifest?.events ?? [],
      order: p.manifest?.order ?? null,
      enabled,
      trust,
      shadowed_by: p.shadowedBy ?? null,
      error: p.error ?? null,
    });
  }
  return { rows: result, project };
}

export async function list(ctx: Context, builtins: Plugin[]): Promise<CommandOutput> {
  const { rows: all } = await rows(ctx, builtins);
  return {
    data: { plugins: all },
    text: table(
      ["NAME", "SOURCE", "VERSION", "ENABLED", "TRUST", "EVENTS", "NOTE"],
      all.map((r) => [
        r.name,
        r.source,
        r.version ?? "-",
        r.enabled ? "yes" : "no",
        r.trust,
        r.events.join(","),
        r.error ? `invalid: ${r.error}` : r.shadowed_by ? `shadowed by ${r.shadowed_by}` : "",
      ]),
    ),
  };
}

async function one(ctx: Context, builtins: Plugin[], name: string): Promise<PluginRow> {
  const { rows: all } = await rows(ctx, builtins);
  const row = all.find((r) => r.name === name && !r.shadowed_by);
  if (!row) {
    throw usageError(
      `No plugin named "${name}".`,
      `Installed: ${[...new Set(all.map((r) => r.name))].join(", ")}.`,
    );
  }
  return row;
}

export async function info(ctx: Context, builtins: Plugin[], name: string): Promise<CommandOutput> {
  const row = await one(ctx, builtins, name);
  const text = Object.entries(row).map(([k, v]) =>
    `${k.padEnd(12)} ${Array.isArray(v) ? v.join(", ") : v ?? "-"}`
  );
  return { data: row, text: text.join("\n") };
}

export async function trust(
  ctx: Context,
  builtins: Plugin[],
  name: string,
  trusted: boolean,
): Promise<CommandOutput> {
  const row = await one(ctx, builtins, name);
  if (row.source === "builtin" || !row.dir) {
    throw usageError(`"${name}" is built in; there is nothing to trust.`);
  }
  if (row.error) {
    throw usageError(
      `Plugin "${name}" is invalid: ${row.error}.`,
      `Fix ${join(row.dir, "plugin.toml")} first.`,
    );
  }
  const sha256 = await setTrust(ctx.home, row.dir, name, trusted, ctx.now());
  const note = row.source === "project"
    ? ""
    : ` (not required for ${row.source} plugins, which always run when enabled)`;
  return {
    data: { name, dir: row.dir, trusted, sha256 },
    text: trusted
      ? `${ctx.style.green("✓")} Trusted ${name} as it is now (sha256 ${
        sha256.slice(0, 12)
      }…)${note}. Any change to its files makes it untrusted again.`
      : `Untrusted ${name}; it will not run until trusted again.`,
  };
}

export interface NewOptions {
  lang?: "sh" | "ts";
  user?: boolean;
}

/** Writes a working skeleton into the project's (or with --user, the home's) plugin directory. */
export async function create(ctx: Context, name: string, options: NewOptions): Promise<CommandOutput> {
  const lang = options.lang ?? "sh";
  if (!PLUGIN_NAME.test(name)) {
    throw usageError(`Invalid plugin name "${name}".`, `Use ${PLUGIN_NAME.source}, e.g. seed-db.`);
  }
  if ((await builtinNames(ctx)).includes(name)) {
    throw usageError(`"${name}" is reserved for a built-in plugin.`);
  }
  const project = options.user ? undefined : await ctx.project().catch(() => undefined);
  const dir = project ? join(project.root, ".devops-ai", "plugins", name) : join(ctx.home.plugins, name);
  if (await exists(dir)) {
    throw blockedError(`${dir} already exists; nothing was written.`, "Pick another name or remove it.");
  }
  const fill = (t: string) =>
    t.replaceAll("{{name}}", name).replaceAll("{{NAME}}", name.toUpperCase().replaceAll("-", "_"));
  const files: Record<string, [string, number]> = lang === "sh"
    ? { "plugin.toml": [shManifest, 0o644], "bin/hook": [shHook, 0o755] }
    : {
      "plugin.toml": [tsManifest, 0o644],
      "hook.ts": [tsHook, 0o644],
      "kinfra_plugin.ts": [tsHelper, 0o644],
    };
  for (const [file, [template, mode]] of Object.entries(files)) {
    await Deno.mkdir(join(dir, file, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, file), fill(template), { mode });
    await Deno.chmod(join(dir, file), mode);
  }
  const steps = [
    `enable it: add "${name}" to [plugins] enable in ${
      project ? ".devops-ai/infra.toml" : "the global config.toml"
    }`,
    ...(project ? [`trust it after every change: kinfra plugins trust ${name}`] : []),
    `check it: kinfra plugins info ${name}`,
  ];
  return {
    data: { name, dir, lang, files: Object.keys(files), next: steps },
    text: [
      `${ctx.style.green("✓")} Wrote a ${lang} plugin skeleton in ${dir}`,
      ...steps.map((s) => `  next: ${s}`),
    ].join("\n"),
  };
}
