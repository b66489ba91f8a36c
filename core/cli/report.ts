/**
 * The one place a command's outcome reaches the user: results as text or one JSON document on
 * stdout, errors as a message with details and a hint on stderr (and as JSON with `--json`).
 */
import { bugHint, bugOf, Exit, KinfraError } from "../errors.ts";
import type { CommandOutput, Style } from "../io/output.ts";

const encoder = new TextEncoder();
/** SIGPIPE's exit status in a shell: what `kinfra … | head` ends with once head has read enough. */
const EXIT_BROKEN_PIPE = 141;

const print = (stream: { writeSync(p: Uint8Array): number }, text: string) => {
  const bytes = encoder.encode(text.endsWith("\n") ? text : text + "\n");
  try {
    for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
  } catch (e) {
    // The reader went away (`| head`): the command is done, and nobody is left to tell more.
    if (e instanceof Deno.errors.BrokenPipe) Deno.exit(EXIT_BROKEN_PIPE);
    throw e;
  }
};

/** The result, as text or JSON; `-q` quiets the logs and progress (the Logger), never the result. */
export function renderOutput(output: CommandOutput, json: boolean): void {
  if (output.silent) return;
  if (json) print(Deno.stdout, JSON.stringify(output.data, null, 2));
  else if (output.text) print(Deno.stdout, output.text);
}

// What the machine did to us, by errno: the environment's fault (exit 4), told in one line.
const ENVIRONMENT_ERRORS: Record<string, string> = {
  ENOSPC: "Free some space on that disk and run the command again.",
  EDQUOT: "Free some space (disk quota exceeded) and run the command again.",
  EROFS: "That file system is read-only: point KINFRA_HOME (or the project) at a writable place.",
  EACCES: "Check the permissions of that path (or point KINFRA_HOME at a directory you own).",
  EPERM: "Check the permissions of that path (or point KINFRA_HOME at a directory you own).",
  EMFILE: "Too many open files: raise the limit (ulimit -n) and run the command again.",
};

/** A system error (full disk, read-only or forbidden path, a NUL byte in a path) as a KinfraError. */
export function fromSystemError(error: unknown): KinfraError | undefined {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string" && ENVIRONMENT_ERRORS[code]) {
    return new KinfraError(message, { code: Exit.environment, hint: ENVIRONMENT_ERRORS[code] });
  }
  if (error instanceof TypeError && /NUL byte/.test(message)) {
    return new KinfraError(`A path contains a NUL byte: ${JSON.stringify(message)}`, {
      code: Exit.usage,
      hint: "Remove the control character from the path (in infra.toml or the command line).",
    });
  }
  return undefined;
}

/** Prints an error and returns the exit code; unexpected errors are reported as internal, without a stack unless verbose. */
export function reportError(
  error: unknown,
  options: { json: boolean; verbose: boolean; style: Style },
): number {
  const expected = error instanceof KinfraError ? error : fromSystemError(error);
  const known = expected ??
    new KinfraError(`Internal error: ${error instanceof Error ? error.message : String(error)}`, {
      hint: bugHint(),
    });
  if (options.json) {
    print(
      Deno.stdout,
      JSON.stringify(
        {
          error: {
            code: known.code,
            message: known.message,
            hint: known.hint,
            details: known.details,
            ...(known.data && { data: known.data }),
          },
        },
        null,
        2,
      ),
    );
  }
  const { red, dim } = options.style;
  const lines = [`${red("error:")} ${known.message}`, ...known.details.map((d) => `  ${d}`)];
  if (known.hint) lines.push(`${dim("hint:")} ${known.hint}`);
  // The stack of the bug itself, even when a plugin's or the sandbox's error wraps it; or of the
  // unexpected error reported as internal (a system error kinfra has no words for, too).
  const bug = bugOf(error) ?? (!expected && error instanceof Error ? error : undefined);
  if (options.verbose && bug) lines.push(bug.stack ?? String(bug));
  print(Deno.stderr, lines.join("\n"));
  return known.code;
}
