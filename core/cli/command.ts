/** The pieces of the command table: the command type, the global options, the typed `command()` helper. */
import type { ArgsOf, ArgSpec, CommandSpec, OptionsOf, OptionSpec } from "./args.ts";
import type { Context } from "../context.ts";
import type { CommandOutput } from "../io/output.ts";

type Action = (ctx: Context, args: (string | undefined)[], options: Record<string, unknown>) => Promise<
  CommandOutput
>;
export interface Command extends CommandSpec {
  run?: Action;
  subcommands?: Command[];
}

export const GLOBAL_OPTIONS = [
  { flags: "--json", description: "print exactly one JSON document on stdout" },
  { flags: "-q, --quiet", description: "print only errors and the result" },
  { flags: "-v, --verbose", description: "print debug output" },
  { flags: "--no-color", description: "disable colour (also NO_COLOR)" },
  { flags: "-C, --directory <dir>", description: "run as if started in <dir>" },
  { flags: "-V, --version", description: "print the version" },
] as const satisfies readonly OptionSpec[];
export type Globals = OptionsOf<typeof GLOBAL_OPTIONS>;

/**
 * A command whose action gets typed values: its arguments (required ones are strings) and its
 * options plus the global ones, derived from the specs (`--no-sandbox` → `sandbox?: boolean`,
 * `--lang <lang>` with choices → `"sh" | "ts"`), so a flag renamed in the table fails type checking.
 */
export function command<
  const As extends readonly ArgSpec[] = [],
  const Os extends readonly OptionSpec[] = [],
>(
  spec: CommandSpec & {
    args?: As;
    options?: Os;
    run: (ctx: Context, args: ArgsOf<As>, options: OptionsOf<Os> & Globals) => Promise<CommandOutput>;
  },
): Command {
  return spec as unknown as Command; // the parser checked argv against these very specs
}

export const NAME_ARG = {
  name: "name",
  worktree: true,
  description: "feature, feature-M1, feature/M1, directory name or path (default: current)",
} as const;
