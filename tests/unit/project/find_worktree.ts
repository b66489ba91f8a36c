/**
 * core/project/find_worktree.ts's fallback to `git worktree list`, for worktrees kinfra has no record
 * of (made by an older kinfra or by hand): a real repository with real worktrees, an empty registry.
 * (Matching registry entries is tested in names.ts.)
 */
import assert from "node:assert/strict";
import type { Context } from "../../../core/context.ts";
import { exec } from "../../../core/io/exec.ts";
import { homePaths } from "../../../core/io/home.ts";
import { join } from "../../../core/io/path.ts";
import { findWorktree } from "../../../core/project/find_worktree.ts";
import { Git } from "../../../core/project/git.ts";
import { kinfraErrorOf } from "../_usage.ts";
import { usageError } from "../../../core/errors.ts";
import { projectIfAny } from "../../../core/project/project.ts";

function git(cwd: string, ...args: string[]): void {
  const out = new Deno.Command("git", {
    args: ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

Deno.test("findWorktree() falls back to git's own list for worktrees kinfra has no record of", async (t) => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const repo = join(dir, "shop");
    await Deno.mkdir(repo);
    git(repo, "init", "-q", "-b", "main");
    git(repo, "commit", "-q", "--allow-empty", "-m", "start");
    git(repo, "worktree", "add", "-q", "-b", "impl/pay-M1", join(dir, "hand-made"));
    git(repo, "worktree", "add", "-q", "-b", "spec/ideas", join(dir, "shop-spec-ideas"));
    git(repo, "worktree", "add", "-q", "-b", "feature/x", join(dir, "shop-feature-x"));
    git(repo, "worktree", "add", "-q", "-b", "impl/half-M1", join(dir, "half"));
    git(repo, "worktree", "lock", "--reason", "initializing", join(dir, "half"));

    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? join(dir, "home") : undefined });
    const project = { root: repo, gitRoot: repo, name: "shop", prefix: "shop", worktreeRoot: dir };
    const ctx = (inProject = true) =>
      ({
        home,
        cwd: repo,
        project: () =>
          inProject ? Promise.resolve(project) : Promise.reject(usageError("not inside a git repository")),
        git: new Git(exec),
      }) as unknown as Context;

    await t.step(
      "a worktree on impl/<name> is found by its directory name, as an impl worktree",
      async () => {
        const entry = await findWorktree(ctx(), "hand-made");
        assert.deepEqual([entry.path, entry.kind, entry.branch, entry.feature], [
          join(dir, "hand-made"),
          "impl",
          "impl/pay-M1",
          "pay-M1",
        ]);
      },
    );

    await t.step("it is found by its branch without impl/, and based on the current branch", async () => {
      const entry = await findWorktree(ctx(), "pay-M1");
      assert.deepEqual([entry.path, entry.base, entry.project, entry.project_root], [
        join(dir, "hand-made"),
        "main",
        "shop",
        repo,
      ]);
    });

    await t.step("a worktree on spec/<name> is a spec worktree", async () => {
      assert.equal((await findWorktree(ctx(), "ideas")).kind, "spec");
    });

    await t.step("a worktree on a branch kinfra does not name is not offered", async () => {
      const e = await kinfraErrorOf(() => findWorktree(ctx(), "shop-feature-x"));
      assert.deepEqual([e.code, e.message], [2, 'No kinfra worktree matches "shop-feature-x".']);
    });

    await t.step("a checkout git locked as initializing comes back as one being created", async () => {
      const entry = await findWorktree(ctx(), "half");
      assert.equal(entry.state, "creating");
      assert.equal((await findWorktree(ctx(), "hand-made")).state, undefined);
    });

    await t.step("the main worktree is never one, even on an impl/ branch", async () => {
      git(repo, "checkout", "-q", "-b", "impl/main-M1");
      const e = await kinfraErrorOf(() => findWorktree(ctx(), "main-M1"));
      assert.equal(e.message, 'No kinfra worktree matches "main-M1".');
    });

    await t.step("outside a project, git is not asked", async () => {
      const e = await kinfraErrorOf(() => findWorktree(ctx(false), "hand-made"));
      assert.equal(e.message, 'No kinfra worktree matches "hand-made".');
    });

    await t.step("a path names a worktree too (typed as ./ or absolute)", async () => {
      const entry = await findWorktree({ ...ctx(), cwd: dir } as Context, "./hand-made");
      assert.equal(entry.branch, "impl/pay-M1");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("projectIfAny() is undefined only outside a repository: an unreadable project or a bug is said", async () => {
  assert.equal(
    await projectIfAny(() => Promise.reject(usageError("not inside a git repository"))),
    undefined,
  );
  for (const e of [new Deno.errors.PermissionDenied("infra.toml"), new TypeError("a bug")]) {
    await assert.rejects(() => projectIfAny(() => Promise.reject(e)), (got) => got === e);
  }
});
