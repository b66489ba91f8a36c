/**
 * An external plugin's reply (core/hooks/external.ts): stdout is empty or one JSON object of the
 * right shape, and a plugin that prints anything else is told exactly what is wrong. Each test runs
 * a real two-line shell plugin that prints a given reply.
 */
import assert from "node:assert/strict";
import { externalPlugin } from "../../../core/hooks/external.ts";
import type { Manifest } from "../../../core/hooks/manifest.ts";
import type { HookContext } from "../../../core/hooks/plugin_api.ts";
import { silentLogger } from "../../../core/io/output.ts";
import { join } from "../../../core/io/path.ts";
import { kinfraErrorOf } from "../_usage.ts";
import { projectInput } from "../_hooks.ts";

const MANIFEST: Manifest = {
  api: 1,
  name: "echo",
  version: "1",
  description: "",
  command: ["sh", "reply.sh"],
  events: ["worktree.created", "status"],
  order: 50,
  timeout: 30_000,
  timeouts: {},
};

/** What the plugin's handler for `event` returns when the plugin prints `stdout` and exits `code`. */
async function reply(stdout: string, event: "worktree.created" | "status" = "worktree.created", code = 0) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "reply.json"), stdout);
    await Deno.writeTextFile(join(dir, "reply.sh"), `cat "$KINFRA_PLUGIN_DIR/reply.json"\nexit ${code}\n`);
    const plugin = externalPlugin({ name: "echo", dir, manifest: MANIFEST });
    const ctx = {
      ...projectInput(),
      project: { name: "p", prefix: "p", root: dir },
      event,
      home: dir,
      pluginConfig: null,
      signal: new AbortController().signal,
      log: silentLogger,
    } as unknown as HookContext;
    // deno-lint-ignore no-explicit-any
    return await (plugin.hooks as Record<string, (ctx: HookContext) => Promise<any>>)[event](ctx);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const refusal = async (stdout: string, event?: "status") =>
  (await kinfraErrorOf(() => reply(stdout, event))).message;

Deno.test("an external plugin's empty stdout is no reply", async () => {
  assert.equal(await reply(""), undefined);
  assert.equal(await reply("  \n"), undefined);
});

Deno.test("an external plugin's JSON object is its reply", async () => {
  assert.deepEqual(await reply('{"env":{"A":"1"},"messages":["hi"],"state":{"n":1}}'), {
    env: { A: "1" },
    messages: ["hi"],
    state: { n: 1 },
  });
});

Deno.test("an external plugin that exits 100 is not applicable: no reply, whatever it printed", async () => {
  assert.equal(await reply("not json", "worktree.created", 100), undefined);
});

Deno.test("an external plugin's non-zero exit is an error naming the code", async () => {
  assert.equal((await kinfraErrorOf(() => reply("", "worktree.created", 3))).message, "exited with code 3.");
});

Deno.test("an external plugin's stdout that is not JSON is refused, quoting its start, with where logs go", async () => {
  const e = await kinfraErrorOf(() => reply("starting...\n"));
  assert.equal(e.message, 'printed something that is not JSON on stdout: "starting..."');
  assert.equal(e.hint, "A plugin's stdout must be empty or one JSON document; write logs to stderr.");
});

Deno.test("an external plugin's non-JSON stdout is quoted to 80 characters", async () => {
  assert.equal(
    await refusal("x".repeat(200)),
    `printed something that is not JSON on stdout: "${"x".repeat(80)}"`,
  );
});

Deno.test("an external plugin's reply must be an object, not an array or a string", async () => {
  assert.equal(await refusal("[1]"), "replied with invalid JSON for worktree.created: expected an object");
  assert.equal(await refusal('"ok"'), "replied with invalid JSON for worktree.created: expected an object");
});

Deno.test("an external plugin's env must map names to strings", async () => {
  assert.equal(
    await refusal('{"env":{"A":1}}'),
    'replied with invalid JSON for worktree.created: "env" must be an object of strings',
  );
  assert.equal(
    await refusal('{"env":["A=1"]}'),
    'replied with invalid JSON for worktree.created: "env" must be an object of strings',
  );
});

Deno.test("an external plugin's messages must be an array of strings", async () => {
  assert.equal(
    await refusal('{"messages":"hi"}'),
    'replied with invalid JSON for worktree.created: "messages" must be an array of strings',
  );
  assert.equal(
    await refusal('{"messages":[1]}'),
    'replied with invalid JSON for worktree.created: "messages" must be an array of strings',
  );
});

Deno.test("an external plugin's compose, status and state must be objects", async () => {
  for (const key of ["compose", "status", "state"]) {
    assert.equal(
      await refusal(`{"${key}":[]}`),
      `replied with invalid JSON for worktree.created: "${key}" must be an object`,
    );
  }
});

Deno.test("an external plugin's veto must be a string and its checks an array", async () => {
  assert.equal(
    await refusal('{"veto":true}'),
    'replied with invalid JSON for worktree.created: "veto" must be a string',
  );
  assert.equal(
    await refusal('{"checks":{}}', "status"),
    'replied with invalid JSON for status: "checks" must be an array',
  );
});

Deno.test("an external plugin's reply nesting deeper than 32 levels is refused", async () => {
  const deep = (n: number) => '{"state":' + '{"a":'.repeat(n) + "1" + "}".repeat(n) + "}";
  assert.deepEqual(Object.keys(await reply(deep(30))), ["state"]);
  assert.equal(
    await refusal(deep(40)),
    "replied with invalid JSON for worktree.created: it nests deeper than 32 levels",
  );
});
