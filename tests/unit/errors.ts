/** core/errors.ts and core/cli/report.ts's system errors: exit codes, bugs told apart from refusals. */
import assert from "node:assert/strict";
import {
  blockedError,
  bugOf,
  environmentError,
  Exit,
  failureMessage,
  isBug,
  KinfraError,
  usageError,
} from "../../core/errors.ts";
import { fromSystemError } from "../../core/cli/report.ts";

/** A system error as Deno throws it: an Error with an errno code. */
const systemError = (code: string, message: string) => Object.assign(new Error(message), { code });

Deno.test("KinfraError fails with exit 1 and no hint or details unless told", () => {
  const e = new KinfraError("x");
  assert.deepEqual([e.code, e.hint, e.details, e.name], [1, undefined, [], "KinfraError"]);
});

Deno.test("usageError(), blockedError() and environmentError() carry exits 2, 3 and 4 with their hint", () => {
  assert.deepEqual(
    [usageError("a", "h"), blockedError("b", "h"), environmentError("c", "h")].map((e) => [e.code, e.hint]),
    [[2, "h"], [3, "h"], [4, "h"]],
  );
});

Deno.test("usageError() keeps its details", () => {
  assert.deepEqual(usageError("a", undefined, ["one", "two"]).details, ["one", "two"]);
});

Deno.test("Exit names the documented codes", () => {
  assert.deepEqual(Exit, { ok: 0, failed: 1, usage: 2, blocked: 3, environment: 4, interrupted: 130 });
});

Deno.test("isBug() is true for a TypeError and a thrown string", () => {
  assert.equal(isBug(new TypeError("x is undefined")), true);
  assert.equal(isBug("oops"), true);
});

Deno.test("isBug() is false for a KinfraError and for a system error with an errno code", () => {
  assert.equal(isBug(new KinfraError("refused")), false);
  assert.equal(isBug(systemError("ENOSPC", "no space")), false);
});

Deno.test("failureMessage() calls a bug an internal error, naming its type", () => {
  assert.equal(failureMessage(new TypeError("x is undefined")), "internal error (TypeError: x is undefined)");
});

Deno.test("failureMessage() gives a deliberate failure's message as it is", () => {
  assert.equal(failureMessage(new KinfraError("port taken")), "port taken");
});

Deno.test("bugOf() finds the innermost bug through wrapping causes", () => {
  const bug = new TypeError("inner");
  const wrapped = new KinfraError("outer", { cause: new KinfraError("middle", { cause: bug }) });
  assert.equal(bugOf(wrapped), bug);
});

Deno.test("bugOf() prefers the innermost of two bugs: its stack is where the bug is", () => {
  const inner = new RangeError("inner");
  assert.equal(bugOf(new Error("outer", { cause: inner })), inner);
});

Deno.test("bugOf() is undefined when no error in the chain is a bug", () => {
  assert.equal(bugOf(new KinfraError("outer", { cause: new KinfraError("inner") })), undefined);
});

Deno.test("fromSystemError() makes a full disk an environment error (exit 4) with what to do", () => {
  const e = fromSystemError(systemError("ENOSPC", "No space left on device (os error 28)"))!;
  assert.deepEqual([e.code, e.message, e.hint], [
    4,
    "No space left on device (os error 28)",
    "Free some space on that disk and run the command again.",
  ]);
});

Deno.test("fromSystemError() makes a NUL byte in a path a usage error", () => {
  const e = fromSystemError(new TypeError("file name contained an unexpected NUL byte"))!;
  assert.equal(e.code, 2);
  assert.match(e.message, /^A path contains a NUL byte: /);
});

Deno.test("fromSystemError() leaves other errors alone", () => {
  assert.equal(fromSystemError(new TypeError("x is undefined")), undefined);
  assert.equal(fromSystemError(systemError("ECONNRESET", "reset")), undefined);
});
