/**
 * The README's first command: `bash scripts/demo.sh` runs kinfra's main flow to the end, exit 0, and
 * leaves nothing behind — its work dir (and the home in it) removed, no kinfra process of its own left.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertDocker, needsDocker, pathExists, runCommand } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The pids of processes whose command line names `text`. */
async function processesNaming(text: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (cmdline.replaceAll("\0", " ").includes(text)) pids.push(Number(entry.name));
  }
  return pids;
}

Deno.test({
  name: "the demo runs kinfra's main flow to the end and leaves no directory or process behind",
  ...needsDocker(),
  fn: async () => {
    assertDocker();
    const demo = await runCommand("bash", [join(ROOT, "scripts/demo.sh")]);
    const output = demo.stdout + demo.stderr;
    assert.equal(demo.code, 0, output.slice(-3000));
    for (
      const step of [
        "Spec worktree ready",
        "(exit 3 — nothing was removed)",
        "Impl worktree ready",
        "compose project shop-slot-2 · running",
        "screenshot of the dashboard",
        "branch impl/search-M1 deleted (merged)",
      ]
    ) {
      assert.ok(output.includes(step), `"${step}" missing from:\n${output.slice(-3000)}`);
    }
    const work = /Work dir: (\S+), removed\)/.exec(demo.stdout)?.[1];
    assert.ok(work, demo.stdout.slice(-500));
    assert.equal(await pathExists(work), false, `${work} is left`);
    // Its proxy (started as `deno run … <root>/main.ts proxy run`) is gone with it.
    assert.deepEqual(await processesNaming(`${join(ROOT, "main.ts")} proxy run`), []);
  },
});
