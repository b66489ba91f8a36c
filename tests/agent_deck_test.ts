/** agent-deck sessions through a stand-in that behaves like v1.14.0, and the kworktree skill. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSandbox, pathExists, type Sandbox, withSandbox } from "./helpers.ts";
import { PROGRAM } from "../core/cli/program.ts";

const FAKE_BIN = new URL("./fixtures/bin", import.meta.url).pathname;

async function withDeck(
  fn: (sb: Sandbox, env: Record<string, string>, calls: () => Promise<string[][]>) => Promise<void>,
) {
  const sb = await makeSandbox();
  const deckDir = join(sb.dir, "deck");
  const env = { PATH: `${FAKE_BIN}:${Deno.env.get("PATH")}`, FAKE_AGENT_DECK_DIR: deckDir };
  const calls = async () =>
    (await Deno.readTextFile(join(deckDir, "calls.log")).catch(() => "")).split("\n").filter(Boolean)
      .map((line) => line.split("\x1f").slice(0, -1));
  try {
    await fn(sb, env, calls);
  } finally {
    await sb.cleanup();
  }
}

const project = (sb: Sandbox, extra = "") =>
  sb.repo("shop", {
    ".devops-ai/infra.toml":
      `[project]\nname = "shop"\n[plugins.agent-deck]\ngroup = "team"\nsend_delay = "1500ms"\n${extra}`,
    "docs/checkout/M1-payments.md": "# M1\n",
  });

Deno.test("impl --session: add, session start, show until ready, send the milestone message — in that order", () =>
  withDeck(async (sb, env, calls) => {
    const repo = await project(sb);
    const run = await sb.kinfra(["--json", "impl", "checkout/M1", "--no-sandbox", "--session"], {
      cwd: repo,
      env: { ...env, FAKE_READY_AFTER: "3" },
    });
    assert.equal(run.code, 0, run.stderr);
    const path = join(sb.dir, "shop-impl-checkout-M1");
    const id = "a1b2c3d4-1";
    assert.deepEqual(await calls(), [
      ["add", path, "-t", "shop checkout/M1", "-c", "claude", "-g", "team", "--json"],
      ["session", "start", id],
      ["session", "show", id, "--json"],
      ["session", "show", id, "--json"],
      ["session", "show", id, "--json"],
      [
        "session",
        "send",
        id,
        `Implement milestone M1 of checkout in ${path} (branch impl/checkout-M1). The milestone is described in docs/checkout/M1-payments.md.`,
      ],
    ]);
    const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
    assert.deepEqual(registry.worktrees[path].plugin_state, { "agent-deck": { session_id: id } });
    const status = (await sb.kinfra(["--json", "status", "checkout-M1"], { cwd: repo, env })).json<
      { plugins: Record<string, unknown> }
    >();
    assert.deepEqual(status.plugins["agent-deck"], { session: id, state: "running" });
  }));

Deno.test("readiness falls back to send_delay when session show cannot tell", () =>
  withDeck(async (sb, env, calls) => {
    const repo = await project(sb);
    const start = performance.now();
    const run = await sb.kinfra(["--json", "spec", "search", "--session"], {
      cwd: repo,
      env: { ...env, FAKE_SHOW_BROKEN: "1" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(performance.now() - start >= 1500, "waited send_delay (1500ms) before sending");
    assert.deepEqual((await calls()).map((c) => c.slice(0, 2).join(" ")), [
      "add " + join(sb.dir, "shop-spec-search"),
      "session start",
      "session show",
      "session send",
    ]);
    assert.match(run.json<{ messages: string[] }>().messages.join(), /waited send_delay 1500 ms/);
  }));

Deno.test("done is refused while the session is running (exit 3); --force stops and removes it, never `agent-deck remove`", () =>
  withDeck(async (sb, env, calls) => {
    const repo = await project(sb);
    assert.equal(
      (await sb.kinfra(["impl", "checkout/M1", "--no-sandbox", "--session"], { cwd: repo, env })).code,
      0,
    );
    const refused = await sb.kinfra(["done", "checkout-M1"], { cwd: repo, env });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /agent-deck session a1b2c3d4-1 is running/);
    assert.equal(await pathExists(join(sb.dir, "shop-impl-checkout-M1")), true);

    const forced = await sb.kinfra(["done", "checkout-M1", "--force"], { cwd: repo, env });
    assert.equal(forced.code, 0, forced.stderr);
    const verbs = (await calls()).map((c) => c.slice(0, 2).join(" "));
    assert.deepEqual(verbs.slice(-3), ["session show", "session stop", "session remove"]);
    assert.ok(!verbs.some((v) => v.startsWith("remove")), "never calls `agent-deck remove`");
    assert.equal(
      await pathExists(join(sb.dir, "deck/sessions/a1b2c3d4-1")),
      false,
      "nothing of the session outlives done",
    );
  }));

Deno.test("an idle session does not block done", () =>
  withDeck(async (sb, env) => {
    const repo = await project(sb);
    const quiet = { ...env, FAKE_AFTER_SEND: "waiting" };
    assert.equal((await sb.kinfra(["spec", "idle", "--session"], { cwd: repo, env: quiet })).code, 0);
    assert.equal((await sb.kinfra(["done", "idle"], { cwd: repo, env: quiet })).code, 0);
  }));

Deno.test("without agent-deck, --session warns once and the worktree is created anyway", () =>
  withDeck(async (sb) => {
    const repo = await project(sb);
    const run = await sb.kinfra(["--json", "spec", "alone", "--session"], {
      cwd: repo,
      env: { PATH: "/usr/bin:/bin" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.match(/agent-deck is not installed/g)?.length, 1);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-alone")), true);
  }));

Deno.test("a failing agent-deck gives one warning and leaves the worktree intact", () =>
  withDeck(async (sb, env) => {
    const repo = await project(sb);
    const run = await sb.kinfra(["spec", "broken", "--session"], {
      cwd: repo,
      env: { ...env, FAKE_FAIL: "add" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /agent-deck: agent-deck add failed \(exit 1\)/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-broken")), true);
  }));

Deno.test("skill install writes SKILL.md for the user and for the project, and keeps a different one without --force", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const home = join(sb.dir, "userhome");
    const user = await sb.kinfra(["--json", "skill", "install", "--user"], {
      cwd: repo,
      env: { HOME: home },
    });
    assert.equal(user.code, 0, user.stderr);
    const userSkill = join(home, ".claude/skills/kworktree/SKILL.md");
    assert.match(await Deno.readTextFile(userSkill), /^---\nname: kworktree\ndescription: /);
    assert.equal((await sb.kinfra(["skill", "install", "--project"], { cwd: repo })).code, 0);
    assert.equal(await pathExists(join(repo, ".claude/skills/kworktree/SKILL.md")), true);
    await Deno.writeTextFile(userSkill, "my own notes");
    assert.equal((await sb.kinfra(["skill", "install"], { cwd: repo, env: { HOME: home } })).code, 3);
    assert.equal(await Deno.readTextFile(userSkill), "my own notes");
  }));

Deno.test("every kinfra command and flag the skill mentions exists", async () => {
  const skill = await Deno.readTextFile(new URL("../templates/skill/kworktree/SKILL.md", import.meta.url));
  const mentions = [...skill.matchAll(/`kinfra ([^`]+)`/g)].map((m) => m[1]);
  assert.ok(mentions.length >= 10, `found ${mentions.length} commands`);
  for (const mention of mentions) {
    const words = mention.split(/\s+/);
    let command = PROGRAM;
    for (const word of words) {
      const sub = command.subcommands?.find((c) => c.name === word);
      if (sub) command = sub;
      else if (!word.startsWith("-")) break;
    }
    assert.notEqual(command, PROGRAM, `"kinfra ${mention}" names no command`);
    const flags = words.filter((w) => w.startsWith("--"));
    const known = [...command.options ?? [], { flags: "--json" }].map((o) => o.flags);
    for (const flag of flags) {
      assert.ok(
        known.some((k) => k.includes(flag)),
        `"kinfra ${mention}": ${flag} is not an option of ${command.name}`,
      );
    }
  }
});
