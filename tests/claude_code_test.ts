/**
 * kinfra as the worktree provider of the real Claude Code (2.1.197 from npm, offline, no account):
 * `claude -w <name>` gets a kinfra worktree (and sandbox), `/exit` removes it through kinfra even
 * though the project-level hooks are an untracked file the new worktree does not have, the same
 * name resumes the same worktree, and a `-p` run leaves only what `gc` explains.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, makeSandbox, pathExists, writeFiles } from "./helpers.ts";
import {
  containersOf,
  makeProject,
  randomBase,
  registryOf,
  removeProjects,
  uniqueName,
} from "./sandbox_helpers.ts";
import { claudeEnv, claudePrint, ClaudeSession, claudeTest } from "./claude_helpers.ts";

const branches = async (repo: string) => (await git(repo, "branch", "--format=%(refname:short)")).split("\n");

claudeTest(
  "claude -w -p: the hook makes the worktree; what the run leaves, worktrees and gc explain",
  async () => {
    const sb = await makeSandbox();
    try {
      const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
      const env = await claudeEnv(sb, repo);
      const install = await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo });
      assert.equal(install.code, 0, install.stderr);
      assert.match(
        await git(repo, "status", "--porcelain"),
        /\?\? \.claude\//,
        "the project's hooks are untracked",
      );

      const run = await claudePrint(env, repo, ["-w", "feat-x", "-p", "hi"]);
      const path = join(sb.dir, "shop-spec-feat-x");
      assert.match(
        run.log,
        /WorktreeCreate \[.*agent-hook claude-code create\] completed with status 0/,
        run.log,
      );
      assert.ok(run.log.includes(`Created hook-based worktree at: ${path}`), run.log);
      assert.match(run.stdout + run.stderr, /Not logged in/, "offline: it stops at the first model call");
      assert.equal(
        await git(path, "status", "--porcelain"),
        "",
        "the hook files kinfra wrote are git-ignored",
      );
      const hooks = JSON.parse(await Deno.readTextFile(join(path, ".claude/settings.local.json"))).hooks;
      assert.match(hooks.WorktreeRemove[0].hooks[0].command, /agent-hook claude-code remove$/);

      // `-p` never calls WorktreeRemove: the worktree stays, and kinfra says whose it is.
      const gc = await sb.kinfra(["--json", "gc"], { cwd: repo });
      assert.equal(gc.code, 0, gc.stderr);
      const kept = gc.json<{ kept_agent_worktrees: { path: string; host_running: boolean }[] }>()
        .kept_agent_worktrees;
      assert.deepEqual(kept.map((k) => [k.path, k.host_running]), [[path, false]]);
      const text = await sb.kinfra(["gc"], { cwd: repo });
      assert.match(
        text.stdout,
        /Kept .*shop-spec-feat-x: made for Claude Code session .*ended without removing it/,
      );
      assert.match(
        (await sb.kinfra(["worktrees"], { cwd: repo })).stdout,
        /ready \(claude-code, session ended\)/,
      );

      // The same name again resumes the same worktree.
      const again = await claudePrint(env, repo, ["-w", "feat-x", "-p", "hi"]);
      assert.ok(again.log.includes(`Created hook-based worktree at: ${path}`), again.log);
      assert.deepEqual(Object.keys((await registryOf(sb)).worktrees), [path]);
    } finally {
      await sb.cleanup();
    }
  },
);

claudeTest(
  "claude -w, then /exit: removed through kinfra (entry, branch, directory); dirty work is kept",
  async () => {
    const sb = await makeSandbox();
    const sessions: ClaudeSession[] = [];
    try {
      const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
      const env = await claudeEnv(sb, repo);
      assert.equal((await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo })).code, 0);
      const path = join(sb.dir, "shop-spec-feat-y");

      // First session: the agent leaves uncommitted work; "Remove worktree" is refused, the work kept.
      const first = await ClaudeSession.start(env, repo, ["-w", "feat-y"]);
      sessions.push(first);
      await first.waitFor(/for shortcuts/);
      assert.ok(await pathExists(join(path, ".git")));
      await writeFiles(path, { "notes.txt": "the agent's work\n" });
      await first.exit();
      await first.waitFor(/Exiting worktree session[\s\S]*Remove worktree/);
      await first.keys("Down", "Enter");
      await first.waitFor(/claude exited/);
      const refused = await first.debugLog();
      assert.match(
        refused,
        /WorktreeRemove hook failed .*uncommitted changes.*remove_dirty = "force"/,
        refused,
      );
      assert.doesNotMatch(refused, /pass --force/);
      assert.equal(await Deno.readTextFile(join(path, "notes.txt")), "the agent's work\n");
      // Claude shows no reason for the refusal; kinfra keeps it for `worktrees` and `gc`.
      assert.match((await sb.kinfra(["worktrees"], { cwd: repo })).stdout, /remove refused/);
      const gc = await sb.kinfra(["gc"], { cwd: repo });
      assert.match(
        gc.stdout,
        /Kept .*shop-spec-feat-y: .*refused: .*uncommitted changes.*kinfra done shop-spec-feat-y/,
      );

      // Second session on the same name: the same worktree; clean now, /exit removes it through kinfra.
      await Deno.remove(join(path, "notes.txt"));
      const second = await ClaudeSession.start(env, repo, ["-w", "feat-y"]);
      sessions.push(second);
      const screen = await second.waitFor(/for shortcuts/);
      assert.ok(screen.includes("shop-spec-feat-y"), screen);
      await second.exit();
      await second.waitFor(/claude exited 0/);
      const log = await second.debugLog();
      assert.match(log, /WorktreeRemove \[.*agent-hook claude-code remove\] completed with status 0/, log);
      assert.doesNotMatch(log, /falling back to git worktree remove/);
      assert.equal(await pathExists(path), false);
      assert.deepEqual((await registryOf(sb)).worktrees, {});
      assert.ok(!(await branches(repo)).includes("spec/feat-y"), "the merged branch is deleted");
    } finally {
      for (const session of sessions) await session.close();
      await sb.cleanup();
    }
  },
);

claudeTest(
  "claude -w with a sandbox: -p starts it, the same name restarts it, /exit stops it and frees the slot",
  async () => {
    const sb = await makeSandbox();
    const stem = uniqueName("t");
    let session: ClaudeSession | undefined;
    try {
      const repo = await makeProject(sb, stem, { base: randomBase() });
      const env = await claudeEnv(sb, repo);
      assert.equal((await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo })).code, 0);
      const path = join(sb.dir, `${stem}-impl-feat-z-M1`);
      const project = async () => `${stem}-slot-${Object.keys((await registryOf(sb)).slots)[0]}`;

      const run = await claudePrint(env, repo, ["-w", "feat-z", "-p", "hi"]);
      assert.ok(run.log.includes(`Created hook-based worktree at: ${path}`), run.log);
      const slot = await project();
      assert.ok((await containersOf(slot)).length > 0, "the sandbox runs");
      const gc = await sb.kinfra(["gc"], { cwd: repo });
      assert.match(
        gc.stdout,
        new RegExp(`Kept ${path}: .*ended without removing it.*its sandbox \\(slot \\d+\\) is kept too`),
      );
      assert.ok((await containersOf(slot)).length > 0, "gc explains the sandbox and leaves it");
      assert.equal((await sb.kinfra(["down", "feat-z-M1"], { cwd: repo })).code, 0);
      assert.deepEqual(await containersOf(slot), []);

      session = await ClaudeSession.start(env, repo, ["-w", "feat-z"]);
      await session.waitFor(/for shortcuts/);
      const running = await project();
      assert.ok((await containersOf(running)).length > 0, "resuming the name started its sandbox again");
      await session.exit();
      await session.waitFor(/claude exited 0/);
      const log = await session.debugLog();
      assert.match(log, /WorktreeRemove \[.*agent-hook claude-code remove\] completed with status 0/, log);
      assert.deepEqual(await containersOf(running), [], "container gone");
      const registry = await registryOf(sb);
      assert.deepEqual([registry.slots, registry.worktrees], [{}, {}], "slot released, entry gone");
      assert.equal(await pathExists(path), false);
    } finally {
      await session?.close();
      await removeProjects(stem);
      await sb.cleanup();
    }
  },
  { docker: true },
);

claudeTest(
  "claude -w where kinfra cannot make the worktree: Claude shows kinfra's one-line reason",
  async () => {
    const sb = await makeSandbox();
    try {
      const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
      const env = await claudeEnv(sb, repo);
      assert.equal((await sb.kinfra(["agent-hook", "claude-code", "install"], { cwd: repo })).code, 0);
      await writeFiles(repo, { ".devops-ai/infra.toml": '[project]\nname = "Bad Name"\n' });
      const run = await claudePrint(env, repo, ["-w", "feat-b", "-p", "hi"]);
      assert.equal(run.code, 1);
      assert.match(
        run.stdout + run.stderr,
        /Error creating worktree: WorktreeCreate hook failed: .*agent-hook claude-code create: kinfra: .*project\.name = "Bad Name"/,
      );
      assert.equal(await pathExists(join(sb.dir, "shop-spec-feat-b")), false);
      assert.deepEqual((await registryOf(sb)).worktrees, {});
    } finally {
      await sb.cleanup();
    }
  },
);
