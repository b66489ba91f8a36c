/**
 * The command line: declares every command and its flags, and lazily imports the module that
 * implements it, so `kinfra --version` loads almost nothing. Actions only translate flags into
 * typed options; the command modules do the work and return a CommandOutput.
 */
import { Command, CommanderError, Option } from "commander";
import meta from "../deno.json" with { type: "json" };
import { type Context, makeContext } from "./context.ts";
import { KinfraError, usageError } from "./errors.ts";
import { colorEnabled, type CommandOutput, makeLogger, makeStyle } from "./output.ts";
import type { Plugin } from "./plugin_api.ts";
import type { Project } from "./project.ts";
import { renderOutput } from "./report.ts";

export const VERSION = meta.version;

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  directory?: string;
}

export interface CliOptions {
  signal: AbortSignal;
  /** The plugins active for a project (built-ins plus enabled external ones). */
  plugins: (ctx: Context, project: Project) => Promise<Plugin[]>;
}

/** Builds the commander program; `run` is what every action calls with its lazily loaded command. */
let exitCode = 0;

export function buildProgram(options: CliOptions): Command {
  // deno-lint-ignore no-explicit-any
  const run = (fn: (ctx: Context, ...args: any[]) => Promise<CommandOutput>) =>
  // deno-lint-ignore no-explicit-any
  async (...args: any[]) => {
    const command = args.at(-1) as Command;
    const flags = command.optsWithGlobals() as GlobalFlags;
    const ctx = contextFor(flags, options);
    const output = await fn(ctx, ...args.slice(0, -1));
    renderOutput(output, Boolean(flags.json), Boolean(flags.quiet));
    exitCode = output.exitCode ?? 0;
  };

  const program = new Command("kinfra")
    .description("Parallel development worktrees with isolated Docker Compose sandboxes.")
    .version(VERSION, "-V, --version", "print the version")
    .option("--json", "print exactly one JSON document on stdout")
    .option("-q, --quiet", "print only errors and the result")
    .option("-v, --verbose", "print debug output")
    .option("--no-color", "disable colour (also NO_COLOR)")
    .option("-C, --directory <dir>", "run as if started in <dir>")
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  program.command("init")
    .description("set up .devops-ai/infra.toml and parameterize the compose file's ports")
    .option("-y, --yes", "accept every default without prompting")
    .option("--force", "replace an existing infra.toml without asking")
    .option("--name <name>", "project name (default: directory name)")
    .option("--prefix <prefix>", "worktree prefix (default: the name)")
    .option("--compose-file <path>", "compose file (default: detected)")
    .option("--no-sandbox", "configure worktrees only, no sandbox")
    .option("--health-endpoint <path>", "HTTP path that answers 2xx when the sandbox is healthy")
    .option("--health-port-var <var>", "port variable the health check uses (default: the first)")
    .option(
      "--code-target <service>",
      "a service that receives the code mounts (repeatable)",
      collect,
      undefined,
    )
    .option("--mount <spec>", "a code mount, host:container[:ro] (repeatable)", collect, undefined)
    .action(run(async (ctx, o) => (await import("./commands/init.ts")).init(ctx, o)));

  program.command("spec")
    .description("create a spec worktree on branch spec/<feature>")
    .argument("<feature>", "feature name")
    .option("--base <ref>", "branch or commit to start from")
    .option("--session", "start an agent-deck session in it")
    .action(
      run(async (ctx, feature, o) => (await import("./commands/spec.ts")).spec(ctx, { feature, ...o })),
    );

  program.command("impl")
    .description("create an impl worktree with its own running sandbox")
    .argument("<feature/milestone>", "e.g. checkout/M1")
    .option("--base <ref>", "branch or commit to start from")
    .option("--session", "start an agent-deck session in it")
    .option("--no-sandbox", "create the worktree only")
    .option("--dry-run", "print the plan and change nothing")
    .action(run(async (ctx, target, o) => (await import("./commands/impl.ts")).impl(ctx, { target, ...o })));

  program.command("done")
    .description("remove a worktree (and its sandbox) without losing work")
    .argument("[name]", "feature, feature-M1, feature/M1, directory name or path (default: current)")
    .option("--force", "remove even with uncommitted changes or a veto")
    .option("--delete-branch", "delete the branch even when it is not merged")
    .action(run(async (ctx, name, o) => (await import("./commands/done.ts")).done(ctx, { name, ...o })));

  program.command("worktrees")
    .description("list kinfra worktrees of all projects")
    .action(run(async (ctx) => (await import("./commands/worktrees.ts")).worktrees(ctx)));

  program.command("status")
    .description("show the sandbox of a worktree: slot, ports, containers, health")
    .argument("[name]", "worktree (default: current)")
    .action(run(async (ctx, name) => (await import("./commands/status.ts")).status(ctx, { name })));

  program.command("up")
    .description("start the sandbox of an existing impl worktree")
    .argument("[name]", "worktree (default: current)")
    .action(run(async (ctx, name) => (await import("./commands/sandbox_cmds.ts")).up(ctx, { name })));

  program.command("down")
    .description("stop the sandbox of an impl worktree and release its slot")
    .argument("[name]", "worktree (default: current)")
    .action(run(async (ctx, name) => (await import("./commands/sandbox_cmds.ts")).down(ctx, { name })));

  program.command("env")
    .description('print the sandbox variables as export lines (eval "$(kinfra env)")')
    .argument("[name]", "worktree (default: current)")
    .action(run(async (ctx, name) => (await import("./commands/sandbox_cmds.ts")).env(ctx, { name })));

  program.command("gc")
    .description("remove stale slots, missing worktrees' entries and orphaned containers")
    .option("--dry-run", "list what would be removed")
    .action(run(async (ctx, o) => (await import("./commands/gc.ts")).gc(ctx, o)));

  program.command("doctor")
    .description("check git, Docker, compose, the registry and plugins")
    .action(run(async (ctx) => (await import("./commands/doctor.ts")).doctor(ctx)));

  program.command("completions")
    .description("print a shell completion script")
    .addArgument(
      new Command().createArgument("<shell>", "bash, zsh or fish").choices(["bash", "zsh", "fish"]),
    )
    .action(run(async (_ctx, shell) => (await import("./completions.ts")).completions(program, shell)));

  program.command("version")
    .description("print the version")
    .action(
      run(() =>
        Promise.resolve({ data: { version: VERSION, deno: Deno.version.deno }, text: `kinfra ${VERSION}` })
      ),
    );

  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...previous ?? [], value];
}

function contextFor(flags: GlobalFlags, options: CliOptions): Context {
  const style = makeStyle(flags.color !== false && colorEnabled(false));
  return makeContext({
    cwd: flags.directory ? resolveDirectory(flags.directory) : Deno.cwd(),
    log: makeLogger({ quiet: Boolean(flags.quiet), verbose: Boolean(flags.verbose) }, style),
    style,
    signal: options.signal,
    interactive: Deno.stdin.isTerminal() && Deno.stderr.isTerminal() && !flags.json,
    plugins: options.plugins,
  });
}

function resolveDirectory(dir: string): string {
  try {
    if (Deno.statSync(dir).isDirectory) return Deno.realPathSync(dir);
  } catch { /* reported below */ }
  throw usageError(`-C: "${dir}" is not a directory.`);
}

/** Parses and runs; commander's own errors become usage errors (exit 2), help and version exit 0. */
export async function runCli(args: string[], options: CliOptions): Promise<number> {
  const program = buildProgram(options);
  exitCode = 0;
  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      throw usageError(
        e.message.replace(/^error: /, ""),
        "Run `kinfra --help` (or `kinfra <command> --help`).",
      );
    }
    throw e;
  }
}

export { KinfraError, Option };
