/**
 * A small declarative command-line parser: commands, positional arguments and options described
 * as data, from which parsing, help and shell completions all derive. (Commander alone took
 * longer to load than a whole `kinfra worktrees --json`.)
 */
import { closest } from "../text/closest.ts";
import { usageError } from "../errors.ts";

export interface OptionSpec {
  /** e.g. "-C, --directory <dir>", "--force", "--no-sandbox", "--mount <spec>". */
  flags: string;
  description: string;
  /** May be given several times; the value is an array. */
  repeatable?: boolean;
  /** The only values the option accepts (completions offer them). */
  choices?: readonly string[];
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  choices?: readonly string[];
  /** Completions offer the names of kinfra's worktrees (`kinfra worktrees --names`). */
  worktree?: boolean;
}

// The types a command's action receives, derived from its specs (declared with `const` type
// parameters, so flags and choices are literal types): "--no-sandbox" → `sandbox?: boolean`,
// "--code-target <service>" repeatable → `codeTarget?: string[]`, choices → their union.
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Long<F extends string> = F extends `${string}--${infer L}` ? (L extends `${infer N} <${string}` ? N : L)
  : never;
/** The key an option's value is stored under, as parseFlags computes it. */
export type OptionKey<F extends string> = Long<F> extends `no-${infer K}` ? Camel<K> : Camel<Long<F>>;
type OptionValue<O extends OptionSpec> = O["flags"] extends `${string}<${string}>`
  ? O extends { choices: readonly (infer C)[] } ? C : O extends { repeatable: true } ? string[] : string
  : boolean;
/** The options object of a list of option specs. */
export type OptionsOf<Os extends readonly OptionSpec[]> = {
  [O in Os[number] as OptionKey<O["flags"]>]?: OptionValue<O>;
};
type ArgValue<A> =
  | (A extends { choices: readonly (infer C)[] } ? C : string)
  | (A extends { required: true } ? never
    : undefined);
/** The positional values of a list of argument specs: required ones are always there. */
export type ArgsOf<As extends readonly ArgSpec[]> = { -readonly [I in keyof As]: ArgValue<As[I]> };

export interface CommandSpec {
  name: string;
  description: string;
  args?: readonly ArgSpec[];
  options?: readonly OptionSpec[];
  subcommands?: readonly CommandSpec[];
}

export interface ParsedOption {
  key: string;
  short?: string;
  long: string;
  value?: string;
  negated: boolean;
}

/** Splits "-C, --directory <dir>" into its parts; the key is the camel-cased long name without "no-". */
export function parseFlags(flags: string): ParsedOption {
  const short = /(?:^|\s)-([A-Za-z])\b/.exec(flags)?.[1];
  const long = /--([a-z][a-z0-9-]*)/.exec(flags)![1];
  const negated = long.startsWith("no-");
  const key = (negated ? long.slice(3) : long).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { key, short, long, value: /<([^>]+)>/.exec(flags)?.[1], negated };
}

export interface Invocation {
  /** The command path, e.g. ["observability", "up"]. */
  path: string[];
  command: CommandSpec;
  args: (string | undefined)[];
  options: Record<string, unknown>;
  help: boolean;
}

/**
 * Parses argv against the command table; `globals` are accepted anywhere.
 *
 * @example
 * parseArgv(program, globals, ["--json", "done", "x", "--force"]);
 * // { path: ["done"], args: ["x"], options: { json: true, force: true }, … }
 */
export function parseArgv(program: CommandSpec, globals: readonly OptionSpec[], argv: string[]): Invocation {
  let command = program;
  const path: string[] = [];
  const positionals: string[] = [];
  const options: Record<string, unknown> = {};
  let help = false;
  let rest = false;
  const specs = () =>
    [...globals, ...command.options ?? []].map((o) => ({ spec: o, parsed: parseFlags(o.flags) }));

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (rest || token === "-" || !token.startsWith("-") || token === "") {
      const sub = !rest && positionals.length === 0
        ? command.subcommands?.find((c) => c.name === token)
        : undefined;
      if (sub) {
        command = sub;
        path.push(sub.name);
      } else if (command.subcommands?.length && positionals.length === 0 && !rest) {
        const guess = closest(token, command.subcommands.map((c) => c.name));
        throw usageError(
          `Unknown command "${[...path, token].join(" ")}".${
            guess ? ` Did you mean "${[...path, guess].join(" ")}"?` : ""
          }`,
          `Run \`kinfra ${[...path, "--help"].join(" ")}\` for the list.`,
        );
      } else positionals.push(token);
      continue;
    }
    if (token === "--") {
      rest = true;
      continue;
    }
    if (token === "-h" || token === "--help") {
      help = true;
      continue;
    }
    // `-qv`: a group of flags that take no value, as if given one by one.
    const group = /^-([A-Za-z]{2,})$/.exec(token)?.[1].split("");
    if (group?.every((c) => specs().some(({ parsed }) => parsed.short === c && !parsed.value))) {
      argv = [...argv.slice(0, i + 1), ...group.map((c) => `-${c}`), ...argv.slice(i + 1)];
      continue;
    }
    const [name, inline] = token.startsWith("--")
      ? splitOnce(token.slice(2), "=")
      : [token.slice(1), undefined];
    const match = specs().find(({ parsed }) =>
      token.startsWith("--") ? parsed.long === name : parsed.short === name
    );
    if (!match) {
      const guess = closest(name, specs().map(({ parsed }) => parsed.long));
      throw usageError(
        `Unknown option "${token}"${path.length ? ` for "kinfra ${path.join(" ")}"` : ""}.${
          guess ? ` Did you mean "--${guess}"?` : ""
        }`,
        `Run \`kinfra ${[...path, "--help"].join(" ")}\` to see the options.`,
      );
    }
    const { parsed, spec } = match;
    let value: unknown = !parsed.negated;
    if (parsed.value) {
      value = inline ?? argv[++i];
      // An empty value (`--compose-file=`) is a slip, never a choice: taken, it would mean "not given".
      if (!value) throw usageError(`Option --${parsed.long} needs a value <${parsed.value}>.`);
    } else if (inline !== undefined) throw usageError(`Option --${parsed.long} takes no value.`);
    if (spec.choices && !spec.choices.includes(value as string)) {
      throw usageError(
        `--${parsed.long} must be one of ${spec.choices.join(", ")}, not ${JSON.stringify(value)}.`,
      );
    }
    options[parsed.key] = spec.repeatable ? [...(options[parsed.key] as string[] ?? []), value] : value;
  }

  if (!help && command.subcommands?.length && command !== program && positionals.length === 0) {
    throw usageError(
      `"kinfra ${path.join(" ")}" needs a subcommand: ${command.subcommands.map((c) => c.name).join(", ")}.`,
      `Run \`kinfra ${path.join(" ")} --help\`.`,
    );
  }
  const declared = command.args ?? [];
  if (!help) {
    if (positionals.length > declared.length) {
      throw usageError(
        `Too many arguments for "kinfra ${path.join(" ")}": ${
          positionals.slice(declared.length).map((p) => JSON.stringify(p)).join(" ")
        }.`,
      );
    }
    declared.forEach((arg, i) => {
      if (arg.required && positionals[i] === undefined) {
        throw usageError(
          `Missing <${arg.name}> for "kinfra ${path.join(" ")}".`,
          `Usage: ${usage(path, command)}`,
        );
      }
      if (arg.choices && positionals[i] !== undefined && !arg.choices.includes(positionals[i])) {
        throw usageError(
          `<${arg.name}> must be one of ${arg.choices.join(", ")}, not ${JSON.stringify(positionals[i])}.`,
        );
      }
    });
  }
  return { path, command, args: declared.map((_, i) => positionals[i]), options, help };
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

function usage(path: string[], command: CommandSpec): string {
  const args = (command.args ?? []).map((a) => a.required ? `<${a.name}>` : `[${a.name}]`);
  const sub = command.subcommands?.length ? ["<command>"] : [];
  return ["kinfra", ...path, ...sub, ...args, "[options]"].join(" ");
}

/** The help text of a command. */
export function helpText(path: string[], command: CommandSpec, globals: readonly OptionSpec[]): string {
  const rows = (items: [string, string][]) => {
    const width = Math.max(...items.map(([l]) => l.length));
    return items.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join("\n");
  };
  const sections = [`Usage: ${usage(path, command)}`, "", command.description];
  if (command.subcommands?.length) {
    sections.push("", "Commands:", rows(command.subcommands.map((c) => [c.name, c.description])));
  }
  if (command.args?.length) {
    sections.push("", "Arguments:", rows(command.args.map((a) => [a.name, a.description])));
  }
  if (command.options?.length) {
    sections.push("", "Options:", rows(command.options.map((o) => [o.flags, o.description])));
  }
  sections.push(
    "",
    "Global options:",
    rows([...globals.map((o): [string, string] => [o.flags, o.description]), ["-h, --help", "show help"]]),
  );
  if (path.length === 0) sections.push("", "Run `kinfra <command> --help` for a command's options.");
  return sections.join("\n");
}
