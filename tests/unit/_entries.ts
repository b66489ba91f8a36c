/** A registry worktree entry for the unit tests: /w/a of project shop on impl/a-M1, with `extra`. */
import type { WorktreeEntry } from "../../core/slots/registry.ts";

export const worktreeEntry = (extra: Partial<WorktreeEntry> = {}): WorktreeEntry => ({
  path: "/w/a",
  kind: "impl",
  project: "shop",
  project_root: "/w/shop",
  feature: "a",
  branch: "impl/a-M1",
  base: "main",
  created_at: "2026-01-01T00:00:00Z",
  ...extra,
});
