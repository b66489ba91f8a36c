/** Git.head answers in one call what `symbolic-ref --short` and `rev-parse` answer in two. */
import assert from "node:assert/strict";
import { join } from "../../../core/io/path.ts";
import { exec } from "../../../core/io/exec.ts";
import { Git } from "../../../core/project/git.ts";
import { git } from "../_git.ts";

/** What the two calls say: the branch as symbolic-ref --short names it, and the commit it names. */
async function twoCalls(repo: Git, dir: string) {
  const branch = await repo.currentBranch(dir);
  const commit = await repo.resolveRef(dir, branch ?? "HEAD");
  return commit && { commit, branch };
}

Deno.test("git: HEAD's branch and commit in one call agree with symbolic-ref and rev-parse", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  const repo = new Git(exec);
  try {
    const path = join(dir, "repo");
    git(dir, "init", "-q", "-b", "main", path);
    assert.equal(await repo.head(path), undefined, "an unborn branch names no commit");
    git(path, "commit", "-q", "--allow-empty", "-m", "one");
    const cases: [string, () => void, string | undefined][] = [
      ["a branch", () => {}, "main"],
      ["a branch with a slash", () => git(path, "checkout", "-q", "-b", "feat/x"), "feat/x"],
      [
        "a remote of the branch's name",
        () => git(path, "update-ref", "refs/remotes/feat/x/HEAD", "HEAD"),
        "feat/x", // symbolic-ref shortens loosely: "heads/feat/x" only beside what rev-parse would take first
      ],
      ["a branch beside a tag of the same name", () => git(path, "tag", "feat/x"), "heads/feat/x"],
      ["a detached HEAD", () => git(path, "checkout", "-q", "--detach"), undefined],
    ];
    for (const [what, arrange, branch] of cases) {
      arrange();
      const head = await repo.head(path);
      assert.equal(head?.branch, branch, what);
      assert.deepEqual(head, await twoCalls(repo, path), what);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
