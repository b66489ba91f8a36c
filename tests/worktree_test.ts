/** spec → done on real git repositories: dirty checks, --force, branch safety, linked-worktree config. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, makeSandbox, pathExists, withSandbox, writeFiles } from "./helpers.ts";

Deno.test("spec creates a worktree on spec/<feature> and done removes it and its merged branch", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const made = await sb.kinfra(["--json", "spec", "login"], { cwd: repo });
    assert.equal(made.code, 0, made.stderr);
    const path = join(sb.dir, "shop-spec-login");
    assert.deepEqual(made.json(), {
      kind: "spec",
      project: "shop",
      path,
      branch: "spec/login",
      base: "main",
      messages: [],
    });
    assert.equal(await git(path, "branch", "--show-current"), "spec/login");

    const listed = (await sb.kinfra(["--json", "worktrees"])).json<
      { worktrees: { name: string; status: string }[] }
    >();
    assert.deepEqual(listed.worktrees.map((w) => [w.name, w.status]), [["shop-spec-login", "ready"]]);

    const done = await sb.kinfra(["--json", "done", "login"], { cwd: repo });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await pathExists(path), false);
    assert.equal(await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/login"), "");
    assert.deepEqual((await sb.kinfra(["--json", "worktrees"])).json(), { worktrees: [] });
  }));

Deno.test("done refuses a dirty worktree with exit 3, lists the files and removes nothing", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await sb.kinfra(["spec", "dirty"], { cwd: repo });
    const path = join(sb.dir, "shop-spec-dirty");
    await writeFiles(path, { "notes.md": "work in progress", "README.md": "changed" });
    const run = await sb.kinfra(["done", "dirty"], { cwd: repo });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /notes\.md/);
    assert.match(run.stderr, /README\.md/);
    assert.match(run.stderr, /--force/);
    assert.equal(await Deno.readTextFile(join(path, "notes.md")), "work in progress");
    assert.equal(
      await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/dirty"),
      "spec/dirty",
    );
  }));

Deno.test("done --force removes a dirty worktree, run from inside it", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await sb.kinfra(["spec", "scratch"], { cwd: repo });
    const path = join(sb.dir, "shop-spec-scratch");
    await writeFiles(path, { "junk.txt": "x" });
    const run = await sb.kinfra(["done", "--force"], { cwd: path });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await pathExists(path), false);
  }));

Deno.test("done keeps a branch with unmerged commits and says so; --delete-branch deletes it", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    for (const f of ["kept", "dropped"]) {
      await sb.kinfra(["spec", f], { cwd: repo });
      const path = join(sb.dir, `shop-spec-${f}`);
      await writeFiles(path, { "spec.md": f });
      await git(path, "add", "spec.md");
      await git(path, "commit", "-qm", `spec ${f}`);
    }
    const kept = await sb.kinfra(["--json", "done", "kept"], { cwd: repo });
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.json<{ branch: { deleted: boolean } }>().branch.deleted, false);
    assert.equal(await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/kept"), "spec/kept");
    const human = await sb.kinfra(["done", "dropped", "--delete-branch"], { cwd: repo });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /branch spec\/dropped deleted/);
    assert.equal(await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/dropped"), "");
  }));

Deno.test("done accepts the directory name and an absolute path, and never the main worktree", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await sb.kinfra(["spec", "a"], { cwd: repo });
    await sb.kinfra(["spec", "b"], { cwd: repo });
    assert.equal((await sb.kinfra(["done", "shop-spec-a"], { cwd: repo })).code, 0);
    assert.equal((await sb.kinfra(["done", join(sb.dir, "shop-spec-b")], { cwd: sb.dir })).code, 0);
    const main = await sb.kinfra(["done", repo], { cwd: repo });
    assert.equal(main.code, 2);
    assert.equal(await pathExists(join(repo, "README.md")), true);
    const unknown = await sb.kinfra(["done", "nothing-here"], { cwd: repo });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /kinfra worktrees/);
  }));

Deno.test("inside a linked worktree kinfra reads the main worktree's uncommitted infra.toml", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await sb.kinfra(["spec", "first"], { cwd: repo });
    // Written after the first worktree exists and never committed: only the main worktree has it.
    await writeFiles(repo, {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\nprefix = "sh"\n[worktree]\ncopy = [".env.local"]\n`,
      ".env.local": "SECRET=1\n",
    });
    const inside = join(sb.dir, "shop-spec-first");
    const run = await sb.kinfra(["--json", "spec", "second"], { cwd: inside });
    assert.equal(run.code, 0, run.stderr);
    const second = join(sb.dir, "sh-spec-second");
    assert.equal(run.json<{ path: string }>().path, second);
    assert.equal(await Deno.readTextFile(join(second, ".env.local")), "SECRET=1\n");
    // The copied file is kinfra's, not the user's work: done does not call the worktree dirty.
    assert.equal((await sb.kinfra(["done", "second"], { cwd: repo })).code, 0);
  }));

Deno.test("spec refuses an existing branch with exit 2 and creates nothing", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    await git(repo, "branch", "spec/taken");
    const run = await sb.kinfra(["spec", "taken"], { cwd: repo });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /already exists/);
    assert.equal(await pathExists(join(sb.dir, "shop-spec-taken")), false);
  }));

Deno.test("outside a git repository kinfra says so with exit 2", () =>
  withSandbox(async (sb) => {
    const run = await sb.kinfra(["spec", "x"], { cwd: sb.dir });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /not inside a git repository/);
  }));

Deno.test("3 rounds of 12 concurrent specs in one repository all succeed (git worktree changes are serialized)", async () => {
  // Plain `git worktree add` run concurrently in one repository fails now and then
  // ("failed to read .git/worktrees/…/commondir"); kinfra must not.
  const sb = await makeSandbox();
  try {
    const repo = await sb.repo("shop");
    for (let round = 0; round < 3; round++) {
      const names = Array.from({ length: 12 }, (_, i) => `r${round}n${i}`);
      const runs = await Promise.all(names.map((n) => sb.kinfra(["spec", n], { cwd: repo })));
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
    }
    assert.equal((await git(repo, "worktree", "list")).split("\n").length, 37);
  } finally {
    await sb.cleanup();
  }
});
