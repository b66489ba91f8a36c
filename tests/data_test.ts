/**
 * Per-slot data on the real engine (the built-in data plugin): snapshots saved from a running
 * sandbox, new slots seeded from them or forked from another slot, each slot's data its own, volumes
 * gone with `done` (or kept), and another home's snapshots never touched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, pathExists, type Sandbox } from "./helpers.ts";
import { docker, dockerTest, IMAGE, makeProject, randomBase, registryOf } from "./sandbox_helpers.ts";

const DATA = {
  webExtra: "    volumes:\n      - db:/data\n      - cache:/cache\n",
  // Appended after the services: a top-level key.
  extraServices: "volumes:\n  db:\n  cache:\n",
};

async function dataProject(sb: Sandbox, stem: string) {
  await Deno.mkdir(sb.home, { recursive: true });
  await Deno.writeTextFile(join(sb.home, "config.toml"), `[data]\nhelper_image = "${IMAGE}"\n`);
  return await makeProject(sb, stem, { base: randomBase(), ...DATA });
}

const container = (project: string) =>
  docker("ps", "-q", "--filter", `label=com.docker.compose.project=${project}`);
const sh = async (project: string, script: string) =>
  docker("exec", await container(project), "sh", "-c", script);
const volumesOf = async (prefix: string) =>
  (await docker("volume", "ls", "-q")).split("\n").filter((v) => v.startsWith(prefix)).sort();

/** Removes the test's volumes: its slots' and every snapshot of its home. */
async function removeVolumes(sb: Sandbox, stem: string) {
  const id = await Deno.readTextFile(join(sb.home, "home-id")).catch(() => "");
  const snapshots = id
    ? (await docker("volume", "ls", "-q", "--filter", `label=dev.kinfra.home=${id.trim()}`)).split("\n")
    : [];
  const all = [...snapshots, ...await volumesOf(stem)].filter(Boolean);
  if (all.length) await docker("volume", "rm", "-f", ...all).catch(() => {});
}

function dataTest(name: string, fn: (sb: Sandbox, stem: string) => Promise<void>) {
  dockerTest(name, async (sb, stem) => {
    try {
      await fn(sb, stem);
    } finally {
      for (const name of ["a-M1", "b-M1", "c-M1", "d-M1"]) {
        await sb.kinfra(["done", "--force", "--delete-branch", name], { cwd: join(sb.dir, stem) });
      }
      await removeVolumes(sb, stem);
    }
  });
}

dataTest(
  "seeded data is in a new slot, each slot's writes are its own, a fork copies current data",
  async (sb, stem) => {
    const repo = await dataProject(sb, stem);
    assert.equal((await sb.kinfra(["impl", "a/M1"], { cwd: repo })).code, 0);
    await sh(`${stem}-slot-1`, "echo seeded > /data/rows && echo warm > /cache/c");

    const save = await sb.kinfra(["--json", "snapshot", "save", "base", "a-M1"], { cwd: repo });
    assert.equal(save.code, 0, save.stderr);
    const saved = save.json<{ name: string; volumes: string[]; bytes: number; messages: string[] }>();
    assert.deepEqual(saved.volumes, ["cache", "db"]);
    assert.ok(saved.bytes > 0);
    assert.match(saved.messages.join("\n"), /stopped web for a consistent copy and started/);
    assert.match(await sh(`${stem}-slot-1`, "cat /data/rows"), /seeded/, "slot 1 runs again after the save");

    const seeded = await sb.kinfra(["impl", "b/M1", "--seed", "base"], { cwd: repo });
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, /data: cache, db from snapshot base/);
    // The volumes the data plugin creates carry the same slot label as the docker plugin's containers.
    const labels = (name: string) =>
      docker("volume", "inspect", "-f", '{{index .Labels "dev.kinfra.slot"}}', name);
    assert.equal(await labels(`${stem}-slot-2_db`), `${stem}-2`);
    assert.equal(await sh(`${stem}-slot-2`, "cat /data/rows /cache/c"), "seeded\nwarm");

    // Slot 1 writes; slot 2 does not see it (and the other way round).
    await sh(`${stem}-slot-1`, "echo only-in-1 >> /data/rows");
    await sh(`${stem}-slot-2`, "echo only-in-2 >> /data/rows");
    assert.equal(await sh(`${stem}-slot-1`, "cat /data/rows"), "seeded\nonly-in-1");
    assert.equal(await sh(`${stem}-slot-2`, "cat /data/rows"), "seeded\nonly-in-2");

    const fork = await sb.kinfra(["impl", "c/M1", "--from", "a-M1"], { cwd: repo });
    assert.equal(fork.code, 0, fork.stderr);
    assert.match(
      fork.stdout,
      /data: cache, db from .*a-M1's current data \(stopped web for the copy, started again\)/,
    );
    assert.equal(await sh(`${stem}-slot-3`, "cat /data/rows"), "seeded\nonly-in-1");

    const list = await sb.kinfra(["--json", "snapshot", "list"], { cwd: repo });
    const [listed] =
      list.json<{ snapshots: { name: string; source: string; project: string }[] }>().snapshots;
    assert.equal(listed.name, "base");
    assert.equal(listed.project, `${stem}-slot-1`);
    assert.match(listed.source, /-impl-a-M1$/);
    assert.match(
      (await sb.kinfra(["snapshot", "list"], { cwd: repo })).stdout,
      /^NAME +VOLUMES +SIZE +CREATED +SOURCE\nbase +cache,db +\d/,
    );
  },
);

dataTest(
  "a snapshot of a busy sandbox is consistent: the writer is stopped for the copy",
  async (sb, stem) => {
    const repo = await dataProject(sb, stem);
    // The slots kinfra picked (another sandbox on this machine may hold slot 1's ports).
    const impl = async (...args: string[]) => {
      const run = await sb.kinfra(["--json", "impl", ...args], { cwd: repo });
      assert.equal(run.code, 0, run.stderr);
      return run.json<{ compose_project: string }>().compose_project;
    };
    const first = await impl("a/M1");
    // A writer appending numbered, fixed-length records as fast as it can.
    await docker(
      "exec",
      "-d",
      await container(first),
      "sh",
      "-c",
      "i=0; while :; do i=$((i+1)); printf '%08d %0200d\\n' $i 0 >> /data/log; done",
    );
    await new Promise((r) => setTimeout(r, 500));
    const save = await sb.kinfra(["snapshot", "save", "busy", "a-M1"], { cwd: repo });
    assert.equal(save.code, 0, save.stderr);
    const copy = await sh(await impl("b/M1", "--seed", "busy"), "cat /data/log");
    const records = copy.split("\n");
    assert.ok(records.length > 10, `${records.length} records`);
    records.forEach((r, i) =>
      assert.equal(r, `${String(i + 1).padStart(8, "0")} ${"0".repeat(200)}`, `record ${i + 1}`)
    );
  },
);

dataTest(
  "done removes a slot's volumes, --keep-volumes keeps them out of new slots' way, gc removes them",
  async (sb, stem) => {
    const repo = await dataProject(sb, stem);
    for (const t of ["a/M1", "b/M1"]) assert.equal((await sb.kinfra(["impl", t], { cwd: repo })).code, 0);
    assert.deepEqual(
      await volumesOf(`${stem}-slot-`),
      [1, 2].flatMap((n) => [`${stem}-slot-${n}_cache`, `${stem}-slot-${n}_db`]),
    );
    assert.equal((await sb.kinfra(["done", "a-M1"], { cwd: repo })).code, 0);
    assert.deepEqual(await volumesOf(`${stem}-slot-1`), []);

    await sh(`${stem}-slot-2`, "echo keep-me > /data/rows");
    const kept = await sb.kinfra(["done", "b-M1", "--keep-volumes"], { cwd: repo });
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, new RegExp(`kept volumes ${stem}-slot-2_cache, ${stem}-slot-2_db`));
    assert.deepEqual(await volumesOf(`${stem}-slot-2`), [`${stem}-slot-2_cache`, `${stem}-slot-2_db`]);

    // The next two sandboxes: slot 1, then slot 3 — slot 2's kept data is nobody else's to start on.
    assert.equal((await sb.kinfra(["impl", "c/M1"], { cwd: repo })).code, 0);
    const next = await sb.kinfra(["--json", "impl", "d/M1"], { cwd: repo });
    assert.equal(next.json<{ slot: number }>().slot, 3, next.stderr);
    assert.match(next.stderr, /Slot 2 skipped: .*slot-2 is still on the Docker engine/);
    assert.equal(await sh(`${stem}-slot-3`, "cat /data/rows 2>/dev/null || echo empty"), "empty");

    const gc = await sb.kinfra(["gc"], { cwd: repo });
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(await volumesOf(`${stem}-slot-2`), []);
    assert.equal((await volumesOf(`${stem}-slot-3`)).length, 2, "a live slot's volumes stay");
  },
);

dataTest(
  "another home's snapshots are never listed, seeded from or removed; a missing seed creates nothing",
  async (sb, stem) => {
    const repo = await dataProject(sb, stem);
    assert.equal((await sb.kinfra(["impl", "a/M1"], { cwd: repo })).code, 0);
    assert.equal((await sb.kinfra(["snapshot", "save", "base", "a-M1"], { cwd: repo })).code, 0);
    const other = { KINFRA_HOME: join(sb.dir, "other-home") };
    await Deno.mkdir(other.KINFRA_HOME);
    await Deno.writeTextFile(join(other.KINFRA_HOME, "config.toml"), `[data]\nhelper_image = "${IMAGE}"\n`);
    const theirs = await sb.kinfra(["--json", "snapshot", "list"], { cwd: repo, env: other });
    assert.deepEqual(theirs.json(), { snapshots: [] });
    const rm = await sb.kinfra(["snapshot", "rm", "base"], { cwd: repo, env: other });
    assert.equal(rm.code, 2);
    assert.match(rm.stderr, /No snapshot "base"/);
    const mine = await sb.kinfra(["--json", "snapshot", "list"], { cwd: repo });
    assert.deepEqual(mine.json<{ snapshots: { name: string }[] }>().snapshots.map((s) => s.name), ["base"]);

    const missing = await sb.kinfra(["impl", "b/M1", "--seed", "nope"], { cwd: repo });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No snapshot "nope"; nothing was created/);
    assert.equal(await pathExists(join(sb.dir, `${stem}-impl-b-M1`)), false);
    assert.equal(Object.keys((await registryOf(sb)).slots).length, 1);
    assert.equal((await sb.kinfra(["snapshot", "rm", "base"], { cwd: repo })).code, 0);
    assert.deepEqual((await sb.kinfra(["--json", "snapshot", "list"], { cwd: repo })).json(), {
      snapshots: [],
    });
  },
);

dataTest(
  "[sandbox.data] seeds every new slot, limited to its volumes; a failed copy rolls the slot back",
  async (sb, stem) => {
    const repo = await dataProject(sb, stem);
    assert.equal((await sb.kinfra(["impl", "a/M1"], { cwd: repo })).code, 0);
    await sh(`${stem}-slot-1`, "echo seeded > /data/rows && echo warm > /cache/c");
    assert.equal((await sb.kinfra(["snapshot", "save", "base", "a-M1"], { cwd: repo })).code, 0);
    await Deno.writeTextFile(
      join(repo, ".devops-ai/infra.toml"),
      '\n[sandbox.data]\nseed = "base"\nvolumes = ["db"]\n',
      {
        append: true,
      },
    );
    await git(repo, "commit", "-qam", "seed new slots");
    const b = await sb.kinfra(["impl", "b/M1"], { cwd: repo });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /data: db from snapshot base/);
    assert.equal(await sh(`${stem}-slot-2`, "cat /data/rows; ls /cache | wc -l"), "seeded\n0");

    // The helper image is gone: the copy fails, the slot is released and the volumes kinfra made go.
    await Deno.writeTextFile(
      join(sb.home, "config.toml"),
      '[data]\nhelper_image = "kinfra-test/no-such-image:none"\n',
    );
    const failed = await sb.kinfra(["impl", "c/M1"], { cwd: repo });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(
      failed.stderr,
      /Plugin "data" failed during sandbox.prepare: docker run failed: Unable to find image/,
    );
    assert.deepEqual(await volumesOf(`${stem}-slot-3`), []);
    assert.equal(Object.keys((await registryOf(sb)).slots).length, 2);
  },
);
