/** Fixtures for the dispatcher's unit tests: a slot's input and an environment that runs nothing. */
import { GLOBAL_DEFAULTS } from "../../core/project/config/defaults.ts";
import { exec } from "../../core/io/exec.ts";
import { silentLogger } from "../../core/io/output.ts";
import type { ProjectInput, SlotInput } from "../../core/hooks/inputs.ts";

/** The input of a project's event (no worktree, no slot). */
export const projectInput = (): ProjectInput => ({
  project: { name: "p", prefix: "p", root: "/p" },
  worktree: null,
  slot: null,
  ports: {},
  env: {},
  flags: {},
  state: {},
  config: null,
});

/** The input of a slot event: project p, worktree /w, slot 1. */
export const slotInput = (ports: Record<string, number> = {}): SlotInput => ({
  ...projectInput(),
  worktree: { path: "/w", branch: "impl/a-m", kind: "impl", feature: "a", milestone: "m" },
  slot: { id: 1, dir: "/s/p-1", compose_project: "p-slot-1" },
  ports,
});

/** The dispatcher's environment, silent; compose is never asked. */
export const hookEnvironment = {
  log: silentLogger,
  exec,
  signal: new AbortController().signal,
  home: "/tmp",
  homeId: "0123456789abcdef",
  compose: () => Promise.reject(new Error("not used")),
  global: GLOBAL_DEFAULTS,
};
