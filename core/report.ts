/**
 * The one place a command's outcome reaches the user: results as text or one JSON document on
 * stdout, errors as a message with details and a hint on stderr (and as JSON with `--json`).
 */
import { Exit, KinfraError } from "./errors.ts";
import type { CommandOutput, Style } from "./output.ts";

const encoder = new TextEncoder();
const print = (stream: { writeSync(p: Uint8Array): number }, text: string) => {
  const bytes = encoder.encode(text.endsWith("\n") ? text : text + "\n");
  for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
};

export function renderOutput(output: CommandOutput, json: boolean, quiet: boolean): void {
  if (json) print(Deno.stdout, JSON.stringify(output.data, null, 2));
  else if (output.text && !quiet) print(Deno.stdout, output.text);
}

/** Prints an error and returns the exit code; unexpected errors are reported as internal, without a stack unless verbose. */
export function reportError(
  error: unknown,
  options: { json: boolean; verbose: boolean; style: Style },
): number {
  const known = error instanceof KinfraError
    ? error
    : new KinfraError(`Internal error: ${error instanceof Error ? error.message : String(error)}`, {
      hint: "This is a bug in kinfra. Run again with -v for the stack trace and report it.",
    });
  if (options.json) {
    print(
      Deno.stdout,
      JSON.stringify(
        { error: { code: known.code, message: known.message, hint: known.hint, details: known.details } },
        null,
        2,
      ),
    );
  }
  const { red, dim } = options.style;
  const lines = [`${red("error:")} ${known.message}`, ...known.details.map((d) => `  ${d}`)];
  if (known.hint) lines.push(`${dim("hint:")} ${known.hint}`);
  if (options.verbose && error instanceof Error && !(error instanceof KinfraError)) {
    lines.push(error.stack ?? "");
  }
  print(Deno.stderr, lines.join("\n"));
  return known.code;
}

export const interrupted = () => new KinfraError("Interrupted.", { code: Exit.interrupted });
