/**
 * The hostile infra.toml table (tests/hostile_config.ts) through the real CLI: `impl` and `status`
 * on each file exit 2 with the reason, never an "Internal error" or a stack trace, and leave
 * nothing behind — no worktree, no branch, no registry entry, no slot directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, inCI, makeSandbox, pathExists, type Run, writeFiles } from "./helpers.ts";
import { HOSTILE } from "./hostile_config.ts";

const COMPOSE =
  'services:\n  web:\n    image: kinfra-test/busybox:latest\n    ports: ["${WEB_PORT:-8080}:80"]\n';

Deno.test(`impl and status refuse ${HOSTILE.length} hostile infra.toml files cleanly (exit 2, nothing left)`, async (t) => {
  const sb = await makeSandbox();
  try {
    const repos: string[] = [];
    for (let i = 0; i < HOSTILE.length; i++) {
      const repo = await sb.repo(`h${i}`, { "docker-compose.yml": COMPOSE });
      await writeFiles(repo, { ".devops-ai/infra.toml": HOSTILE[i][1] });
      await git(repo, "add", "-A");
      await git(repo, "commit", "-qm", "hostile infra.toml");
      repos.push(repo);
    }
    // Small batches: each case is two real kinfra processes.
    const runs: [Run, Run][] = [];
    for (let i = 0; i < repos.length; i += 4) {
      runs.push(
        ...await Promise.all(
          repos.slice(i, i + 4).map(async (cwd) =>
            [
              await sb.kinfra(["impl", "h/M1"], { cwd }),
              await sb.kinfra(["status"], { cwd }),
            ] as [Run, Run]
          ),
        ),
      );
    }
    for (const [i, [what, , said]] of HOSTILE.entries()) {
      await t.step(what, async () => {
        for (const [command, run] of [["impl", runs[i][0]], ["status", runs[i][1]]] as const) {
          assert.equal(run.code, 2, `${command}: exit ${run.code}\n${run.stderr}`);
          assert.doesNotMatch(run.stderr, /Internal error| {4}at /, `${command}: ${run.stderr}`);
          assert.match(run.stderr, said, `${command} must say why`);
        }
        assert.equal(await pathExists(join(sb.dir, "hostile-impl-h-M1")), false, "no worktree");
        assert.equal(await git(repos[i], "branch", "--list", "impl/*"), "", "no branch");
      });
    }
    const registry = join(sb.home, "registry.json");
    if (await pathExists(registry)) {
      assert.deepEqual(
        JSON.parse(await Deno.readTextFile(registry)).worktrees ?? {},
        {},
        "no registry entry",
      );
    }
    const slots = join(sb.home, "slots");
    assert.deepEqual(
      await pathExists(slots) ? await Array.fromAsync(Deno.readDir(slots)) : [],
      [],
      "no slot dir",
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("doctor reports a hostile infra.toml as a failed check naming the key (it said all was well)", async () => {
  const sb = await makeSandbox();
  try {
    const [, text, said] = HOSTILE[0];
    const repo = await sb.repo("doc", { "docker-compose.yml": COMPOSE, ".devops-ai/infra.toml": text });
    const run = await sb.kinfra(["--json", "doctor"], { cwd: repo });
    const checks = run.json<{ checks: { name: string; ok: boolean; detail: string; severity?: string }[] }>()
      .checks;
    const config = checks.find((c) => c.name === "config");
    assert.ok(config && !config.ok, JSON.stringify(checks));
    assert.match(config.detail, said);
    // A config error exits 2, as every command's does; 4 is for what the machine lacks.
    const missing = checks.filter((c) => !c.ok && c.name !== "config" && c.severity !== "warning");
    assert.equal(run.code, missing.length ? 4 : 2, JSON.stringify(missing));
    if (inCI) assert.deepEqual(missing, [], "CI has git, Docker and Compose: only the config fails");
  } finally {
    await sb.cleanup();
  }
});
