/**
 * Git.head answers in one call what `symbolic-ref --short` and `rev-parse` answer in two, and reads
 * it from disk (headOnDisk) without git wherever that is as exact.
 */
import assert from "node:assert/strict";
import { join } from "../../../core/io/path.ts";
import { exec } from "../../../core/io/exec.ts";
import { Git, headOnDisk } from "../../../core/project/git.ts";
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
    assert.equal(headOnDisk(path), null, "an unborn branch, read from disk");
    git(path, "commit", "-q", "--allow-empty", "-m", "one");
    // The last field: whether the answer is read from disk (else git is asked).
    const cases: [string, () => void, string | undefined, boolean][] = [
      ["a branch", () => {}, "main", true],
      ["a branch with a slash", () => git(path, "checkout", "-q", "-b", "feat/x"), "feat/x", true],
      [
        "a remote of the branch's name",
        () => git(path, "update-ref", "refs/remotes/feat/x/HEAD", "HEAD"),
        "feat/x", // symbolic-ref shortens loosely: "heads/feat/x" only beside what rev-parse would take first
        true,
      ],
      ["a branch beside a tag of the same name", () => git(path, "tag", "feat/x"), "heads/feat/x", false],
      ["packed, beside the tag", () => git(path, "pack-refs", "--all"), "heads/feat/x", false],
      ["packed, the tag gone", () => git(path, "tag", "-d", "feat/x"), "feat/x", true],
      ["a detached HEAD", () => git(path, "checkout", "-q", "--detach"), undefined, true],
    ];
    for (const [what, arrange, branch, onDisk] of cases) {
      arrange();
      const head = await repo.head(path);
      assert.equal(head?.branch, branch, what);
      assert.deepEqual(head, await twoCalls(repo, path), what);
      assert.deepEqual(headOnDisk(path), onDisk ? head : undefined, `${what}, read from disk`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
