/** Hostile feature and milestone names are refused with exit 2 before any side effect. */
import assert from "node:assert/strict";
import { git, makeSandbox, pathExists, withSandbox } from "./helpers.ts";

const HOSTILE = [
  "../escape",
  "a/b",
  "has space",
  "$(touch pwned)",
  "`touch pwned`",
  "x;touch pwned",
  "a|b",
  "semi;colon",
  "",
  ".hidden",
  "x..y",
  "name.lock",
  "ünïcode",
  "a".repeat(65),
  "new\nline",
  "--",
];

Deno.test("spec refuses hostile feature names before touching anything", async (t) => {
  const sb = await makeSandbox();
  try {
    const repo = await sb.repo("shop");
    for (const name of HOSTILE) {
      await t.step(JSON.stringify(name), async () => {
        const run = await sb.kinfra(["spec", "--", name], { cwd: repo });
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /error:/);
        assert.equal(
          await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/*"),
          "",
          "no branch created",
        );
        assert.equal((await git(repo, "worktree", "list")).split("\n").length, 1, "no worktree created");
        assert.equal(await pathExists(sb.home + "/registry.json"), false, "registry untouched");
        assert.equal(await pathExists(repo + "/pwned") || await pathExists(sb.dir + "/pwned"), false);
      });
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a name that starts with a dash is read as an option and refused with exit 2", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop");
    const run = await sb.kinfra(["spec", "-rf"], { cwd: repo });
    assert.equal(run.code, 2);
    assert.equal(await git(repo, "branch", "--list", "--format=%(refname:short)", "spec/*"), "");
  }));
