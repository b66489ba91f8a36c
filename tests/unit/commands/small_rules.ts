/**
 * Small rules of the commands and the worktree lifecycle: snapshot names, how `status` prints a slot,
 * when a worktree's recorded owner is still at work, and that the main worktree is never removed.
 */
import { worktreeEntry } from "../_entries.ts";
import assert from "node:assert/strict";
import { checkSnapshotName } from "../../../core/commands/snapshot.ts";
import { renderSandbox } from "../../../core/commands/status.ts";
import type { SandboxConfig } from "../../../core/project/config/schema.ts";
import type { Project } from "../../../core/project/project.ts";
import { assertNotMainWorktree, ownerBusy } from "../../../core/project/worktrees.ts";
import type { SlotEntry } from "../../../core/slots/registry.ts";
import { kinfraErrorOf, usageOf } from "../_usage.ts";

Deno.test("checkSnapshotName() accepts lower-case names with '.', '_' and '-'", () => {
  for (const ok of ["clean", "v1.2_seed-3", "0"]) checkSnapshotName(ok);
});

Deno.test("checkSnapshotName() refuses capitals, a leading '-' and names over 63 characters, with the rule", () => {
  for (const bad of ["Clean", "-x", "a".repeat(64), "a b", ""]) {
    assert.match(
      usageOf(() => checkSnapshotName(bad)),
      /is not a snapshot name: snapshot names are 1–63 characters/,
      bad,
    );
  }
});

const SLOT: SlotEntry = {
  slot_id: 2,
  project: "shop",
  worktree_path: "/w/a",
  slot_dir: "/s/shop-2",
  compose_file_copy: "/s/shop-2/docker-compose.yml",
  ports: { WEB: 8082, DB: 5434, LS: 4516, LS_END: 4518 },
  widths: { LS: 3 },
  http: ["WEB"],
  claimed_at: "2026-01-01T00:00:00Z",
  status: "running",
};

Deno.test("renderSandbox() prints the slot, its compose project and status, then each port", () => {
  assert.deepEqual(renderSandbox(SLOT), [
    "  slot 2 · compose project shop-slot-2 · running",
    "  WEB=8082  http://127.0.0.1:8082/",
    "  DB=5434",
    "  LS=4516…4518",
  ]);
});

Deno.test("renderSandbox() adds the health URL when the sandbox has a health check", () => {
  const sandbox = { health: { endpoint: "/up", port_var: "WEB", timeout: 60 } } as SandboxConfig;
  assert.equal(renderSandbox(SLOT, sandbox).at(-1), "  health http://127.0.0.1:8082/up");
});

const entry = worktreeEntry;

Deno.test("ownerBusy() is true while the live process that set the state works on it", () => {
  assert.equal(ownerBusy(entry({ state: "creating", pid: Deno.pid, host: Deno.hostname() })), true);
});

Deno.test("ownerBusy() is false once that process is gone, and for an entry without a state", async () => {
  const child = new Deno.Command("true").spawn();
  await child.status;
  assert.equal(ownerBusy(entry({ state: "removing", pid: child.pid, host: Deno.hostname() })), false);
  assert.equal(ownerBusy(entry({ pid: Deno.pid })), false);
});

Deno.test("assertNotMainWorktree() refuses the project's main worktree (exit 2) and passes any other", async () => {
  const project = { gitRoot: "/src/shop" } as Project;
  assertNotMainWorktree(project, "/src/shop-impl-a-M1");
  const e = await kinfraErrorOf(() => assertNotMainWorktree(project, "/src/shop"));
  assert.deepEqual([e.code, e.message], [
    2,
    '"/src/shop" is the project\'s main worktree; kinfra never removes it.',
  ]);
});
