/** branchOnDisk and refOnDisk answer as `git show-ref --verify` / `rev-parse` do, or leave the question to git. */
import assert from "node:assert/strict";
import { join } from "../../../core/io/path.ts";
import { exec } from "../../../core/io/exec.ts";
import { branchOnDisk, Git, refOnDisk } from "../../../core/project/git.ts";
import { git } from "../_git.ts";

/** The commit `ref` names, as git reads it; null when there is none. */
const revParse = (repo: string, ref: string) => {
  const out = new Deno.Command("git", { args: ["-C", repo, "rev-parse", "--verify", "--quiet", ref] })
    .outputSync();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
};

Deno.test("git: a branch read from loose refs and packed-refs agrees with git show-ref", () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    const repo = join(dir, "repo");
    git(dir, "init", "-q", "-b", "main", repo);
    git(repo, "commit", "-q", "--allow-empty", "-m", "one");
    const names = ["main", "feat", "feat/x", "feat/x-M1", "x-M1", "x", "tagged", "gone"];
    const check = (what: string, expected: Record<string, boolean>) => {
      for (const name of names) {
        const shown = git(repo, "show-ref", "--verify", "--quiet", `refs/heads/${name}`);
        assert.equal(branchOnDisk(repo, name), shown, `${what}: ${name}`);
        assert.equal(
          refOnDisk(repo, name),
          revParse(repo, `refs/heads/${name}`),
          `${what}: ${name}'s commit`,
        );
        assert.equal(shown, expected[name] ?? false, `${what}: git on ${name}`);
      }
    };
    check("no packed-refs", { main: true });
    git(repo, "branch", "feat/x");
    git(repo, "branch", "gone");
    git(repo, "tag", "tagged");
    git(repo, "tag", "-a", "-m", "annotated", "x");
    check("loose refs, a directory of branches, tags", { main: true, "feat/x": true, gone: true });
    git(repo, "pack-refs", "--all");
    assert.throws(() => Deno.statSync(join(repo, ".git/refs/heads/feat/x")), "no loose ref left");
    check("packed (with a peeled tag line)", { main: true, "feat/x": true, gone: true });
    git(repo, "branch", "-D", "gone");
    git(repo, "branch", "feat/x-M1");
    check("a packed branch deleted, a loose one beside packed ones", {
      main: true,
      "feat/x": true,
      "feat/x-M1": true,
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("git: anything unusual about a branch's ref is left to git", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  const calls: string[][] = [];
  const counted = new Git((cmd, args, options) => (calls.push(args), exec(cmd, args, options)));
  try {
    const repo = join(dir, "repo");
    git(dir, "init", "-q", "-b", "main", repo);
    git(repo, "commit", "-q", "--allow-empty", "-m", "one");
    assert.equal(await counted.branchExists(repo, "main"), true);
    assert.equal(await counted.branchExists(repo, "nope"), false);
    assert.deepEqual(calls, [], "plain refs are read from disk");
    // A symbolic ref in refs/heads: git resolves it.
    git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main");
    assert.equal(branchOnDisk(repo, "alias"), undefined);
    assert.equal(await counted.branchExists(repo, "alias"), true);
    assert.equal(calls.length, 1);
    // A linked worktree's `.git` is a file: git is asked.
    git(repo, "worktree", "add", "-q", "-b", "side", join(dir, "side"));
    assert.equal(branchOnDisk(join(dir, "side"), "main"), undefined);
    // Another ref storage (reftable, git ≥ 2.45) keeps no loose refs: git is asked.
    const config = join(repo, ".git/config");
    Deno.writeTextFileSync(config, "[extensions]\n\trefStorage = reftable\n", { append: true });
    assert.equal(branchOnDisk(repo, "main"), undefined);
    Deno.mkdirSync(join(repo, ".git/reftable"));
    Deno.writeTextFileSync(config, Deno.readTextFileSync(config).replace(/\[extensions\][^]*$/, ""));
    assert.equal(branchOnDisk(repo, "main"), undefined, "a reftable directory");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
