/** The pure parts of `agent-hook`: payload reading, names, settings edits with timeouts, host liveness. */
import assert from "node:assert/strict";
import { readOneObject } from "../../core/commands/agents/hook_payload.ts";
import { featureName } from "../../core/commands/agents/claude_create.ts";
import { installHooks, uninstallHooks } from "../../core/commands/agents/claude_settings.ts";
import { hookTimeouts } from "../../core/commands/agents/claude_worktree.ts";
import { hostAlive } from "../../core/io/host_process.ts";
import { agentWorktree } from "../../core/project/agent_worktrees.ts";
import type { WorktreeEntry } from "../../core/slots/registry.ts";
import { KinfraError } from "../../core/errors.ts";

/** A stream that sends `text` and then stays open, as Claude Code's stdin does. */
const openStream = (text: string) =>
  new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode(text)) });

Deno.test("readOneObject() returns the first object while stdin stays open, braces in strings and all", async () => {
  const payload = { cwd: "/r", name: "x", transcript_path: '/t/} { " odd.jsonl' };
  assert.deepEqual(await readOneObject(openStream(JSON.stringify(payload) + "\n")), payload);
});

Deno.test("readOneObject() refuses a payload that is not an object (exit 2)", async () => {
  await assert.rejects(readOneObject(openStream("[1, 2]")), (e) => e instanceof KinfraError && e.code === 2);
});

Deno.test("featureName() turns a host's proposed name into a valid feature name", () => {
  assert.equal(featureName("feat x/y"), "feat-x-y");
  assert.equal(featureName("..agent.lock"), "agent");
  assert.throws(() => featureName("///"), KinfraError);
});

const hooks = (timeouts: Record<string, number>) => (action: string) => ({
  command: `/bin/kinfra agent-hook claude-code ${action}`,
  timeout: timeouts[action],
});

Deno.test("hookTimeouts() gives create 600 s plus the health wait, remove 600 s", () => {
  assert.deepEqual(hookTimeouts(60), { create: 660, remove: 600 });
  assert.deepEqual(hookTimeouts(), { create: 4200, remove: 600 }, "--user: the longest allowed health wait");
});

Deno.test("installHooks() writes each entry with its timeout; a new timeout replaces only that number", () => {
  const first = installHooks("", "s.json", hooks(hookTimeouts(60)));
  const parsed = JSON.parse(first).hooks;
  assert.equal(parsed.WorktreeCreate[0].hooks[0].timeout, 660);
  assert.equal(parsed.WorktreeRemove[0].hooks[0].timeout, 600);
  assert.equal(installHooks(first, "s.json", hooks(hookTimeouts(60))), first, "idempotent");
  const longer = installHooks(first, "s.json", hooks(hookTimeouts(300)));
  assert.equal(longer, first.replace('"timeout": 660', '"timeout": 900'));
  assert.equal(uninstallHooks(longer, "s.json", hooks(hookTimeouts(60))), "{}\n", "found by command alone");
});

Deno.test("hostAlive() is false for a process that has ended, true for this one", async () => {
  const child = new Deno.Command("true").spawn();
  const pid = child.pid;
  const started = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.split(" ")[19] ?? "";
  await child.status;
  assert.equal(hostAlive({ pid, started, host: Deno.hostname() }), false);
  const self = Deno.readTextFileSync(`/proc/${Deno.pid}/stat`);
  const mine = {
    pid: Deno.pid,
    started: self.slice(self.lastIndexOf(")") + 2).split(" ")[19],
    host: Deno.hostname(),
  };
  assert.equal(hostAlive(mine), true);
  assert.equal(hostAlive({ ...mine, started: "1" }), false, "a reused pid is another process");
  assert.equal(hostAlive({ ...mine, pid: 999999999, host: "elsewhere" }), true, "another host: cannot tell");
});

Deno.test("hostProcess() seen from a hook run through `sh -c` is the process that ran the shell", async () => {
  // The hook's position as Claude Code runs it: host (this test runner) → sh -c → kinfra.
  const module = new URL("../../core/io/host_process.ts", import.meta.url).href;
  const code = `const { hostProcess } = await import(${
    JSON.stringify(module)
  }); console.log(hostProcess()?.pid);`;
  const out = await new Deno.Command("sh", {
    args: ["-c", `"$0" eval "$1"; exit $?`, Deno.execPath(), code], // no exec: sh stays in between
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), String(Deno.pid));
});

Deno.test("agentWorktree() says whose an ended agent's worktree is, its kept sandbox, and how to remove it", () => {
  const entry = {
    path: "/p/shop-impl-a-M1",
    slot: 3,
    agent: {
      host: "claude-code",
      session_id: "s1",
      process: { pid: 999999999, started: "1", host: Deno.hostname() },
      files: [],
    },
  } as unknown as WorktreeEntry;
  const agent = agentWorktree(entry)!;
  assert.equal(agent.host_running, false);
  assert.match(
    agent.explanation,
    /Claude Code session s1, which ended .*slot 3.*`kinfra done shop-impl-a-M1`/,
  );
  assert.equal(agentWorktree({ ...entry, agent: undefined }), undefined);
});
