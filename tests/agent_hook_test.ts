/**
 * kinfra as Claude Code's worktree provider, through the real CLI: the WorktreeCreate payload is
 * read without waiting for EOF and only the path is printed; a failed create leaves nothing; remove
 * keeps `done`'s guarantees; install/uninstall leave every other byte of the settings file alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { KINFRA, pathExists, withSandbox, writeFiles } from "./helpers.ts";
import { containersOf, docker, dockerTest, makeProject, randomBase, registryOf } from "./sandbox_helpers.ts";

/** Runs the hook with `payload` written to stdin, which stays open (as a host may keep it). */
async function hook(home: string, action: string, payload: unknown, cwd?: string) {
  const child = new Deno.Command(KINFRA[0], {
    args: [...KINFRA.slice(1), "agent-hook", "claude-code", action],
    cwd,
    env: { KINFRA_HOME: home, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(payload) + "\n"));
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output().finally(() => clearTimeout(timeout));
  await writer.close().catch(() => {});
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, signal: out.signal, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** Claude Code 2.1.197's WorktreeCreate payload (the fields it sends, and only those). */
const createPayload = (name: string, cwd: string) => ({
  session_id: "0b6a5a41-6a8e-4d7e-9d1c-2f4d1c0c9e11",
  // A transcript path is any path: braces and quotes in it must not end the JSON object early.
  transcript_path: `${cwd}/.claude-home/projects/} { " odd/0b6a5a41.jsonl`,
  cwd,
  hook_event_name: "WorktreeCreate",
  name,
});

/** Its WorktreeRemove payload: `cwd` is the worktree being removed, as is the hook's working directory. */
const removePayload = (path: string) => ({
  session_id: "0b6a5a41-6a8e-4d7e-9d1c-2f4d1c0c9e11",
  transcript_path: `/tmp/projects/x/0b6a5a41.jsonl`,
  cwd: path,
  prompt_id: "5c1d2f0e-7a7b-4f43-9a57-0d7e3c1f2b10",
  hook_event_name: "WorktreeRemove",
  worktree_path: path,
});

dockerTest(
  "claude-code create: one payload, stdin left open, only the path on stdout; same name resumes; remove is done",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const created = await hook(sb.home, "create", createPayload("agent-7f3a", repo));
    assert.equal(created.signal, null, "it answered before the 60 s kill: no wait for EOF");
    assert.equal(created.code, 0, created.stderr);
    const path = join(sb.dir, `${stem}-impl-agent-7f3a-M1`);
    assert.equal(created.stdout, `${path}\n`, "stdout is the path and nothing else");
    assert.match(created.stderr, /Starting sandbox/, "progress goes to stderr");
    assert.equal(Object.values((await registryOf(sb)).slots)[0].status, "running");
    const settings = JSON.parse(await Deno.readTextFile(join(path, ".claude/settings.local.json")));
    assert.equal(settings.hooks.WorktreeRemove[0].hooks[0].timeout, 600);
    assert.equal(
      settings.hooks.WorktreeCreate[0].hooks[0].timeout,
      620,
      "600 s + the project's health timeout",
    );

    // The same name again (`claude -w agent-7f3a`): the same worktree, its stopped sandbox started.
    assert.equal((await sb.kinfra(["down", path], { cwd: repo })).code, 0);
    const resumed = await hook(sb.home, "create", createPayload("agent-7f3a", repo));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, `${path}\n`);
    assert.equal(Object.values((await registryOf(sb)).slots)[0]?.status, "running");

    await writeFiles(path, { "notes.txt": "agent's work\n" });
    const dirty = await hook(sb.home, "remove", removePayload(path), path);
    assert.equal(dirty.code, 3);
    assert.equal(dirty.stdout, "");
    assert.match(dirty.stderr, /^kinfra: .*uncommitted changes.*\n$/m);
    assert.match(
      dirty.stderr,
      /kinfra done .*agent-7f3a-M1.*remove_dirty = "force"/,
      "hints a hook user can act on",
    );
    assert.doesNotMatch(dirty.stderr, /pass --force/);
    assert.ok(await pathExists(join(path, "notes.txt")), "the agent's work is kept");

    await Deno.remove(join(path, "notes.txt"));
    const removed = await hook(sb.home, "remove", removePayload(path), path);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout.trim(), "");
    assert.equal(await pathExists(path), false);
    assert.deepEqual((await registryOf(sb)).slots, {});
  },
);

dockerTest(
  "claude-code create that fails leaves nothing: one line, non-zero, no worktree, slot or branch",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase(), health: "/missing", healthTimeout: 2 });
    const failed = await hook(sb.home, "create", createPayload("agent-9", repo));
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout.trim(), "");
    const reason = failed.stderr.split("\n").filter((l) => l.startsWith("kinfra: "));
    assert.equal(reason.length, 1, failed.stderr);
    assert.match(reason[0], /health/i);
    assert.equal(await pathExists(join(sb.dir, `${stem}-impl-agent-9-M1`)), false);
    const registry = await registryOf(sb);
    assert.deepEqual([registry.slots, registry.worktrees], [{}, {}]);
    const branches = new Deno.Command("git", { args: ["-C", repo, "branch", "--list", "impl/*"] })
      .outputSync();
    assert.equal(new TextDecoder().decode(branches.stdout).trim(), "");

    const { name: _, ...nameless } = createPayload("x", repo);
    const bad = await hook(sb.home, "create", nameless);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^kinfra: The payload has no "name"/m);
  },
);

Deno.test("claude-code install/uninstall: every other byte of the settings file stays; idempotent", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
    const file = join(repo, ".claude", "settings.json");
    // Four-space indent, a hook of the user's own, a WorktreeCreate of another tool, odd spacing.
    const original =
      `{\n    "model":"opus",\n    "hooks": {\n        "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "lint.sh" } ] } ],\n        "WorktreeRemove": [ { "hooks": [ { "type": "command", "command": "other-tool cleanup" } ] } ]\n    },\n    "permissions": {"allow": ["Bash(git:*)"]}\n}\n`;
    await writeFiles(repo, { ".claude/settings.json": original });
    const install = await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo });
    assert.equal(install.code, 0, install.stderr);
    const installed = await Deno.readTextFile(file);
    const parsed = JSON.parse(installed);
    const before = JSON.parse(original);
    assert.deepEqual(parsed.permissions, before.permissions);
    assert.deepEqual(parsed.hooks.PreToolUse, before.hooks.PreToolUse);
    assert.equal(parsed.hooks.WorktreeRemove[0].hooks[0].command, "other-tool cleanup");
    assert.match(parsed.hooks.WorktreeCreate[0].hooks[0].command, /\/kinfra agent-hook claude-code create$/);
    assert.match(parsed.hooks.WorktreeRemove[1].hooks[0].command, /\/kinfra agent-hook claude-code remove$/);
    // Only insertions: the original's lines are all still there, in order, untouched.
    assert.ok(installed.startsWith(original.split('"WorktreeRemove"')[0]), installed);
    assert.match(installed, /\n {8}"WorktreeCreate": \[\n {12}\{/, "in the file's own indent");

    // Timeouts sized for a sandbox start: 600 s plus the health wait (none here: the default 60 s).
    assert.equal(parsed.hooks.WorktreeCreate[0].hooks[0].timeout, 660);
    assert.equal(parsed.hooks.WorktreeRemove[1].hooks[0].timeout, 600);

    const again = await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo });
    assert.match(again.stdout, /Nothing to do/);
    assert.equal(await Deno.readTextFile(file), installed, "idempotent");

    // An entry of an older install (no timeout) gets one; nothing else in the file moves.
    const old = installed.replace(/,\n\s*"timeout": 660/, "");
    await Deno.writeTextFile(file, old);
    assert.equal((await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo })).code, 0);
    assert.equal(await Deno.readTextFile(file), installed, "the timeout is back where install puts it");

    const uninstall = await sb.kinfra(["agent-hook", "claude-code", "uninstall"], { cwd: repo });
    assert.equal(uninstall.code, 0, uninstall.stderr);
    assert.equal(await Deno.readTextFile(file), original, "byte for byte what it was");

    // --user writes ~/.claude/settings.json, creating it.
    const user = await sb.kinfra(["agent-hook", "claude-code", "install", "--user"], {
      cwd: repo,
      env: { HOME: sb.dir },
    });
    assert.equal(user.code, 0, user.stderr);
    const userHooks = JSON.parse(await Deno.readTextFile(join(sb.dir, ".claude/settings.json"))).hooks;
    assert.equal(userHooks.WorktreeCreate.length, 1);
    assert.equal(userHooks.WorktreeCreate[0].hooks[0].timeout, 4200, "any project: the longest health wait");
    await sb.kinfra(["agent-hook", "claude-code", "uninstall", "--user"], {
      cwd: repo,
      env: { HOME: sb.dir },
    });
    assert.equal(await Deno.readTextFile(join(sb.dir, ".claude/settings.json")), "{}\n");
  }));

dockerTest(
  "a worktree removed behind kinfra's back (Claude's old fallback): gc stops its sandbox, frees its slot, drops it",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const created = await hook(sb.home, "create", createPayload("gone", repo));
    assert.equal(created.code, 0, created.stderr);
    const path = created.stdout.trim();
    const slot = Object.keys((await registryOf(sb)).slots)[0];
    assert.ok((await containersOf(`${stem}-slot-${slot}`)).length > 0);
    // What Claude did on /exit when it found no WorktreeRemove hook.
    const git = new Deno.Command("git", { args: ["-C", repo, "worktree", "remove", "--force", path] })
      .outputSync();
    assert.ok(git.success, new TextDecoder().decode(git.stderr));

    const gc = await sb.kinfra(["--json", "gc"], { cwd: repo });
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(gc.json<{ worktrees: string[] }>().worktrees, [path]);
    assert.deepEqual(await containersOf(`${stem}-slot-${slot}`), [], "its sandbox is gone");
    const registry = await registryOf(sb);
    assert.deepEqual([registry.slots, registry.worktrees], [{}, {}], "slot released, entry dropped");
  },
);

Deno.test("claude-code create on a worktree with the user's own settings.local.json: hooks added, the file stays work", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
    assert.equal((await sb.kinfra(["spec", "feat-u"], { cwd: repo })).code, 0);
    const path = join(sb.dir, "shop-spec-feat-u");
    const mine = '{\n  "permissions": { "allow": ["Bash(ls)"] }\n}\n';
    await writeFiles(path, { ".claude/settings.local.json": mine });

    const resumed = await hook(sb.home, "create", createPayload("feat-u", repo));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, `${path}\n`);
    const settings = JSON.parse(await Deno.readTextFile(join(path, ".claude/settings.local.json")));
    assert.deepEqual(settings.permissions, { allow: ["Bash(ls)"] });
    assert.match(settings.hooks.WorktreeRemove[0].hooks[0].command, /agent-hook claude-code remove$/);
    assert.equal(await pathExists(join(path, ".claude/.gitignore")), false, "the user's file is not hidden");

    const removed = await hook(sb.home, "remove", removePayload(path), path);
    assert.equal(removed.code, 3, "the user's settings are work: not removed without a decision");
    assert.match(await Deno.readTextFile(join(path, ".claude/settings.local.json")), /Bash\(ls\)/);
  }));

dockerTest(
  "claude-code create ended by SIGTERM (Claude's hook timeout): rolled back, worktree removed, exit 130",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase(), health: "/missing", healthTimeout: 120 });
    const child = new Deno.Command(KINFRA[0], {
      args: [...KINFRA.slice(1), "agent-hook", "claude-code", "create"],
      env: { KINFRA_HOME: sb.home, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(createPayload("slow", repo))));
    let stderr = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!/Starting sandbox/.test(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    child.kill("SIGTERM");
    const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const status = await child.status.finally(() => clearTimeout(timeout));
    await child.stdout.cancel();
    await writer.close().catch(() => {});
    assert.equal(status.code, 130, stderr);
    assert.match(stderr, /^kinfra: Interrupted/m);
    const registry = await registryOf(sb);
    assert.deepEqual([registry.slots, registry.worktrees], [{}, {}], "slot released, worktree removed");
    assert.equal(await pathExists(join(sb.dir, `${stem}-impl-slow-M1`)), false);
    const containers = await docker(
      "ps",
      "-a",
      "--filter",
      `label=com.docker.compose.project`,
      "--format",
      "{{.Names}}",
    );
    assert.deepEqual(containers.split("\n").filter((n) => n.startsWith(stem)), [], "no container left");
  },
);
