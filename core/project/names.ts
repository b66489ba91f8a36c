/**
 * Validation of feature and milestone names (README, "Commands"). Runs before any side effect: a refused name
 * never reaches git, a path or a subprocess.
 */
import { usageError } from "../errors.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RULE = "1–64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

/**
 * Throws a usage error (exit 2) unless `value` is a valid feature or milestone name.
 *
 * @example
 * validateName("feature", "wellness-reminders"); // ok
 * validateName("feature", "../x");               // throws
 */
export function validateName(what: "feature" | "milestone", value: string): string {
  const shown = JSON.stringify(value);
  // git refuses branch names with "..", ending in "." or ".lock".
  if (!NAME.test(value) || value.includes("..") || value.endsWith(".lock") || value.endsWith(".")) {
    throw usageError(
      `Invalid ${what} name ${shown}.`,
      `A ${what} name is ${RULE}; it must not contain "..", or end in "." or ".lock".`,
    );
  }
  return value;
}

/** Splits and validates `feature/milestone` (the argument of `impl`). */
export function parseImplTarget(target: string): { feature: string; milestone: string } {
  const parts = target.split("/");
  if (parts.length !== 2) {
    throw usageError(
      `Invalid target ${JSON.stringify(target)}: expected <feature>/<milestone>.`,
      "Example: kinfra impl wellness-reminders/M1",
    );
  }
  return { feature: validateName("feature", parts[0]), milestone: validateName("milestone", parts[1]) };
}

/**
 * The short name a worktree goes by in commands and hints: `feature-milestone`, or `feature` for a
 * spec worktree or one made by hand. `findWorktree` accepts it.
 *
 * @example
 * worktreeName({ feature: "checkout", milestone: "M1" }); // "checkout-M1"
 * worktreeName({ feature: "hand-M1" });                   // "hand-M1"
 */
export function worktreeName(entry: { feature: string; milestone?: string }): string {
  return entry.milestone ? `${entry.feature}-${entry.milestone}` : entry.feature;
}
