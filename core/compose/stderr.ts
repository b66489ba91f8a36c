/**
 * Compose's stderr, as a person reads it whichever flavour wrote it. v1 (Python) writes its warnings
 * as plain lines when stderr is not a terminal (`The X variable is not set. Defaulting to a blank
 * string.`); v2 (Go) writes the same as logrus records (`time="…" level=warning msg="The \"X\"
 * variable is not set…"`). v2's records come out as v1's lines, so kinfra's messages and their
 * details read the same on either.
 */
import { tail } from "../io/exec.ts";

const LOGRUS = /^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"(.*)$/;

/** One stderr line with a v2 logrus record turned into its message (other lines as they are). */
export function composeLine(line: string): string {
  const record = LOGRUS.exec(line);
  if (!record) return line;
  const [, level, msg, rest] = record;
  const text = msg.replace(/\\(.)/g, "$1") + rest;
  return level === "error" || level === "fatal" ? `ERROR: ${text}` : text;
}

/**
 * The last `n` non-blank lines of Compose's stderr, v2's records written as v1 writes them.
 *
 * @example
 * composeTail('time="2026-01-01T00:00:00Z" level=warning msg="The \\"P\\" variable is not set."\nboom', 5);
 * // → ['The "P" variable is not set.', "boom"]
 */
export function composeTail(stderr: string, n: number): string[] {
  return tail(stderr, Number.MAX_SAFE_INTEGER).map(composeLine).slice(-n);
}

/** Advice v1 prints after every schema error, whatever the error: never the error itself. */
const V1_ADVICE = [
  /^You might be seeing this error because/,
  /^For more on the Compose file format versions/,
];

/**
 * Compose's error as a headline and the lines before it: the last line that is not v1's advice
 * paragraph (which comes after the real error), v2's records written as v1 writes them.
 *
 * @example
 * composeError("The Compose file './compose.yaml' is invalid because:\n'name' does not match …\n\nFor more on …");
 * // → { message: "'name' does not match …", details: ["The Compose file …", "For more on …"] }
 */
export function composeError(stderr: string, n = 12): { message?: string; details: string[] } {
  const lines = composeTail(stderr, n + V1_ADVICE.length);
  const at = lines.findLastIndex((l) => !V1_ADVICE.some((advice) => advice.test(l)));
  if (at < 0) return { message: undefined, details: lines.slice(-n) };
  return { message: lines[at], details: [...lines.slice(0, at), ...lines.slice(at + 1)].slice(-n) };
}
