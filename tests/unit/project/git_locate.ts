/** locateOnDisk answers exactly what `git rev-parse` does, or leaves the question to git. */
import assert from "node:assert/strict";
import { join } from "../../../core/io/path.ts";
import { locateOnDisk } from "../../../core/project/git.ts";

const git = (cwd: string, ...args: string[]) => {
  const out = new Deno.Command("git", { args: ["-C", cwd, ...args], stdout: "piped", stderr: "null" })
    .outputSync();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
};

/** What git says: [top, mainTop], as Git.locate derives them. */
function fromGit(cwd: string) {
  const out = git(cwd, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir");
  if (!out) return undefined;
  const [top, common] = out.split("\n");
  return { top, mainTop: common.endsWith("/.git") ? common.slice(0, -5) : top };
}

Deno.test("git: locating a checkout on disk agrees with git rev-parse", () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    const repo = join(dir, "repo");
    Deno.mkdirSync(join(repo, "sub/deep"), { recursive: true });
    git(dir, "init", "-q", "-b", "main", repo);
    git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x");
    git(repo, "worktree", "add", "-q", "-b", "w", join(dir, "linked"));
    Deno.mkdirSync(join(dir, "linked/inner"));
    Deno.symlinkSync(repo, join(dir, "link"));
    Deno.mkdirSync(join(dir, "plain"));
    Deno.mkdirSync(join(dir, "fake/.git"), { recursive: true }); // no HEAD: not a repository
    for (const cwd of ["repo", "repo/sub/deep", "linked", "linked/inner", "link", "link/sub"]) {
      const path = join(dir, cwd);
      assert.deepEqual(locateOnDisk(path), fromGit(path), cwd);
      assert.notEqual(locateOnDisk(path), undefined, cwd);
    }
    assert.equal(locateOnDisk(join(dir, "fake")), undefined, "a .git without HEAD is left to git");
    assert.equal(locateOnDisk(join(dir, "missing")), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
