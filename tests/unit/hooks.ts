/** The dispatcher: order, rollback on setup failure, teardown that goes on, vetoes. */
import assert from "node:assert/strict";
import { Hooks } from "../../core/hooks/dispatch.ts";
import { definePlugin, type EventName, type Plugin } from "../../core/hooks/plugin_api.ts";
import { Rollback } from "../../core/hooks/rollback.ts";
import type { SlotInput } from "../../core/hooks/inputs.ts";
import { hookEnvironment, slotInput } from "./_hooks.ts";
import { silentLogger } from "../../core/io/output.ts";
import { KinfraError } from "../../core/errors.ts";

const input = () => slotInput();

/** A plugin that records each call into `calls` and fails on `failOn`. */
function recorder(name: string, order: number, calls: string[], failOn?: EventName): Plugin {
  const hook = (event: EventName) => () => {
    calls.push(`${name}:${event}`);
    if (event === failOn) throw new KinfraError(`${name} broke`);
    return event === "worktree.created" ? { env: { [`${name.toUpperCase()}_SEEN`]: "1" } } : {};
  };
  const events: EventName[] = [
    "worktree.created",
    "sandbox.start",
    "sandbox.stop",
    "worktree.removed",
    "slot.released",
  ];
  return definePlugin({ name, order, hooks: Object.fromEntries(events.map((e) => [e, hook(e)])) });
}

const env = hookEnvironment;

Deno.test("setup runs plugins in ascending order and later plugins see earlier env", async () => {
  const calls: string[] = [];
  const seen: string[] = [];
  const peek = definePlugin({
    name: "peek",
    order: 90,
    hooks: { "worktree.created": (ctx) => void seen.push(...Object.keys(ctx.env)) },
  });
  const hooks = new Hooks([recorder("b", 60, calls), peek, recorder("a", 10, calls)], env);
  await hooks.setup("worktree.created", input());
  assert.deepEqual(calls, ["a:worktree.created", "b:worktree.created"]);
  assert.deepEqual(seen, ["A_SEEN", "B_SEEN"]);
});

Deno.test("a setup failure names the plugin, and rollback undoes earlier events in reverse", async () => {
  const calls: string[] = [];
  const hooks = new Hooks([recorder("a", 10, calls), recorder("b", 20, calls, "sandbox.start")], env);
  const rollback = new Rollback(silentLogger);
  const data = input();
  await hooks.setup("worktree.created", data, rollback);
  await assert.rejects(
    () => hooks.setup("sandbox.start", data, rollback),
    /Plugin "b" failed during sandbox\.start: b broke/,
  );
  calls.length = 0;
  await rollback.run();
  // sandbox.stop first (undo of the failed start, descending order), then worktree.removed.
  assert.deepEqual(calls, ["b:sandbox.stop", "a:sandbox.stop", "b:worktree.removed", "a:worktree.removed"]);
});

Deno.test("teardown runs in descending order and goes on after a failure", async () => {
  const calls: string[] = [];
  const hooks = new Hooks([
    recorder("a", 10, calls),
    recorder("b", 20, calls, "sandbox.stop"),
    recorder("c", 30, calls),
  ], env);
  const { failures } = await hooks.teardown("sandbox.stop", input());
  assert.deepEqual(calls, ["c:sandbox.stop", "b:sandbox.stop", "a:sandbox.stop"]);
  assert.deepEqual(failures.map((f) => f.plugin), ["b"]);
});

Deno.test("worktree.removing collects vetoes from every plugin", async () => {
  const veto = (name: string, why?: string) =>
    definePlugin({ name, hooks: { "worktree.removing": () => (why ? { veto: why } : {}) } });
  const hooks = new Hooks([veto("quiet"), veto("agent", "session is running")], env);
  const { replies } = await hooks.teardown("worktree.removing", input());
  assert.deepEqual(replies.filter((r) => r.result.veto).map((r) => r.plugin), ["agent"]);
});

Deno.test("rollback runs every undo even when one fails", async () => {
  const done: string[] = [];
  const rollback = new Rollback(silentLogger);
  rollback.add("one", () => Promise.resolve(void done.push("one")));
  rollback.add("two", () => Promise.reject(new Error("nope")));
  rollback.add("three", () => Promise.resolve(void done.push("three")));
  assert.deepEqual(await rollback.run(), ["two"]);
  assert.deepEqual(done, ["three", "one"]);
});

Deno.test("env after sandbox.prepare and compose outside it are refused, naming the plugin and where to move it", async () => {
  const late = definePlugin({
    name: "late",
    hooks: { "sandbox.start": () => ({ env: { X: "1" } }) as never },
  });
  const hooks = new Hooks([late], env);
  await assert.rejects(
    () => hooks.setup("sandbox.start", input()),
    (e: Error & { hint?: string }) =>
      /Plugin "late" returned "env" during sandbox\.start, where it would be lost/.test(e.message) &&
      /sandbox\.prepare or earlier/.test(e.hint ?? ""),
  );
  const early = definePlugin({ name: "early", hooks: { "slot.claimed": () => ({ compose: {} }) as never } });
  await assert.rejects(
    () => new Hooks([early], env).setup("slot.claimed", input()),
    /Plugin "early" returned "compose" during slot\.claimed/,
  );
});

Deno.test("a slot event is never dispatched without its slot", async () => {
  const plugin = definePlugin({
    name: "p",
    hooks: { "sandbox.ready": (ctx) => ({ messages: [ctx.slot.dir] }) },
  });
  await assert.rejects(
    // The types refuse it too; a JavaScript caller (or a cast) gets the runtime check.
    () => new Hooks([plugin], env).setup("sandbox.ready", { ...input(), slot: null } as unknown as SlotInput),
    /sandbox\.ready was dispatched without a slot and a worktree/,
  );
});
