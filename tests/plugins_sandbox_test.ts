/** Third-party plugins in a real sandbox: their fragments reach the container; their failures roll back. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git } from "./helpers.ts";
import { writePlugin } from "./plugin_helpers.ts";
import {
  containersOf,
  docker,
  dockerTest,
  makeProject,
  randomBase,
  registryOf,
  slotDirs,
} from "./sandbox_helpers.ts";

async function enable(repo: string, name: string, events: string[], cases: string, timeout?: string) {
  await writePlugin(join(repo, ".devops-ai", "plugins"), { name, events, cases, timeout });
  const toml = join(repo, ".devops-ai/infra.toml");
  await Deno.writeTextFile(toml, (await Deno.readTextFile(toml)) + `\n[plugins]\nenable = ["${name}"]\n`);
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", `plugin ${name}`);
}

dockerTest(
  "a shell plugin's sandbox.prepare env and compose fragment show up inside the running container",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    // env → .env.sandbox (interpolated into the fragment); the fragment sets a container variable.
    await enable(
      repo,
      "seed",
      ["sandbox.prepare"],
      `  sandbox.prepare) printf '{"env": {"SEED_TOKEN": "tok-%s"}, "compose": {"services": {"web": {"environment": {"SEEDED": "\${SEED_TOKEN}", "SEED_SLOT": "%s"}}}}}' "$KINFRA_SLOT" "$KINFRA_SLOT" ;;`,
    );
    assert.equal((await sb.kinfra(["plugins", "trust", "seed"], { cwd: repo })).code, 0);
    const run = await sb.kinfra(["impl", "seeded/M1"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    const [container] = await containersOf(`${stem}-slot-1`);
    const env = await docker("inspect", "--format", "{{json .Config.Env}}", container);
    assert.ok(env.includes('"SEEDED=tok-1"'), env);
    assert.ok(env.includes('"SEED_SLOT=1"'), env);
    const envFile = await Deno.readTextFile(join(sb.home, "slots", `${stem}-1`, ".env.sandbox"));
    assert.match(envFile, /^SEED_TOKEN=tok-1$/m);
    assert.equal((await sb.kinfra(["done", "seeded-M1"], { cwd: repo })).code, 0);
  },
);

dockerTest(
  "a plugin that sleeps past its timeout in sandbox.start is killed and impl rolls back cleanly",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    await enable(repo, "slowpoke", ["sandbox.start"], `  sandbox.start) sleep 30 ;;`, "1s");
    await sb.kinfra(["plugins", "trust", "slowpoke"], { cwd: repo });
    const start = performance.now();
    const run = await sb.kinfra(["impl", "slow/M1"], { cwd: repo });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Plugin "slowpoke" failed during sandbox\.start: timed out after 1s/);
    assert.ok((performance.now() - start) / 1000 < 20);
    assert.deepEqual(
      await containersOf(`${stem}-slot-1`),
      [],
      "containers the docker plugin started are gone",
    );
    assert.deepEqual((await registryOf(sb)).slots, {});
    assert.deepEqual(await slotDirs(sb), []);
  },
);

dockerTest(
  "work that appears while done stops the sandbox is kept: a new file, and an edit to an ignored [worktree] copy",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    // .env.local is copied into each worktree and ignored by git: `git worktree remove` would delete it.
    await Deno.writeTextFile(join(repo, ".gitignore"), ".env.local\n");
    await Deno.writeTextFile(join(repo, ".env.local"), "TOKEN=1\n");
    const toml = join(repo, ".devops-ai/infra.toml");
    await Deno.writeTextFile(toml, (await Deno.readTextFile(toml)) + '\n[worktree]\ncopy = [".env.local"]\n');
    // A plugin whose sandbox.stop (inside done, while compose goes down) writes into the worktree.
    await enable(
      repo,
      "scribbler",
      ["sandbox.stop"],
      `  sandbox.stop) case "$KINFRA_WORKTREE" in
    *newfile*) echo note > "$KINFRA_WORKTREE/notes.txt" ;;
    *copyedit*) echo EDITED=1 >> "$KINFRA_WORKTREE/.env.local" ;;
  esac ;;`,
    );
    assert.equal((await sb.kinfra(["plugins", "trust", "scribbler"], { cwd: repo })).code, 0);
    for (
      const [feature, file, line] of [["newfile", "notes.txt", "note"], [
        "copyedit",
        ".env.local",
        "EDITED=1",
      ]]
    ) {
      const made = await sb.kinfra(["impl", `${feature}/M1`, "--json"], { cwd: repo });
      assert.equal(made.code, 0, made.stderr);
      const { path, compose_project } = made.json<{ path: string; compose_project: string }>();
      const run = await sb.kinfra(["done", `${feature}-M1`], { cwd: repo });
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /made while the sandbox was stopping\); the sandbox stays stopped/);
      assert.ok(run.stderr.includes(file), run.stderr);
      assert.ok((await Deno.readTextFile(join(path, file))).includes(line), `${file} keeps what was written`);
      assert.equal(await Deno.readTextFile(join(path, "src/health")).catch(() => "gone"), "ok\n");
      const registry = await registryOf(sb);
      assert.equal(registry.worktrees[path]?.state, undefined, "the entry is back to normal");
      // done frees a local slot while git removes the worktree: a refusal before or by git frees it too.
      assert.deepEqual(registry.slots, {}, "its slot is free");
      assert.deepEqual(await containersOf(compose_project), [], "the sandbox stays stopped");
      assert.equal((await sb.kinfra(["done", "--force", `${feature}-M1`], { cwd: repo })).code, 0);
    }
  },
);
