/** The registry: locked read-modify-write across processes, atomic writes, and corruption handling. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { homePaths } from "../core/io/home.ts";
import { readRegistry, updateRegistry } from "../core/slots/registry.ts";
import { runCommand, withSandbox } from "./helpers.ts";

const WRITER = new URL("./fixtures/registry_writer.ts", import.meta.url).pathname;

Deno.test("20 concurrent processes updating the registry leave valid JSON with every update", () =>
  withSandbox(async (sb) => {
    const runs = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => runCommand(Deno.execPath(), ["run", "-A", "--quiet", WRITER, sb.home, String(i)]),
      ),
    );
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
    assert.deepEqual(
      Object.keys(registry.worktrees).sort(),
      Array.from({ length: 20 }, (_, i) => `/w/${i}`).sort(),
    );
    // No temp files are left behind by the atomic writes.
    const leftovers = [...Deno.readDirSync(sb.home)].map((e) => e.name).filter((n) => n.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  }));

Deno.test("a corrupt registry gives a clear error and is never replaced", () =>
  withSandbox(async (sb) => {
    const home = homePaths(new Map([["KINFRA_HOME", sb.home]]));
    await Deno.mkdir(sb.home, { recursive: true });
    await Deno.writeTextFile(home.registry, '{"version": 1, "slots": {');
    await assert.rejects(() => readRegistry(home), /registry .* is corrupt/);
    await assert.rejects(() => updateRegistry(home, () => {}), /is corrupt/);
    assert.equal(await Deno.readTextFile(home.registry), '{"version": 1, "slots": {');

    const run = await sb.kinfra(["worktrees"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /corrupt/);
    assert.match(run.stderr, /hint: .*move it aside/);
    assert.doesNotMatch(run.stderr, / {4}at /);
  }));

Deno.test("a registry of the wrong shape is reported with the failing key", () =>
  withSandbox(async (sb) => {
    const home = homePaths(new Map([["KINFRA_HOME", sb.home]]));
    await Deno.mkdir(sb.home, { recursive: true });
    await Deno.writeTextFile(home.registry, JSON.stringify({ version: 1, slots: { "1": { slot_id: "x" } } }));
    await assert.rejects(() => readRegistry(home), /slots\.1\.slot_id/);
  }));
