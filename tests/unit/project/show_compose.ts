/**
 * The compose file as committed on HEAD: git is asked once per commit and text, after that a marker
 * answers; an edited file, a new commit or another ref goes to git again.
 */
import assert from "node:assert/strict";
import { join } from "../../../core/io/path.ts";
import { type Exec, exec } from "../../../core/io/exec.ts";
import { homePaths } from "../../../core/io/home.ts";
import type { Project } from "../../../core/project/project.ts";
import { showBaseCompose } from "../../../core/project/show_compose.ts";
import { git } from "../_git.ts";

Deno.test("show_compose: HEAD's compose file is read from the checkout once git showed that commit's text", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync());
  try {
    const repo = join(dir, "repo");
    git(dir, "init", "-q", "-b", "main", repo);
    const file = join(repo, "app", "compose.yml");
    Deno.mkdirSync(join(repo, "app"));
    Deno.writeTextFileSync(file, "services: {}\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "one");
    const shows: string[] = [];
    const counting: Exec = (cmd, args, options) => {
      if (args.includes("show")) shows.push(args.at(-1)!);
      return exec(cmd, args, options);
    };
    const ctx = { exec: counting, home: homePaths(new Map([["KINFRA_HOME", join(dir, "home")]])) };
    const project = {
      root: join(repo, "app"),
      gitRoot: repo,
      config: { sandbox: { compose_file: "compose.yml" } },
    };
    const show = async () => {
      const shown = await showBaseCompose(ctx, project as unknown as Project, "HEAD");
      assert.ok(shown.success);
      return shown.stdout;
    };

    assert.equal(await show(), "services: {}\n");
    assert.equal(shows.length, 1, "the first time, git shows it");
    assert.equal(await show(), "services: {}\n");
    assert.equal(shows.length, 1, "the same commit and text again: git is not asked");

    Deno.writeTextFileSync(file, "services: {web: {}}\n");
    assert.equal(await show(), "services: {}\n", "an edit not committed is not HEAD's text");
    assert.equal(await show(), "services: {}\n");
    assert.equal(shows.length, 3, "an edited file: git, each time");

    git(repo, "commit", "-qam", "two");
    assert.equal(await show(), "services: {web: {}}\n");
    assert.equal(shows.length, 4, "a new commit: git again");

    git(repo, "checkout", "-q", "HEAD~1");
    Deno.writeTextFileSync(file, "services: {web: {}}\n"); // the other commit's text, not this one's
    assert.equal(await show(), "services: {}\n");
    assert.equal(shows.length, 5, "a marker is this commit's, not another's with the same text");

    assert.ok((await showBaseCompose(ctx, project as unknown as Project, "main")).success);
    assert.equal(shows.length, 6, "a named ref: git");

    Deno.writeTextFileSync(join(repo, "app", "new.yml"), "services: {}\n");
    const untracked = { ...project, config: { sandbox: { compose_file: "new.yml" } } } as unknown as Project;
    for (let i = 0; i < 2; i++) assert.equal((await showBaseCompose(ctx, untracked, "HEAD")).success, false);
    assert.equal(shows.length, 8, "a file not committed: git says so, each time");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
