/** Shared by the unit tests: the usage error (exit 2) a call throws, as "message | hint". */
import { KinfraError } from "../../core/errors.ts";

/** The usage error `fn` throws, as "message | hint"; anything else (or nothing) fails the test. */
export function usageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KinfraError && e.code === 2) return `${e.message} | ${e.hint ?? ""}`;
    throw e;
  }
  throw new Error("no usage error was thrown");
}

/** The KinfraError `fn` throws (or its promise rejects with), with its code; anything else fails. */
export async function kinfraErrorOf(fn: () => unknown): Promise<KinfraError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof KinfraError) return e;
    throw e;
  }
  throw new Error("no KinfraError was thrown");
}
