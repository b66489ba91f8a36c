/**
 * agent-deck sessions through a stand-in that behaves like agent-deck v1.14.0 (tests/fixtures/bin/agent-deck
 * cites the real source for each behaviour), and the kworktree skill.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSandbox, pathExists, type Sandbox, withSandbox } from "./helpers.ts";
import { PROGRAM } from "../core/cli/program.ts";

const FAKE_BIN = new URL("./fixtures/bin", import.meta.url).pathname;

interface Deck {
  dir: string;
  env: Record<string, string>;
  /** Every agent-deck call so far, as argv arrays. */
  calls(): Promise<string[][]>;
  /** The stand-in's record of a session (undefined once agent-deck no longer has it). */
  session(
    id: string,
  ): Promise<{ status: string; parent_session_id: string; delivered: string[] } | undefined>;
  /** Runs the stand-in directly, as a user would. */
  run(
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function withDeck(fn: (sb: Sandbox, deck: Deck) => Promise<void>) {
  const sb = await makeSandbox();
  const dir = join(sb.dir, "deck");
  const env = { PATH: `${FAKE_BIN}:${Deno.env.get("PATH")}`, FAKE_AGENT_DECK_DIR: dir };
  const deck: Deck = {
    dir,
    env,
    calls: async () =>
      (await Deno.readTextFile(join(dir, "calls.log")).catch(() => "")).split("\n").filter(Boolean)
        .map((line) => line.split("\x1f").slice(0, -1)),
    session: async (id) => {
      const text = await Deno.readTextFile(join(dir, "sessions", `${id}.json`)).catch(() => undefined);
      return text === undefined ? undefined : JSON.parse(text);
    },
    run: async (args, extra = {}) => {
      const out = await new Deno.Command(join(FAKE_BIN, "agent-deck"), {
        args,
        env: { ...env, ...extra },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
    },
  };
  try {
    await fn(sb, deck);
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

/** The session id kinfra keeps for the worktree at `path`. */
async function sessionOf(sb: Sandbox, path: string): Promise<string> {
  const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
  return registry.worktrees[path].plugin_state["agent-deck"].session_id;
}

Deno.test("impl --session: add --no-parent, session start, show until the agent is at its prompt (unknown → running → waiting), then send", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const run = await sb.kinfra(["--json", "impl", "checkout/M1", "--no-sandbox", "--session"], {
      cwd: repo,
      env: deck.env,
    });
    assert.equal(run.code, 0, run.stderr);
    const path = join(sb.dir, "shop-impl-checkout-M1");
    const id = await sessionOf(sb, path);
    assert.match(id, /^[0-9a-f]{8}-\d+$/, "agent-deck's own id (GenerateID)");
    const message =
      `Implement milestone M1 of checkout in ${path} (branch impl/checkout-M1). The milestone is described in docs/checkout/M1-payments.md.`;
    assert.deepEqual(await deck.calls(), [
      ["add", path, "-t", "shop checkout/M1", "-c", "claude", "-g", "team", "--no-parent", "--json"],
      ["session", "start", id, "--json"],
      ["session", "show", id, "--json"],
      ["session", "show", id, "--json"],
      ["session", "show", id, "--json"],
      ["session", "send", id, "--timeout", "60s", "--json", "--", message],
    ]);
    assert.deepEqual((await deck.session(id))?.delivered, [message]);
    assert.match(run.json<{ messages: string[] }>().messages.join(), /ready \(waiting\) after 3 poll\(s\)/);
  }));

Deno.test("an agent that dies right after start is reported at once, not after ready_timeout, and nothing is sent", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb, 'ready_timeout = "20s"\n');
    const start = performance.now();
    const run = await sb.kinfra(["spec", "crash", "--session"], {
      cwd: repo,
      env: { ...deck.env, FAKE_BOOT: "unknown error" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /the agent in session \S+ exited right after start \(status error;/);
    assert.ok(performance.now() - start < 15_000, "did not sit out ready_timeout");
    assert.ok(!(await deck.calls()).some((c) => c[1] === "send"), "no message sent to a dead agent");
  }));

Deno.test("a message starting with '-' reaches the agent whole (agent-deck reads flags anywhere; kinfra ends them with --)", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb, 'message = "- write the spec of {feature}"\n');
    const run = await sb.kinfra(["spec", "dash", "--session"], { cwd: repo, env: deck.env });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /warning/);
    const id = await sessionOf(sb, join(sb.dir, "shop-spec-dash"));
    assert.deepEqual((await deck.session(id))?.delivered, ["- write the spec of dash"]);
  }));

Deno.test("an agent never at its prompt: send is bounded by ready_timeout and agent-deck's JSON error is reported", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb, 'ready_timeout = "1s"\n');
    const run = await sb.kinfra(["spec", "slow", "--session"], {
      cwd: repo,
      env: { ...deck.env, FAKE_BOOT: "unknown running" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /agent-deck session send failed \(exit 1, INVALID_OPERATION\): timeout waiting for agent: agent not ready after 1s\. The worktree is ready/,
    );
    const send = (await deck.calls()).find((c) => c[1] === "send")!;
    assert.deepEqual(send.slice(3, 5), ["--timeout", "1s"]);
    const id = await sessionOf(sb, join(sb.dir, "shop-spec-slow"));
    assert.equal((await sb.kinfra(["done", "slow", "--force"], { cwd: repo, env: deck.env })).code, 0);
    assert.equal(await deck.session(id), undefined, "the session went with its worktree");
  }));

Deno.test("done after the session's tmux died: stop says 'not running' (exit 1), remove --force still runs, no orphan session", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    assert.equal((await sb.kinfra(["spec", "lost", "--session"], { cwd: repo, env: deck.env })).code, 0);
    const id = await sessionOf(sb, join(sb.dir, "shop-spec-lost"));
    await Deno.remove(join(deck.dir, "tmux", id)); // tmux killed behind agent-deck's back
    // What the user sees meanwhile: agent-deck reads the dead pane as an error.
    const status = await sb.kinfra(["--json", "status", "lost"], { cwd: repo, env: deck.env });
    assert.equal(
      status.json<{ plugins: Record<string, { state: string }> }>().plugins["agent-deck"].state,
      "error",
    );

    const done = await sb.kinfra(["--json", "done", "lost"], { cwd: repo, env: deck.env });
    assert.equal(done.code, 0, done.stderr);
    // `--force`: agent-deck's stored status is still the one `start` saved, which it would refuse.
    const tail = (await deck.calls()).slice(-2);
    assert.deepEqual(tail, [["session", "stop", id, "--json"], [
      "session",
      "remove",
      id,
      "--force",
      "--json",
    ]]);
    assert.equal(await deck.session(id), undefined, "no orphan session in agent-deck");
    assert.match(
      done.json<{ messages: string[] }>().messages.join(),
      /removed \(stop: session '.*' is not running\)/,
    );
    assert.equal(await pathExists(join(sb.dir, "shop-spec-lost")), false);
  }));

Deno.test("done is refused while the agent is running (exit 3); --force stops and removes it, never `agent-deck remove`", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    assert.equal(
      (await sb.kinfra(["impl", "checkout/M1", "--no-sandbox", "--session"], { cwd: repo, env: deck.env }))
        .code,
      0,
    );
    const id = await sessionOf(sb, join(sb.dir, "shop-impl-checkout-M1"));
    const refused = await sb.kinfra(["done", "checkout-M1"], { cwd: repo, env: deck.env });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, new RegExp(`agent-deck session ${id} is running`));
    assert.equal(await pathExists(join(sb.dir, "shop-impl-checkout-M1")), true);

    const forced = await sb.kinfra(["done", "checkout-M1", "--force"], { cwd: repo, env: deck.env });
    assert.equal(forced.code, 0, forced.stderr);
    const verbs = (await deck.calls()).map((c) => c.slice(0, 2).join(" "));
    assert.deepEqual(verbs.slice(-3), ["session show", "session stop", "session remove"]);
    assert.ok(!verbs.some((v) => v.startsWith("remove")), "never calls `agent-deck remove`");
    assert.equal(await deck.session(id), undefined, "nothing of the session outlives done");
  }));

Deno.test("an agent waiting for its user does not block done", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const quiet = { ...deck.env, FAKE_AFTER_SEND: "waiting" };
    assert.equal((await sb.kinfra(["spec", "idle", "--session"], { cwd: repo, env: quiet })).code, 0);
    assert.equal((await sb.kinfra(["done", "idle"], { cwd: repo, env: quiet })).code, 0);
  }));

Deno.test("status and worktrees show each session's agent-deck state; a waiting agent is marked", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    assert.equal(
      (await sb.kinfra(["spec", "ask", "--session"], {
        cwd: repo,
        env: { ...deck.env, FAKE_AFTER_SEND: "waiting" },
      }))
        .code,
      0,
    );
    assert.equal((await sb.kinfra(["spec", "busy", "--session"], { cwd: repo, env: deck.env })).code, 0);
    assert.equal((await sb.kinfra(["spec", "plain"], { cwd: repo })).code, 0);
    const ask = await sessionOf(sb, join(sb.dir, "shop-spec-ask"));
    const busy = await sessionOf(sb, join(sb.dir, "shop-spec-busy"));

    const status = await sb.kinfra(["--json", "status", "ask"], { cwd: repo, env: deck.env });
    assert.deepEqual(status.json<{ plugins: Record<string, unknown> }>().plugins["agent-deck"], {
      session: ask,
      state: "waiting",
      needs_input: true,
    });
    const text = await sb.kinfra(["status", "ask"], { cwd: repo, env: deck.env });
    assert.match(text.stdout, new RegExp(`agent-deck session ${ask}: waiting ▲ needs your input`));
    const overview = await sb.kinfra(["status"], { cwd: repo, env: deck.env });
    assert.match(overview.stdout, /shop-spec-ask .*agent waiting ▲/);

    const listed = (await sb.kinfra(["--json", "worktrees"], { env: deck.env })).json<
      { worktrees: { name: string; session: unknown }[] }
    >();
    assert.deepEqual(listed.worktrees.map((w) => [w.name, w.session]), [
      ["shop-spec-ask", { id: ask, state: "waiting", needs_input: true }],
      ["shop-spec-busy", { id: busy, state: "running", needs_input: false }],
      ["shop-spec-plain", null],
    ]);
    const table = (await sb.kinfra(["worktrees"], { env: deck.env })).stdout.split("\n");
    assert.match(table[0], /STATUS +AGENT +PATH/);
    assert.match(table.find((l) => l.includes("shop-spec-ask"))!, / waiting ▲ /);
    assert.match(table.find((l) => l.includes("shop-spec-plain"))!, / - +\//);
  }));

Deno.test("a session removed outside kinfra reads 'gone', and done does not fail on it", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    assert.equal((await sb.kinfra(["spec", "away", "--session"], { cwd: repo, env: deck.env })).code, 0);
    const id = await sessionOf(sb, join(sb.dir, "shop-spec-away"));
    assert.equal((await deck.run(["session", "remove", id, "--force"])).code, 0);
    const status = await sb.kinfra(["--json", "status", "away"], { cwd: repo, env: deck.env });
    assert.equal(
      status.json<{ plugins: Record<string, { state: string }> }>().plugins["agent-deck"].state,
      "gone",
    );
    const done = await sb.kinfra(["--json", "done", "away"], { cwd: repo, env: deck.env });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.json<{ messages: string[] }>().messages.join(), /was already gone from agent-deck/);
  }));

Deno.test("run from inside an agent-deck session, the new session is not made its child (--no-parent)", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const caller =
      JSON.parse((await deck.run(["add", repo, "-t", "conductor", "-c", "claude", "--json"])).stdout).id;
    const run = await sb.kinfra(["spec", "child", "--session"], {
      cwd: repo,
      env: { ...deck.env, AGENT_DECK_SESSION_ID: caller },
    });
    assert.equal(run.code, 0, run.stderr);
    const id = await sessionOf(sb, join(sb.dir, "shop-spec-child"));
    assert.equal((await deck.session(id))?.parent_session_id, "");
  }));

Deno.test("a session of the same title at the worktree's path already exists (ALREADY_EXISTS): kinfra says which, and leaves it alone", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const path = join(sb.dir, "shop-spec-search");
    const theirs =
      JSON.parse((await deck.run(["add", path, "-t", "shop search", "-c", "claude", "--json"])).stdout).id;
    const run = await sb.kinfra(["spec", "search", "--session"], { cwd: repo, env: deck.env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `agent-deck already has a session "shop search" at ${path} \\(id ${theirs}\\).*agent-deck session remove ${theirs} --force`,
      ),
    );
    const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
    assert.equal(registry.worktrees[path].plugin_state?.["agent-deck"], undefined, "not adopted");
    assert.equal((await sb.kinfra(["done", "search"], { cwd: repo, env: deck.env })).code, 0);
    assert.notEqual(await deck.session(theirs), undefined, "a session kinfra did not make is not removed");
  }));

Deno.test("a start queued at the group's max_concurrent cap: kinfra says the message was not sent and how to send it", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    assert.equal((await sb.kinfra(["spec", "first", "--session"], { cwd: repo, env: deck.env })).code, 0);
    const first = await sessionOf(sb, join(sb.dir, "shop-spec-first"));
    // agent-deck's TUI saves the live status: the first agent is stored as running.
    const file = join(deck.dir, "sessions", `${first}.json`);
    await Deno.writeTextFile(
      file,
      JSON.stringify({ ...JSON.parse(await Deno.readTextFile(file)), status: "running" }),
    );

    const run = await sb.kinfra(["spec", "second", "--session"], { cwd: repo, env: deck.env });
    assert.equal(run.code, 0, run.stderr);
    const second = await sessionOf(sb, join(sb.dir, "shop-spec-second"));
    assert.match(
      run.stderr,
      new RegExp(
        `agent-deck queued session ${second}: its group "team" is at its max_concurrent cap .*not sent\\. ` +
          `Once the session runs: agent-deck session send ${second} "Write the specification for second .*` +
          `agent-deck group update "team" --max-concurrent 0`,
      ),
    );
    assert.ok(!(await deck.calls()).some((c) => c[2] === second && c[1] !== "start"), "no wait, no send");
    assert.equal((await sb.kinfra(["done", "second"], { cwd: repo, env: deck.env })).code, 0);
    assert.equal(await deck.session(second), undefined);
  }));

Deno.test("the group setting takes the title's placeholders", () =>
  withDeck(async (sb, deck) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml":
        `[project]\nname = "shop"\n[plugins.agent-deck]\ngroup = "{project}/{feature}"\n`,
    });
    assert.equal((await sb.kinfra(["spec", "ideas", "--session"], { cwd: repo, env: deck.env })).code, 0);
    const add = (await deck.calls()).find((c) => c[0] === "add")!;
    assert.deepEqual(add.slice(add.indexOf("-g"), add.indexOf("-g") + 2), ["-g", "shop/ideas"]);
  }));

Deno.test("readiness falls back to send_delay when session show cannot tell", () =>
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const start = performance.now();
    const run = await sb.kinfra(["--json", "spec", "search", "--session"], {
      cwd: repo,
      env: { ...deck.env, FAKE_SHOW_BROKEN: "1" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(performance.now() - start >= 1500, "waited send_delay (1500ms) before sending");
    assert.deepEqual((await deck.calls()).map((c) => c.slice(0, 2).join(" ")), [
      "add " + join(sb.dir, "shop-spec-search"),
      "session start",
      "session show",
      "session send",
    ]);
    assert.match(run.json<{ messages: string[] }>().messages.join(), /waited send_delay 1500 ms/);
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
  withDeck(async (sb, deck) => {
    const repo = await project(sb);
    const run = await sb.kinfra(["spec", "broken", "--session"], {
      cwd: repo,
      env: { ...deck.env, FAKE_FAIL: "add" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /agent-deck: agent-deck add failed \(exit 1\): Error: failed to initialize storage/,
    );
    assert.equal(await pathExists(join(sb.dir, "shop-spec-broken")), true);
  }));

Deno.test("the stand-in answers as agent-deck v1.14.0 does on what kinfra relies on", () =>
  withDeck(async (_sb, deck) => {
    assert.equal((await deck.run(["version"])).stdout, "Agent Deck v1.14.0\n");
    const added = JSON.parse((await deck.run(["add", "/tmp/x", "-t", "t", "-c", "claude", "--json"])).stdout);
    const dup = await deck.run(["add", "/tmp/x", "-t", "t", "-c", "claude", "--json"]);
    assert.equal(dup.code, 1);
    assert.deepEqual(
      { ...JSON.parse(dup.stdout), error: undefined },
      {
        existing_id: added.id,
        existing_title: "t",
        location: "/tmp/x",
        success: false,
        error: undefined,
        code: "ALREADY_EXISTS",
      },
    );
    assert.equal((await deck.run(["session", "show", "nope", "--json"])).code, 2);
    assert.equal((await deck.run(["session", "start", added.id])).code, 0);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(JSON.parse((await deck.run(["session", "show", added.id, "--json"])).stdout).status);
    }
    assert.deepEqual(statuses, ["unknown", "running", "waiting"]);
    const refused = await deck.run(["session", "remove", added.id, "--json"]);
    assert.equal(refused.code, 1);
    assert.match(
      JSON.parse(refused.stdout).error,
      /in state 'starting'; only stopped\/error sessions may be removed without --force/,
    );
    await Deno.remove(join(deck.dir, "tmux", added.id));
    const stop = await deck.run(["session", "stop", added.id]);
    assert.deepEqual([stop.code, stop.stderr], [1, "Error: session 't' is not running\n"]);
    assert.equal((await deck.run(["session", "remove", added.id, "--force"])).code, 0);
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
