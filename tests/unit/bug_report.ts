/** Unexpected errors say they are bugs, wherever they are thrown, and `-v` shows the bug's own stack. */
import assert from "node:assert/strict";
import { Hooks } from "../../core/hooks/dispatch.ts";
import { makeStyle } from "../../core/io/output.ts";
import { definePlugin } from "../../core/hooks/plugin_api.ts";
import { hookEnvironment, projectInput, slotInput } from "./_hooks.ts";
import { bugOf, failureMessage, isBug, KinfraError, usageError } from "../../core/errors.ts";
import { reportError } from "../../core/cli/report.ts";

const input = projectInput();
const env = hookEnvironment;

/** A plugin whose worktree.created handler has a real TypeError in it. */
const broken = definePlugin({
  name: "broken",
  order: 10,
  hooks: {
    "worktree.created": () => {
      const missing = undefined as unknown as { slot: { id: number } };
      return { env: { ID: String(missing.slot.id) } };
    },
  },
});

/** Runs reportError on `error` and returns what it printed to stderr. */
function reported(error: unknown, verbose: boolean): string {
  const chunks: Uint8Array[] = [];
  const write = Deno.stderr.writeSync;
  Deno.stderr.writeSync = (p: Uint8Array) => (chunks.push(p.slice()), p.length);
  try {
    reportError(error, { json: false, verbose, style: makeStyle(false) });
  } finally {
    Deno.stderr.writeSync = write;
  }
  return chunks.map((c) => new TextDecoder().decode(c)).join("");
}

Deno.test("isBug() is true for a TypeError and false for a KinfraError or an errno error", () => {
  assert.equal(isBug(new TypeError("x is undefined")), true);
  assert.equal(isBug(usageError("bad name")), false);
  assert.equal(isBug(Object.assign(new Error("no space"), { code: "ENOSPC" })), false);
});

Deno.test("failureMessage() names a bug's kind and keeps a user error's message as it is", () => {
  assert.equal(failureMessage(new TypeError("x is undefined")), "internal error (TypeError: x is undefined)");
  assert.equal(failureMessage(usageError("bad name")), "bad name");
});

Deno.test("bugOf() finds the TypeError under two wrapping KinfraErrors", () => {
  const bug = new TypeError("deep");
  const wrapped = new KinfraError("outer", { cause: new KinfraError("inner", { cause: bug }) });
  assert.equal(bugOf(wrapped), bug);
  assert.equal(bugOf(new KinfraError("plain")), undefined);
});

Deno.test("a TypeError in a plugin's setup handler is reported as a bug in that plugin", async () => {
  const hooks = new Hooks([broken], env);
  const error = await hooks.setup("worktree.created", input).then(() => undefined, (e) => e);
  assert.ok(error instanceof KinfraError);
  assert.match(
    error.message,
    /^Plugin "broken" failed during worktree\.created: internal error \(TypeError: /,
  );
  assert.match(error.hint ?? "", /bug in the plugin "broken".*-v for the stack trace/);
});

Deno.test("-v prints the stack of a plugin's TypeError through the plugin failure that wraps it", async () => {
  const error = await new Hooks([broken], env).setup("worktree.created", input).then(
    () => undefined,
    (e) => e,
  );
  const verbose = reported(error, true);
  assert.match(verbose, /TypeError: Cannot read properties of undefined/);
  assert.match(verbose, /bug_report\.ts:\d+/, "the stack points at the broken handler");
  assert.doesNotMatch(reported(error, false), /bug_report\.ts:\d+/, "no stack without -v");
});

Deno.test("a failing teardown plugin's bug is named as one in the collected failures", async () => {
  const stopper = definePlugin({
    name: "stopper",
    order: 10,
    hooks: {
      "sandbox.stop": () => {
        throw new RangeError("index 3 out of range");
      },
    },
  });
  const { failures } = await new Hooks([stopper], env).teardown("sandbox.stop", slotInput());
  assert.deepEqual(failures.map((f) => f.message), ["internal error (RangeError: index 3 out of range)"]);
});

Deno.test("an errno error kinfra has no words for is an Internal error, and -v shows its stack as the hint says", () => {
  const error = Object.assign(new Error("File name too long (os error 36)"), { code: "ENAMETOOLONG" });
  const plain = reported(error, false);
  assert.match(plain, /Internal error: File name too long[^]*Run again with -v for the stack trace/);
  assert.ok(reported(error, true).includes(error.stack!), "the stack, with -v");
});
