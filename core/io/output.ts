/**
 * Terminal output: colour rules, the stderr logger, and the one renderer that prints a command's
 * result as text or as a single JSON document on stdout.
 */

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
}

/** Decides colour as the README's "Commands" says: `--no-color`, `NO_COLOR`, or stdout not being a terminal turn it off. */
export function colorEnabled(noColorFlag: boolean): boolean {
  if (noColorFlag || Deno.env.get("NO_COLOR") !== undefined) return false;
  return Deno.stdout.isTerminal();
}

/** ANSI styling that degrades to plain text when colour is off. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => color ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** Everything a command says while it works goes through here, always to stderr. */
export interface Logger {
  /** A slow step starting ("Creating worktree…"). */
  step(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /** A logger whose lines carry a `[name]` prefix, for plugins. */
  child(name: string): Logger;
}

export function makeLogger(
  opts: Pick<OutputOptions, "quiet" | "verbose">,
  style: Style,
  prefix = "",
): Logger {
  const encoder = new TextEncoder();
  const write = (line: string) => Deno.stderr.writeSync(encoder.encode(prefix + line + "\n"));
  return {
    step: (m) => opts.quiet || write(style.cyan("›") + " " + m),
    info: (m) => opts.quiet || write(m),
    warn: (m) => write(style.yellow("warning: ") + m),
    error: (m) => write(style.red("error: ") + m),
    debug: (m) => opts.verbose && write(style.dim(m)),
    child: (name) => makeLogger(opts, style, `${prefix}${style.dim(`[${name}]`)} `),
  };
}

/** A logger that drops everything; for tests and for nested calls that must stay silent. */
export const silentLogger: Logger = {
  step() {},
  info() {},
  warn() {},
  error() {},
  debug() {},
  child: () => silentLogger,
};

/** Formats rows as aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  // Widths count what shows: a coloured cell's escape codes take no room.
  // deno-lint-ignore no-control-regex -- ESC starts the colour codes makeStyle writes
  const width = (c: string) => c.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ""))));
  return all.map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c + " ".repeat(widths[i] - width(c))).join("  ")
  )
    .join("\n");
}

/** What every command returns: `data` becomes the JSON document, `text` the human rendering. */
export interface CommandOutput {
  data: unknown;
  text: string;
  /** Exit code for a report that is printed in full but still means failure (e.g. `doctor`). */
  exitCode?: number;
  /** The command printed its result itself as it went (`kinfra ui`'s URL): nothing more to print. */
  silent?: boolean;
}
