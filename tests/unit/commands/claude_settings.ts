/**
 * core/commands/agents/claude_settings.ts: kinfra's WorktreeCreate/WorktreeRemove hooks added to a
 * Claude Code settings file and taken out again as text edits — every other byte stays, and
 * uninstall after install gives back the original file.
 */
import assert from "node:assert/strict";
import { installHooks, uninstallHooks } from "../../../core/commands/agents/claude_settings.ts";
import { usageOf } from "../_usage.ts";

const hook = (action: string) => ({ command: `kinfra agent-hook claude-code ${action}`, timeout: 600 });
const install = (text: string) => installHooks(text, "settings.json", hook);
const uninstall = (text: string) => uninstallHooks(text, "settings.json", hook);

const OTHER_HOOKS = `{
  // the user's own settings, with a comment
  "model": "opus",
  "hooks": {
    "PreToolUse": [{ "matcher": "Bash", "hooks": [{ "type": "command", "command": "audit" }] }]
  },
  "permissions": { "allow": ["Bash(ls)"] },
}
`;

Deno.test("installHooks() writes both hooks into an empty file", () => {
  const hooks = JSON.parse(install("")).hooks;
  assert.deepEqual(hooks, {
    WorktreeCreate: [{
      hooks: [{ type: "command", command: "kinfra agent-hook claude-code create", timeout: 600 }],
    }],
    WorktreeRemove: [{
      hooks: [{ type: "command", command: "kinfra agent-hook claude-code remove", timeout: 600 }],
    }],
  });
});

Deno.test("installHooks() changes nothing when kinfra's hooks are there already", () => {
  const once = install(OTHER_HOOKS);
  assert.equal(install(once), once);
});

Deno.test("installHooks() keeps comments, other settings and other hooks byte for byte", () => {
  const out = install(OTHER_HOOKS);
  assert.ok(
    out.startsWith(`{\n  // the user's own settings, with a comment\n  "model": "opus",\n  "hooks": {\n`),
    out,
  );
  assert.ok(
    out.includes(
      `"PreToolUse": [{ "matcher": "Bash", "hooks": [{ "type": "command", "command": "audit" }] }]`,
    ),
  );
  assert.ok(out.endsWith(`  "permissions": { "allow": ["Bash(ls)"] },\n}\n`), out);
});

Deno.test("installHooks() adds its group beside another WorktreeCreate group, keeping that one", () => {
  const theirs =
    `{\n  "hooks": {\n    "WorktreeCreate": [{ "hooks": [{ "type": "command", "command": "mine" }] }]\n  }\n}\n`;
  const groups = JSON.parse(install(theirs)).hooks.WorktreeCreate;
  assert.deepEqual(groups.map((g: { hooks: { command: string }[] }) => g.hooks[0].command), [
    "mine",
    "kinfra agent-hook claude-code create",
  ]);
});

Deno.test("installHooks() indents with the file's own unit (a tab here)", () => {
  const out = install('{\n\t"model": "opus"\n}\n');
  assert.match(out, /\n\t"hooks": \{\n\t\t"WorktreeCreate": \[\n\t\t\t\{/);
});

Deno.test("installHooks() refuses a file that is not a JSON object, leaving it alone", () => {
  assert.equal(
    usageOf(() => install("[1, 2]")),
    "settings.json is not a JSON object; kinfra leaves it alone. | Fix it, then run this again.",
  );
  assert.match(usageOf(() => install('{ "a": ')), /^settings\.json is not a JSON object/);
});

Deno.test("installHooks() refuses hooks.WorktreeCreate that is not a list", () => {
  assert.equal(
    usageOf(() => install('{ "hooks": { "WorktreeCreate": {} } }')),
    "settings.json: hooks.WorktreeCreate is not a list; kinfra leaves it alone. | ",
  );
});

Deno.test("uninstallHooks() after installHooks() gives back the original file exactly", () => {
  for (const original of [OTHER_HOOKS, '{\n\t"model": "opus"\n}\n', "{}\n"]) {
    assert.equal(uninstall(install(original)), original, original);
  }
});

Deno.test("uninstallHooks() keeps another group of the same event", () => {
  const theirs =
    `{\n  "hooks": {\n    "WorktreeCreate": [{ "hooks": [{ "type": "command", "command": "mine" }] }]\n  }\n}\n`;
  assert.equal(uninstall(install(theirs)), theirs);
});

Deno.test("uninstallHooks() of a file without kinfra's hooks changes nothing", () => {
  assert.equal(uninstall(OTHER_HOOKS), OTHER_HOOKS);
});
