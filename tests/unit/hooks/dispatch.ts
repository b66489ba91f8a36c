/**
 * core/hooks/dispatch.ts, beyond order and rollback (hooks_test.ts): what a plugin's `env` may hold,
 * how plugins' messages are attributed, and the order among plugins of equal rank.
 */
import assert from "node:assert/strict";
import { Hooks, messagesOf } from "../../../core/hooks/dispatch.ts";
import { definePlugin, type Plugin } from "../../../core/hooks/plugin_api.ts";
import { hookEnvironment, slotInput } from "../_hooks.ts";
import { kinfraErrorOf } from "../_usage.ts";

const input = () => slotInput({ P_WEB_PORT: 8081 });

const environment = hookEnvironment;

/** A plugin answering worktree.created with `env`. */
const giving = (env: Record<string, unknown>): Plugin =>
  definePlugin({
    name: "giver",
    hooks: { "worktree.created": () => ({ env: env as Record<string, string> }) },
  });

/** The message of the error worktree.created fails with when a plugin returns `env`. */
async function refusal(env: Record<string, unknown>): Promise<string> {
  return (await kinfraErrorOf(() => new Hooks([giving(env)], environment).setup("worktree.created", input())))
    .message;
}

Deno.test("Hooks.setup() passes a plugin's well-formed env on to the next plugin", async () => {
  let seen: Record<string, string> = {};
  const peek = definePlugin({
    name: "peek",
    order: 90,
    hooks: { "worktree.created": (ctx) => void (seen = ctx.env) },
  });
  await new Hooks([giving({ DB_URL: "postgres://x", _X: "tab\there" }), peek], environment)
    .setup("worktree.created", input());
  assert.deepEqual(seen, { DB_URL: "postgres://x", _X: "tab\there" });
});

Deno.test("Hooks.setup() refuses an env key that is not a variable name, quoting it", async () => {
  assert.equal(
    await refusal({ "DB-URL": "x" }),
    'Plugin "giver" failed during worktree.created: env key "DB-URL" is not a variable name.',
  );
});

Deno.test("Hooks.setup() refuses an env key starting with a digit", async () => {
  assert.match(await refusal({ "1X": "x" }), /env key "1X" is not a variable name/);
});

Deno.test("Hooks.setup() refuses an env value with a newline, which would end the .env line", async () => {
  assert.equal(
    await refusal({ A: "one\ntwo" }),
    'Plugin "giver" failed during worktree.created: env A has a control character (such as a newline) in its value.',
  );
});

Deno.test("Hooks.setup() refuses an env value that is not a string", async () => {
  assert.match(await refusal({ A: 3 }), /^Plugin "giver" failed during worktree\.created: env A /);
});

Deno.test("Hooks.setup() refuses env that would change one of the slot's ports", async () => {
  assert.equal(
    await refusal({ P_WEB_PORT: "9999" }),
    'Plugin "giver" failed during worktree.created: env P_WEB_PORT is the slot\'s own variable; plugins cannot change it.',
  );
});

Deno.test("Hooks.setup() refuses env that would change the compose project name", async () => {
  assert.match(
    await refusal({ COMPOSE_PROJECT_NAME: "other" }),
    /env COMPOSE_PROJECT_NAME is the slot's own variable/,
  );
});

Deno.test("Hooks.setup()'s env refusal says what a reply's env may hold", async () => {
  const e = await kinfraErrorOf(() =>
    new Hooks([giving({ "a b": "" })], environment).setup("worktree.created", input())
  );
  assert.equal(
    e.hint,
    "Fix the plugin's reply: env keys match ^[A-Za-z_][A-Za-z0-9_]*$ and values are one line.",
  );
});

Deno.test("Hooks orders plugins of equal order by name", async () => {
  const calls: string[] = [];
  const named = (name: string) =>
    definePlugin({ name, hooks: { "worktree.created": () => void calls.push(name) } });
  await new Hooks([named("b"), named("c"), named("a")], environment).setup("worktree.created", input());
  assert.deepEqual(calls, ["a", "b", "c"]);
});

Deno.test("Hooks.only() keeps the plugins it is asked to, in the same order", () => {
  const named = (name: string, order: number) => definePlugin({ name, order, hooks: {} });
  const hooks = new Hooks([named("z", 1), named("y", 2), named("x", 3)], environment);
  assert.deepEqual(hooks.only((p) => p.name !== "y").plugins.map((p) => p.name), ["z", "x"]);
});

Deno.test("messagesOf() prefixes each message with its plugin's name", () => {
  assert.deepEqual(messagesOf([{ plugin: "docker", result: { messages: ["up", "healthy"] } }]), [
    "docker: up",
    "docker: healthy",
  ]);
});

Deno.test("messagesOf() does not prefix a message that already names its plugin", () => {
  assert.deepEqual(messagesOf([{ plugin: "otel", result: { messages: ["otel: traces on"] } }]), [
    "otel: traces on",
  ]);
});

Deno.test("messagesOf() keeps the replies' order and skips replies without messages", () => {
  assert.deepEqual(
    messagesOf([{ plugin: "a", result: { messages: ["1"] } }, { plugin: "b", result: {} }, {
      plugin: "c",
      result: { messages: ["2"] },
    }]),
    ["a: 1", "c: 2"],
  );
});
