/**
 * `kinfra init`: writes `.devops-ai/infra.toml` and parameterizes the compose file's published ports
 * in place. Interactive on a terminal; scriptable with flags and `--yes`. Shows every change before
 * writing it and never replaces an existing infra.toml without confirmation or `--force`.
 */
import { basename, dirname, join } from "../../io/path.ts";
import { warnCloseBases } from "../../slots/slots.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { dockerEngineVersion } from "../../compose/tool.ts";
import { findComposeFile, hostVariables, type PortSource } from "../../compose/sources.ts";
import { scanCompose } from "../../compose/scan.ts";
import { resolveCompose, sourceOf } from "../../compose/model.ts";
import { resolveSlot } from "../../compose/slot_compose.ts";
import type { SandboxConfig } from "../../project/config/schema.ts";
import { rangeWidths, slotPorts } from "../../slots/ports.ts";
import { parseInfraConfig } from "../../project/config/load.ts";
import { parseMount } from "../../project/config/mounts.ts";
import { PROJECT_NAME } from "../../project/config/schema.ts";
import type { Context } from "../../context.ts";
import { blockedError, environmentError, Exit, KinfraError, usageError } from "../../errors.ts";
import { analyzePorts, type InitAnswers, planInit } from "./plan.ts";
import type { CommandOutput } from "../../io/output.ts";
import { exists } from "../../io/home.ts";
import { CONFIG_DIR, CONFIG_FILE } from "../../project/project.ts";

export interface InitOptions {
  yes?: boolean;
  force?: boolean;
  name?: string;
  prefix?: string;
  composeFile?: string;
  /** false with `--no-sandbox`. */
  sandbox?: boolean;
  healthEndpoint?: string;
  healthPortVar?: string;
  codeTarget?: string[];
  mount?: string[];
  /** `--port VAR=BASE`: the base of a port variable init makes (or adopts). */
  port?: string[];
}

export async function init(ctx: Context, options: InitOptions): Promise<CommandOutput> {
  // Every other command needs the repository: a config written outside one (or into a bare one's
  // git directory) would be one nothing reads.
  const root = (await ctx.git.locate(ctx.cwd).catch((e) => {
    if (e instanceof KinfraError && e.code === Exit.usage) return undefined; // not a repository
    throw e; // git itself missing (exit 4)
  }))?.top;
  if (!root) {
    throw usageError(
      `${ctx.cwd} is not inside a git repository with a working tree; nothing was written.`,
      "Run `kinfra init` in your project's checkout (`git init` and a first commit make one).",
    );
  }
  const configPath = join(root, CONFIG_DIR, CONFIG_FILE);
  const interactive = ctx.interactive && !options.yes;
  if (!interactive && !options.yes && options.name === undefined) {
    throw usageError(
      "kinfra init needs answers, and there is no terminal to ask them on.",
      "Pass --yes to accept every default, or give them as flags: --name, --prefix, --compose-file, " +
        "--health-endpoint, --health-port-var, --mount, --code-target (or --no-sandbox).",
    );
  }

  const existing = await exists(configPath) ? await Deno.readTextFile(configPath) : undefined;
  if (existing !== undefined && !options.force) {
    if (!interactive) {
      throw blockedError(
        `${configPath} already exists; nothing was changed.`,
        "Pass --force to replace it.",
        existing.trimEnd().split("\n"),
      );
    }
    const prompts = await import("./prompts.ts");
    if (!await prompts.confirmUpdate(existing)) return unchanged(configPath);
  }

  const composeFile = options.sandbox === false
    ? undefined
    : options.composeFile ?? await findComposeFile(root);
  if (options.composeFile && !await exists(join(root, options.composeFile))) {
    throw usageError(`--compose-file: "${options.composeFile}" does not exist in ${root}.`);
  }
  const compose = composeFile ? await readProject(ctx, root, composeFile) : undefined;
  const [refused, ...alsoRefused] = compose?.analysis.refused ?? [];
  if (refused) {
    // infra.toml's own rules would refuse the config these give: refuse now, with the entry.
    throw usageError(
      refused,
      "Nothing was written; change the compose file and run kinfra init again.",
      alsoRefused,
    );
  }
  const services = compose?.model.services ?? [];

  const defaults = defaultAnswers(root, options, composeFile);
  const answers = interactive
    ? await (await import("./prompts.ts")).ask(defaults, compose?.analysis)
    : defaults;
  checkAnswers(answers, services);
  if (answers.mounts.length && !answers.codeTargets?.length) {
    ctx.log.warn(
      `No service receives the code mount${answers.mounts.length > 1 ? "s" : ""} (${
        answers.mounts.join(" ")
      }): ` +
        `add --code-target <service>${
          compose?.analysis.built.length ? ` (built here: ${compose.analysis.built.join(", ")})` : ""
        }.`,
    );
  }
  const plan = planInit(answers, compose);
  const unknown = Object.keys(answers.bases ?? {}).filter((v) => !(v in plan.ports));
  if (unknown.length) {
    throw usageError(
      `--port ${unknown.join(", ")}: init makes no such port variable.`,
      `Its variables: ${Object.keys(plan.ports).join(", ") || "none (no published ports)"}.`,
    );
  }
  // Validate what would be written with the real loader before anything touches the disk.
  const global = await ctx.globalConfig();
  const config = parseInfraConfig(plan.infraToml, configPath, global.slots.max);

  for (const w of [...plan.warnings, ...plan.problems]) ctx.log.warn(w);
  for (const note of plan.notes) ctx.log.info(note);
  warnCloseBases(ctx, plan.ports, global.slots.max);
  for (const file of plan.files) {
    ctx.log.info(`Changes to ${file.path}:\n${file.diff.map((l) => "  " + l).join("\n")}`);
  }
  ctx.log.info(
    `${existing ? "New" : ""} ${CONFIG_DIR}/${CONFIG_FILE}:\n${plan.infraToml.replace(/^/gm, "  ")}`.trim(),
  );
  if (interactive && !await (await import("./prompts.ts")).confirmWrite()) return unchanged(configPath);

  // A compose file that is a symlink is refused before anything is written: git commits the link,
  // not the file, so a new worktree's compose file would be the link's target path.
  for (const file of plan.files) {
    const link = await Deno.readLink(join(root, file.path)).catch(() => undefined);
    if (link) {
      throw usageError(
        `${file.path} is a symlink (to ${link}); nothing was written.`,
        `Point kinfra at the file itself: \`kinfra init --compose-file <its path>\`, or replace the link with the file.`,
      );
    }
  }
  const written: string[] = [];
  for (const file of plan.files) {
    await writeFileAtomic(join(root, file.path), file.after);
    written.push(file.path);
  }
  await writeFileAtomic(configPath, plan.infraToml);
  written.push(`${CONFIG_DIR}/${CONFIG_FILE}`);
  // What impl will check, checked now on what was written: Compose's model with slot 1's values.
  const remaining = composeFile && config.sandbox ? await stillFixed(ctx, root, config.sandbox) : [];
  for (const line of remaining) ctx.log.warn(`Still the same in every sandbox: ${line}`);
  return {
    data: {
      root,
      config: configPath,
      written,
      ports: plan.ports,
      compose_file: composeFile ?? null,
      warnings: plan.warnings,
      problems: [...plan.problems, ...remaining],
    },
    text: [
      `${ctx.style.green("✓")} Wrote ${written.join(" and ")} in ${root}`,
      ...Object.entries(plan.ports).map(([v, p]) =>
        typeof p === "number"
          ? `  ${v} = ${p} (slot n gets ${p} + n)`
          : `  ${v} = ${p.base}…${
            p.base + p.width - 1
          } (slot n gets ${v}…${v}_END from ${p.base} + n·${p.width})`
      ),
      `Commit ${written.length > 1 ? "them" : "it"}: git add ${
        written.join(" ")
      } && git commit -m "Add kinfra config"`,
    ].join("\n"),
  };
}

/** The compose file with what it reaches, and Compose's own model of it (Docker must run). */
async function readProject(ctx: Context, root: string, composeFile: string) {
  const sources = await scanCompose(root, composeFile);
  await requireDocker(ctx);
  // The project's own port variables must resolve to their defaults (file or .env), not to a value
  // some earlier `eval "$(kinfra env)"` left in this shell.
  const unset = sources.ports.flatMap(hostVariables);
  // A host port written as a variable without a default and set nowhere is empty: Compose v1
  // refuses it, v2 lets Docker pick a port. Either way no slot can be given its own: refused alike.
  const bare = sources.ports.filter((p) =>
    typeof p.host === "object" && !("port" in p.host.start) && p.host.start.fallback === undefined
  );
  const hint = (source: PortSource) => {
    const name = (source.host as { start: { variable: string } }).start.variable;
    return `\${${name}} (${source.file}:${source.line}) has no default: write "\${${name}:-<port>}" there, or set ${name} in the .env beside the compose file.`;
  };
  const model = await resolveCompose(ctx.exec, await ctx.compose(), {
    dir: join(root, dirname(composeFile)),
    file: basename(composeFile),
    unset,
  }).catch((e) => {
    if (!(e instanceof KinfraError) || !bare.length) throw e;
    throw usageError(e.message, hint(bare[0]), e.details);
  });
  const empty = bare.find((b) => !model.ports.some((p) => sourceOf(p, sources.ports) === b));
  if (empty) {
    throw usageError(
      `${composeFile} publishes "${empty.text}" on a host port Docker would pick: its variable is set nowhere.`,
      hint(empty),
    );
  }
  return { sources, model, analysis: analyzePorts(sources, model) };
}

/** Fixed host ports left in what was written, described as impl would refuse them. */
async function stillFixed(ctx: Context, root: string, sandbox: SandboxConfig): Promise<string[]> {
  const vars = slotPorts(sandbox.ports, 1);
  const widths = rangeWidths(sandbox.ports);
  return (await resolveSlot(ctx, { dir: root, file: sandbox.compose_file, vars, widths })).fixed;
}

function unchanged(configPath: string): CommandOutput {
  return { data: { config: configPath, written: [] }, text: `Kept ${configPath} as it is.` };
}

/** The answers `--yes` (and the prompts' starting values) use: flags first, then defaults. */
function defaultAnswers(root: string, options: InitOptions, composeFile?: string): InitAnswers {
  const name = options.name ??
    basename(root).toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "").slice(0, 40);
  return {
    name,
    prefix: options.prefix ?? name,
    composeFile,
    healthEndpoint: options.healthEndpoint,
    healthPortVar: options.healthPortVar,
    mounts: options.mount ?? [],
    codeTargets: options.codeTarget,
    bases: portBases(options.port ?? []),
  };
}

/** `--port VAR=BASE` values, checked. */
function portBases(values: string[]): Record<string, number> {
  const bases: Record<string, number> = {};
  for (const value of values) {
    const m = /^([A-Z_][A-Z0-9_]*)=([0-9]+)$/.exec(value);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw usageError(
        `--port "${value}" is not VAR=BASE.`,
        "For example --port SHOP_WEB_PORT=9000 (a port 1–65535).",
      );
    }
    bases[m[1]] = port;
  }
  return bases;
}

function checkAnswers(answers: InitAnswers, services: string[]): void {
  for (const [flag, value] of [["--name", answers.name], ["--prefix", answers.prefix]] as const) {
    if (!PROJECT_NAME.test(value)) {
      throw usageError(
        `${flag} "${value}" is not a valid project name.`,
        "Use 1–40 characters of a–z, 0–9, '_' or '-', starting with a letter or digit.",
      );
    }
  }
  if (answers.healthEndpoint !== undefined && !answers.healthEndpoint.startsWith("/")) {
    throw usageError(`--health-endpoint "${answers.healthEndpoint}" must start with "/".`);
  }
  for (const mount of answers.mounts) {
    const parsed = parseMount(mount);
    if (typeof parsed === "string") {
      throw usageError(`--mount "${mount}": ${parsed}.`, "Format: host:container[:ro], e.g. src/:/app/src");
    }
  }
  for (const target of answers.codeTargets ?? []) {
    if (!services.includes(target)) {
      throw usageError(
        `--code-target "${target}" is not a service of the compose file.`,
        `Services: ${services.join(", ") || "none"}.`,
      );
    }
  }
}

/** A sandbox needs a running engine; say so before writing anything. */
async function requireDocker(ctx: Context): Promise<void> {
  if (!await dockerEngineVersion(ctx.exec)) {
    throw environmentError(
      "Docker is not running.",
      "Start the Docker engine (or Docker Desktop) and run kinfra init again; use --no-sandbox for worktrees only.",
    );
  }
}
