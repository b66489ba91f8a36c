/**
 * Two kinfra processes after the same name: the first keeps its worktree and sandbox, the second
 * says the name is taken and touches nothing. The order of operations (the name is claimed under
 * the registry lock before git or Compose run) makes it safe, not the timing — so one test holds
 * the claim with a live process and another races six impls at once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand } from "./helpers.ts";
import { containersOf, dockerTest, httpGet, makeProject, randomBase, registryOf } from "./sandbox_helpers.ts";

const branchExists = async (repo: string, branch: string) =>
  (await runCommand("git", ["-C", repo, "rev-parse", "--verify", "-q", `refs/heads/${branch}`])).code === 0;

dockerTest(
  "impl of a name another live kinfra process is creating exits 2 and touches nothing",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const path = join(sb.dir, `${stem}-impl-dup-M1`);
    // A live process holds the name, as a racing `impl` does between its claim and `git worktree add`.
    const holder = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      const claim = {
        path,
        kind: "impl",
        project: stem,
        project_root: repo,
        feature: "dup",
        milestone: "M1",
        branch: "impl/dup-M1",
        base: "main",
        created_at: new Date().toISOString(),
        state: "creating",
        pid: holder.pid,
        host: Deno.hostname(),
      };
      await Deno.mkdir(sb.home, { recursive: true });
      const registry = { version: 1, slots: {}, worktrees: { [path]: claim } };
      await Deno.writeTextFile(join(sb.home, "registry.json"), JSON.stringify(registry));

      const run = await sb.kinfra(["impl", "dup/M1"], { cwd: repo });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`being created by another kinfra process \\(pid ${holder.pid}`));
      assert.doesNotMatch(run.stderr, /Internal error/);
      const after = await registryOf(sb);
      assert.deepEqual(after.worktrees[path], claim, "the holder's claim is untouched");
      assert.deepEqual(after.slots, {}, "no slot claimed");
      assert.equal(await branchExists(repo, "impl/dup-M1"), false, "no branch made");
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
      assert.deepEqual(await containersOf(`${stem}-slot-1`), []);
    } finally {
      holder.kill();
      await holder.status;
    }
  },
);

dockerTest(
  "six impls of one name at once: exactly one worktree and one sandbox, the others say the name is taken",
  async (sb, stem) => {
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base });
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => sb.kinfra(["--json", "impl", "dup/M1"], { cwd: repo })),
    );
    const winners = runs.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, runs.map((r) => `${r.code}: ${r.stderr}`).join("\n---\n"));
    for (const loser of runs.filter((r) => r.code !== 0)) {
      assert.equal(loser.code, 2, loser.stderr);
      assert.match(loser.stderr, /already exists|already a kinfra worktree|being created by another kinfra/);
    }
    const made = winners[0].json<{ path: string; slot: number; ports: Record<string, number> }>();
    const registry = await registryOf(sb);
    assert.deepEqual(Object.keys(registry.worktrees), [made.path]);
    assert.equal(registry.worktrees[made.path].state, undefined, "the winner finished");
    assert.equal(Object.keys(registry.slots).length, 1);
    assert.equal((await containersOf(`${stem}-slot-${made.slot}`)).length, 1);
    assert.equal(
      (await Deno.stat(join(made.path, "docker-compose.yml"))).isFile,
      true,
      "its worktree survives",
    );
    const port = Object.values(made.ports)[0];
    assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).status, 200);
  },
);

dockerTest("a worktree made by hand gets hints naming it as kinfra accepts it", async (sb, stem) => {
  const repo = await makeProject(sb, stem, { base: randomBase(), health: "/missing", healthTimeout: 1 });
  const path = join(sb.dir, `${stem}-hand`);
  await runCommand("git", ["-C", repo, "worktree", "add", "-q", "-b", "impl/hand-M1", path]);
  const up = await sb.kinfra(["up"], { cwd: path });
  assert.equal(up.code, 1, up.stderr);
  assert.match(up.stderr, /Retry with `kinfra up hand-M1`, or remove it with `kinfra done hand-M1`/);
  assert.doesNotMatch(up.stderr, /undefined/);
  assert.deepEqual(await containersOf(`${stem}-slot-1`), [], "rolled back");
});
