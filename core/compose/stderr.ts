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
