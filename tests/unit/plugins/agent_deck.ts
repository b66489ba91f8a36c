/**
 * The agent-deck plugin's own logic: the first message's placeholders, finding the milestone file,
 * reading agent-deck's `--json` replies, and waiting for a new agent. agent-deck itself is played by
 * a scripted `Exec` answering as v1.14.0 does (docs/agent-deck.md); tests/agent_deck_test.ts runs the
 * plugin end to end.
 */
import assert from "node:assert/strict";
import { AgentDeck, DeckError } from "../../../plugins/agent-deck/cli.ts";
import { findMilestoneFile, renderMessage } from "../../../plugins/agent-deck/message.ts";
import { waitReady } from "../../../plugins/agent-deck/readiness.ts";
import type { ExecResult, HookContext } from "../../../core/hooks/plugin_api.ts";
import { writeFiles } from "../_files.ts";

const ctx = (milestone?: string) =>
  ({
    project: { name: "shop", prefix: "shop", root: "/src/shop" },
    worktree: {
      path: "/src/shop-impl-pay-M1",
      branch: milestone ? `impl/pay-${milestone}` : "spec/pay",
      kind: milestone ? "impl" : "spec",
      feature: "pay",
      milestone,
    },
    signal: new AbortController().signal,
  }) as unknown as HookContext<"worktree.ready">;

Deno.test("renderMessage() fills project, feature, milestone, worktree and branch", () => {
  assert.equal(
    renderMessage("{project}: {feature} {milestone} in {worktree} on {branch}", ctx("M1")),
    "shop: pay M1 in /src/shop-impl-pay-M1 on impl/pay-M1",
  );
});

Deno.test("renderMessage() writes {/milestone} as /M1, and as nothing without a milestone", () => {
  assert.equal(renderMessage("docs/{feature}{/milestone}.md", ctx("M1")), "docs/pay/M1.md");
  assert.equal(renderMessage("docs/{feature}{/milestone}.md", ctx()), "docs/pay.md");
});

Deno.test("renderMessage() names the milestone file, or says none was found", () => {
  assert.equal(renderMessage("read {milestone_file}", ctx("M1"), "docs/pay/M1.md"), "read docs/pay/M1.md");
  assert.equal(renderMessage("read {milestone_file}", ctx("M1")), "read (no milestone file found)");
});

Deno.test("renderMessage() leaves unknown placeholders and other braces as written", () => {
  assert.equal(renderMessage("{nope} {Project} {} {{feature}}", ctx("M1")), "{nope} {Project} {} {pay}");
});

async function withTree(files: Record<string, string>, fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir();
  try {
    await writeFiles(root, files);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("findMilestoneFile() prefers a file whose path also names the feature", () =>
  withTree({ "docs/blog/M1.md": "", "docs/pay/M1.md": "", "a/M1-notes.md": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay", "M1"), "docs/pay/M1.md");
  }));

Deno.test("findMilestoneFile() falls back to the first match in path order", () =>
  withTree({ "z/M2.md": "", "b/plan-m2.MD": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay", "M2"), "b/plan-m2.MD");
  }));

Deno.test("findMilestoneFile() looks only at Markdown files", () =>
  withTree({ "M1.txt": "", "M1.md.bak": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay", "M1"), undefined);
  }));

Deno.test("findMilestoneFile() skips dependency and build directories", () =>
  withTree({ "node_modules/pay/M1.md": "", "build/M1.md": "", ".git/M1.md": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay", "M1"), undefined);
  }));

Deno.test("findMilestoneFile() searches four levels deep and no deeper", () =>
  withTree({ "a/b/c/d/M1.md": "", "a/b/c/d/e/pay-M1.md": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay", "M1"), "a/b/c/d/M1.md");
  }));

Deno.test("findMilestoneFile() finds nothing for a worktree without a milestone", () =>
  withTree({ "M1.md": "" }, async (root) => {
    assert.equal(await findMilestoneFile(root, "pay"), undefined);
  }));

/** An AgentDeck whose `agent-deck` answers each call from `replies` in turn, recording the argv. */
function scripted(...replies: Partial<ExecResult>[]) {
  const calls: string[][] = [];
  const deck = new AgentDeck((cmd, args) => {
    calls.push([cmd, ...args]);
    const r = replies.shift() ?? {};
    const code = r.code ?? 0;
    return Promise.resolve({ code, success: code === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" });
  });
  return { deck, calls };
}

Deno.test("AgentDeck.add() asks for --json and --no-parent and returns the new session's id", async () => {
  const { deck, calls } = scripted({ stdout: '{"success":true,"id":"abc123","title":"pay-M1"}' });
  assert.equal(await deck.add({ path: "/w", title: "pay-M1", tool: "claude", group: "shop" }), "abc123");
  assert.deepEqual(calls, [
    ["agent-deck", "add", "/w", "-t", "pay-M1", "-c", "claude", "-g", "shop", "--no-parent", "--json"],
  ]);
});

Deno.test("AgentDeck.add() fails with agent-deck's own error text and code", async () => {
  const { deck } = scripted({
    code: 1,
    stdout: '{"success":false,"error":"title taken","code":"ALREADY_EXISTS"}',
  });
  await assert.rejects(
    () => deck.add({ path: "/w", title: "t", tool: "claude" }),
    (e) =>
      e instanceof DeckError && e.message === "agent-deck add failed (exit 1, ALREADY_EXISTS): title taken",
  );
});

Deno.test("AgentDeck.add() fails when the reply carries no session id", async () => {
  const { deck } = scripted({ stdout: '{"success":true}' });
  await assert.rejects(
    () => deck.add({ path: "/w", title: "t", tool: "claude" }),
    (e) =>
      e instanceof DeckError &&
      e.message === 'agent-deck add failed (exit 0): its reply has no session id: {"success":true}',
  );
});

Deno.test("AgentDeck.run() takes success:false as a failure even with exit 0", async () => {
  const { deck } = scripted({ stdout: '{"success":false,"error":"nope"}' });
  const r = await deck.run(["session", "start", "x"]);
  assert.deepEqual([r.ok, r.error], [false, "nope"]);
});

Deno.test("AgentDeck.run() falls back to stderr, then stdout, for the error text", async () => {
  assert.equal((await scripted({ code: 1, stderr: " boom \n" }).deck.run(["x"])).error, "boom");
  assert.equal((await scripted({ code: 1, stdout: "plain text" }).deck.run(["x"])).error, "plain text");
  assert.equal((await scripted({ code: 1 }).deck.run(["x"])).error, "no output");
});

Deno.test("AgentDeck.send() puts the message after -- and rounds the timeout up to whole seconds", async () => {
  const { deck, calls } = scripted({ stdout: '{"success":true}' });
  await deck.send("abc", "-v is not a flag here", 1200);
  assert.deepEqual(calls[0], [
    "agent-deck",
    "session",
    "send",
    "abc",
    "--timeout",
    "2s",
    "--json",
    "--",
    "-v is not a flag here",
  ]);
});

Deno.test("AgentDeck.send() waits at least one second", async () => {
  const { deck, calls } = scripted({});
  await deck.send("abc", "hi", 0);
  assert.equal(calls[0][5], "1s");
});

Deno.test("AgentDeck.remove() forces the removal of the session only", async () => {
  const { deck, calls } = scripted({});
  await deck.remove("abc");
  assert.deepEqual(calls[0], ["agent-deck", "session", "remove", "abc", "--force", "--json"]);
});

Deno.test("AgentDeck.status() reads the session's status", async () => {
  assert.equal(
    await scripted({ stdout: '{"success":true,"status":"waiting"}' }).deck.status("abc"),
    "waiting",
  );
});

Deno.test("AgentDeck.status() calls a session agent-deck does not know gone (exit 2 or NOT_FOUND)", async () => {
  assert.equal(await scripted({ code: 2 }).deck.status("abc"), "gone");
  assert.equal(
    await scripted({ code: 1, stdout: '{"success":false,"code":"NOT_FOUND"}' }).deck.status("abc"),
    "gone",
  );
});

Deno.test("AgentDeck.status() is undefined when show fails otherwise or says no status", async () => {
  assert.equal(await scripted({ code: 1, stderr: "tmux gone" }).deck.status("abc"), undefined);
  assert.equal(await scripted({ stdout: '{"success":true}' }).deck.status("abc"), undefined);
});

const FAST = { readyTimeoutMs: 2000, sendDelayMs: 1, pollMs: 1 };
const shows = (...statuses: string[]) =>
  scripted(
    ...statuses.map((s) =>
      s === "?" ? { code: 1 } : { stdout: JSON.stringify({ success: true, status: s }) }
    ),
  )
    .deck;

Deno.test("waitReady() polls until the agent is at its prompt", async () => {
  assert.equal(
    await waitReady(shows("unknown", "running", "idle"), "abc", FAST, ctx("M1")),
    "ready (idle) after 3 poll(s)",
  );
});

Deno.test("waitReady() fails when the agent exits right after start, saying where to look", async () => {
  await assert.rejects(
    () => waitReady(shows("running", "error"), "abc", FAST, ctx("M1")),
    /the agent in session abc exited right after start \(status error; `agent-deck session show abc` says why\)/,
  );
});

Deno.test("waitReady() takes a stopped agent as dead too", async () => {
  await assert.rejects(
    () => waitReady(shows("stopped"), "abc", FAST, ctx("M1")),
    /exited right after start \(status stopped;/,
  );
});

Deno.test("waitReady() fails when the session disappears", async () => {
  await assert.rejects(
    () => waitReady(shows("gone"), "abc", FAST, ctx("M1")),
    /session abc disappeared from agent-deck/,
  );
});

Deno.test("waitReady() waits send_delay instead when show cannot tell", async () => {
  assert.equal(
    await waitReady(shows("?"), "abc", FAST, ctx("M1")),
    "status unreadable, waited send_delay 1 ms",
  );
});

Deno.test("waitReady() gives up after its timeout, saying the last status", async () => {
  const deck = shows(...Array(50).fill("running"));
  const timing = { readyTimeoutMs: 20, sendDelayMs: 1, pollMs: 5 };
  assert.equal(
    await waitReady(deck, "abc", timing, ctx("M1")),
    "still running after 0.02s; agent-deck waits for the prompt before sending",
  );
});
