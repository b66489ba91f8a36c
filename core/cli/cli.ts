/** Runs one command line: parse it against the command table, build the context, run, render. */
import { helpText, parseArgv } from "./args.ts";
import { type Command, GLOBAL_OPTIONS, type Globals, PROGRAM, VERSION } from "./program.ts";
import { usageError } from "../errors.ts";
import { colorEnabled, makeLogger, makeStyle } from "../io/output.ts";
import type { Plugin } from "../hooks/plugin_api.ts";
import { renderOutput } from "./report.ts";

export interface CliOptions {
  signal: AbortSignal;
  /** The built-in plugins; enabled third-party plugins are added per project. */
  builtins: () => Promise<Plugin[]>;
}

/** Parses and runs one command line; returns the exit code. Errors are thrown for main.ts to report. */
export async function runCli(argv: string[], options: CliOptions): Promise<number> {
  const invocation = parseArgv(PROGRAM, GLOBAL_OPTIONS, argv);
  const flags = invocation.options as Globals;
  const print = (text: string) => renderOutput({ data: {}, text }, false);
  // A global option: `kinfra status --version` prints the version too, and runs nothing.
  if (flags.version) {
    renderOutput({ data: { version: VERSION }, text: VERSION }, Boolean(flags.json));
    return 0;
  }
  const command = invocation.command as Command;
  if (invocation.help || !command.run) {
    if (!invocation.help && invocation.path.length === 0 && argv.length) {
      throw usageError("No command given.", "Run `kinfra --help`.");
    }
    print(helpText(invocation.path, command, GLOBAL_OPTIONS));
    return 0;
  }
  const { makeContext } = await import("../make_context.ts");
  const style = makeStyle(flags.color !== false && colorEnabled(false));
  const ctx = makeContext({
    cwd: flags.directory ? resolveDirectory(flags.directory) : Deno.cwd(),
    log: makeLogger({ quiet: Boolean(flags.quiet), verbose: Boolean(flags.verbose) }, style),
    style,
    signal: options.signal,
    interactive: Deno.stdin.isTerminal() && Deno.stderr.isTerminal() && !flags.json,
    builtins: options.builtins,
  });
  if (MAINTAINING.has(invocation.path.join(" ")) && !(invocation.options as { names?: boolean }).names) {
    // No daemon: commands that look at or start sandboxes also stop the idle ones (throttled); the
    // check itself is loaded only when it has something to do.
    if (await (await import("../sandbox/idle_windows.ts")).idleCheckDue(ctx)) {
      await (await import("../sandbox/idle_check.ts")).idleCheck(ctx, { throttled: true });
    }
  }
  const output = await command.run(ctx, invocation.args, flags);
  renderOutput(output, Boolean(flags.json));
  return output.exitCode ?? 0;
}

/** The commands after which `idle_stop` is checked (cheap when it ran lately: one file read). */
const MAINTAINING = new Set(["status", "worktrees", "impl", "up", "warm", "gc"]);

function resolveDirectory(dir: string): string {
  try {
    if (Deno.statSync(dir).isDirectory) return Deno.realPathSync(dir);
  } catch { /* reported below */ }
  throw usageError(`-C: "${dir}" is not a directory.`);
}
