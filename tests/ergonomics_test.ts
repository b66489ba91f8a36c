/** The first hour, through the real CLI: what a new user trips over should not trip them. */
import assert from "node:assert/strict";
import { dockerTest, makeProject, randomBase } from "./sandbox_helpers.ts";

dockerTest(
  "status in the main checkout lists the project's sandboxes; env of a stopped one is blocked (3)",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const empty = await sb.kinfra(["status"], { cwd: repo });
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /has no kinfra worktrees\. Start one with `kinfra impl/);

    const impl = await sb.kinfra(["impl", "shop/M1"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    assert.match(
      impl.stdout,
      /\n {2}next: cd ".*-impl-shop-M1" · kinfra status shop-M1 · kinfra done shop-M1\n?$/,
    );
    assert.equal((await sb.kinfra(["spec", "ideas"], { cwd: repo })).code, 0);

    const listed = await sb.kinfra(["--json", "status"], { cwd: repo });
    assert.equal(listed.code, 0, listed.stderr);
    const data = listed.json<
      { project: string; worktrees: { name: string; slot: number | null; status: string }[] }
    >();
    assert.equal(data.project, stem);
    assert.deepEqual(data.worktrees.map((w) => [w.name, w.slot, w.status]), [
      [`${stem}-impl-shop-M1`, 1, "running"],
      [`${stem}-spec-ideas`, null, "no sandbox"],
    ]);
    assert.match(
      (await sb.kinfra(["status"], { cwd: repo })).stdout,
      /-impl-shop-M1 +impl +slot 1 · running/,
    );

    assert.equal((await sb.kinfra(["down", "shop-M1"], { cwd: repo })).code, 0);
    const env = await sb.kinfra(["env", "shop-M1"], { cwd: repo });
    assert.equal(env.code, 3, env.stderr);
    assert.match(env.stderr, /is stopped: it has no slot.*\nhint: Start it with `kinfra up .*-impl-shop-M1`/);
  },
);
