/**
 * Typed errors. Every failure kinfra reports is a KinfraError carrying its exit code and a hint;
 * main.ts is the one place that prints them and exits.
 */

/** Exit codes (README, "Exit codes"). */
export const Exit = {
  ok: 0,
  failed: 1,
  usage: 2,
  blocked: 3,
  environment: 4,
  interrupted: 130,
} as const;
export type ExitCode = typeof Exit[keyof typeof Exit];

export interface KinfraErrorOptions {
  code?: ExitCode;
  /** One line telling the user what to do next. */
  hint?: string;
  /** Extra lines shown under the message (file lists, log tails). */
  details?: string[];
  /** Facts for `--json` (the numbers behind the message), shown as `error.data`. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An error meant for the user.
 *
 * @example
 * throw new KinfraError(`Feature name "a b" is invalid`, { code: Exit.usage, hint: "Use letters, digits, . _ -" });
 */
export class KinfraError extends Error {
  readonly code: ExitCode;
  readonly hint?: string;
  readonly details: string[];
  readonly data?: Record<string, unknown>;

  constructor(message: string, options: KinfraErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "KinfraError";
    this.code = options.code ?? Exit.failed;
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.data = options.data;
  }
}

/** A usage or configuration error (exit 2). */
export function usageError(message: string, hint?: string, details?: string[]): KinfraError {
  return new KinfraError(message, { code: Exit.usage, hint, details });
}

/**
 * An invalid infra.toml or config.toml (exit 2). Its own class because commands that can run
 * without a project (`status` in a checkout, a name lookup) must still report a broken one.
 */
export class ConfigError extends KinfraError {
  constructor(message: string, hint?: string, details?: string[]) {
    super(message, { code: Exit.usage, hint, details });
  }
}

/** A configuration file error (exit 2): see ConfigError. */
export function configError(message: string, hint?: string, details?: string[]): ConfigError {
  return new ConfigError(message, hint, details);
}

/** Something the user must resolve first: dirty worktree, veto, unmerged branch (exit 3). */
export function blockedError(message: string, hint?: string, details?: string[]): KinfraError {
  return new KinfraError(message, { code: Exit.blocked, hint, details });
}

/** A missing tool or service: git, the Docker engine, compose (exit 4). */
export function environmentError(message: string, hint?: string): KinfraError {
  return new KinfraError(message, { code: Exit.environment, hint });
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * True for what kinfra never meant to throw — a `TypeError` in a plugin, say — as opposed to a
 * KinfraError or the system's refusal (an errno code such as ENOSPC): a bug, wherever it came from.
 */
export function isBug(error: unknown): boolean {
  return !(error instanceof KinfraError) && typeof (error as { code?: unknown } | null)?.code !== "string";
}

/** The message of a failure, saying so when it is a bug: `internal error (TypeError: …)`. */
export function failureMessage(error: unknown): string {
  return isBug(error) && error instanceof Error
    ? `internal error (${error.name}: ${error.message})`
    : messageOf(error);
}

/** The hint for a bug: where it is, and how to get its stack trace. */
export function bugHint(where = "kinfra"): string {
  return `This is a bug in ${where}. Run again with -v for the stack trace and report it.`;
}

/** The innermost unexpected error in a chain of causes: the one whose stack trace tells where the bug is. */
export function bugOf(error: unknown): Error | undefined {
  let found: Error | undefined;
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (isBug(e)) found = e;
  }
  return found;
}

/** The error a command ends with when Ctrl-C stopped it (exit 130). */
export const interrupted = () => new KinfraError("Interrupted.", { code: Exit.interrupted });
