/**
 * A project's compose file as one slot runs it: Compose's resolved model with the slot's variables,
 * checked against infra.toml. A host port that does not move with the slot — fixed in an anchor, an
 * extended file, or a variable kinfra does not set — is refused, naming the service, the port and
 * where it is written, because every sandbox would publish it.
 */
import { basename, dirname, join } from "../io/path.ts";
import { type ComposeSources, hostVariables, servesHttp } from "./sources.ts";
import { scanCompose } from "./scan.ts";
import { type ComposeModel, describeFixed, fixedPorts, resolveCompose } from "./model.ts";
import type { ComposeTool } from "./tool.ts";
import type { Exec } from "../io/exec.ts";
import type { HomePaths } from "../io/home.ts";
import type { Logger } from "../io/output.ts";
import { cachedModel } from "./model_cache.ts";
import { usageError } from "../errors.ts";
import { expandPorts, type Protocol } from "../slots/ports.ts";
import type { Project } from "../project/project.ts";

/** What resolving a slot's compose model needs of the running command. */
export interface ComposeEnv {
  env: { get(key: string): string | undefined };
  exec: Exec;
  home: HomePaths;
  log: Logger;
  compose(): Promise<ComposeTool>;
}

export interface SlotCompose {
  model: ComposeModel;
  sources: ComposeSources;
}

export interface SlotComposeRequest {
  /** The checkout the compose file is read from: a worktree, or the project root. */
  dir: string;
  /** The compose file, relative to `dir` (default: infra.toml's). */
  file?: string;
  /** The slot's compose project (`<project>-slot-<n>`). */
  project?: string;
  /** The slot's port variables (and widths of its ranges). */
  vars: Record<string, number>;
  widths?: Record<string, number>;
  /** The compose file's text when it differs from what is on disk (the base commit's). */
  text?: string;
  label?: string;
  /** The scan of the compose files, when the caller has it already. */
  sources?: ComposeSources;
}

/**
 * Resolves the compose file with a slot's variables and lists, described, every host port that
 * does not move with them.
 */
export async function resolveSlot(
  ctx: ComposeEnv,
  request: SlotComposeRequest & { file: string },
): Promise<SlotCompose & { fixed: string[] }> {
  const env = Object.fromEntries(Object.entries(request.vars).map(([k, v]) => [k, String(v)]));
  // The scan first: it refuses a document whose aliases explode before Compose ever reads it.
  const sources = request.sources ??
    await scanCompose(request.dir, request.file, request.text, join(ctx.home.root, "cache"));
  const tool = await ctx.compose();
  const model = await cachedModel(
    join(ctx.home.root, "cache"),
    tool,
    { root: request.dir, file: request.file, sources, env, project: request.project, environment: ctx.env },
    () =>
      resolveCompose(ctx.exec, tool, {
        dir: join(request.dir, dirname(request.file)),
        file: basename(request.file),
        text: request.text,
        env,
        label: request.label,
        project: request.project,
      }),
  );
  const own = new Set(expandPorts(request.vars, request.widths).map((p) => p.port));
  return { sources, model, fixed: describeFixed(fixedPorts(model, own), sources) };
}

/**
 * Resolves and checks the compose file with a slot's variables: infra.toml's services exist, and
 * no host port is the same in every slot.
 *
 * @example
 * const { model } = await slotCompose(ctx, project, { dir: worktree, vars: { SHOP_WEB_PORT: 8081 } });
 */
export async function slotCompose(
  ctx: ComposeEnv,
  project: Project,
  request: SlotComposeRequest,
): Promise<SlotCompose> {
  const sandbox = project.config!.sandbox!;
  const file = request.file ?? sandbox.compose_file;
  const label = request.label ?? file;
  const { model, sources, fixed } = await resolveSlot(ctx, { ...request, file, label });
  checkServices(project, model, file);
  if (fixed.length) {
    throw usageError(
      `${label} publishes ${fixed.length > 1 ? "host ports" : "a host port"} every sandbox would share:`,
      'Run `kinfra init --force` to parameterize them, or write each as "${VAR:-<port>}:<target>" ' +
        "and list VAR in [sandbox.ports]; then commit the compose file.",
      fixed,
    );
  }
  const published = new Set(model.ports.map((p) => p.published));
  for (const name of Object.keys(sandbox.ports)) {
    if (!published.has(request.vars[name])) {
      ctx.log.warn(`[sandbox.ports] ${name} is not used by any port ${label} publishes.`);
    }
  }
  for (const service of model.hostNetwork) {
    ctx.log.warn(
      `Service "${service}" uses network_mode: host; its ports are the host's, the same in every slot.`,
    );
  }
  return { model, sources };
}

/** The services infra.toml names must exist in the resolved model. */
function checkServices(project: Project, model: ComposeModel, file: string): void {
  const sandbox = project.config!.sandbox!;
  const named = [
    ["sandbox.mounts.code_targets", sandbox.mounts.code_targets],
    ["sandbox.mounts.shared_targets", sandbox.mounts.shared_targets],
    ["sandbox.otel.services", sandbox.otel.services ?? []],
  ] as const;
  for (const [key, services] of named) {
    const unknown = services.filter((s) => !model.services.includes(s));
    if (unknown.length) {
      throw usageError(
        `${key} names ${unknown.map((s) => `"${s}"`).join(", ")}, which ${
          unknown.length > 1 ? "are not services" : "is not a service"
        } of ${file}.`,
        `Services in the compose file: ${model.services.join(", ")}.`,
      );
    }
  }
}

/** The protocols each port variable is published with, from how the entries are written. */
export function portProtocols(sources: ComposeSources): Record<string, Protocol[]> {
  const protocols: Record<string, Protocol[]> = {};
  for (const source of sources.ports) {
    for (const variable of hostVariables(source)) {
      const list = protocols[variable.replace(/_END$/, "")] ??= [];
      const protocol = source.protocol === "udp" ? "udp" : "tcp";
      if (!list.includes(protocol)) list.push(protocol);
    }
  }
  return protocols;
}

/**
 * The port variables worth an `http://` link: the health check's, and those published from a
 * container port that conventionally serves HTTP. A database or a UDP port gets none.
 */
export function httpVariables(sources: ComposeSources, healthVar?: string): string[] {
  const vars = new Set(healthVar ? [healthVar] : []);
  for (const source of sources.ports) {
    if (servesHttp(source)) {
      for (const v of hostVariables(source)) if (!v.endsWith("_END")) vars.add(v);
    }
  }
  return [...vars].sort();
}
