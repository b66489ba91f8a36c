/**
 * The plugin input (`HookInput`) for each kind of dispatch, built in one place: for a project with
 * no worktree, for a worktree, and for a worktree with its slot. Each builder returns a new object.
 */
import type { HookInput } from "./plugin_api.ts";
import type { Project } from "../project/project.ts";
import type { HomePaths } from "../io/home.ts";
import { type SlotEntry, updateRegistry, type WorktreeEntry } from "../slots/registry.ts";
import { composeProject } from "../slots/slots.ts";

/** The hook input for a project with no worktree (e.g. `doctor`). */
export function projectInput(project: Project, flags: HookInput["flags"] = {}): HookInput {
  return {
    project: { name: project.name, prefix: project.prefix, root: project.root },
    worktree: null,
    slot: null,
    ports: {},
    env: {},
    flags,
    state: {},
    config: project.config ?? null,
  };
}

/** The hook input for a worktree, without a slot yet. */
export function hookInput(project: Project, entry: WorktreeEntry, flags: HookInput["flags"]): HookInput {
  return {
    ...projectInput(project, flags),
    worktree: {
      path: entry.path,
      branch: entry.branch,
      kind: entry.kind,
      feature: entry.feature,
      ...(entry.milestone ? { milestone: entry.milestone } : {}),
    },
    state: structuredClone(entry.plugin_state ?? {}),
  };
}

/**
 * The hook input with a slot: its id, directory, compose project and ports, and `extraEnv` added to
 * its env. A new object; `input` is left as it was.
 */
export function withSlot(
  input: HookInput,
  slot: SlotEntry,
  extraEnv: Record<string, string> = {},
): HookInput {
  return {
    ...input,
    env: { ...input.env, ...extraEnv },
    slot: {
      id: slot.slot_id,
      dir: slot.slot_dir,
      compose_project: composeProject(slot.project, slot.slot_id),
    },
    ports: slot.ports,
  };
}

/** Keeps what plugins returned as `state` with the worktree's registry entry. */
export async function saveState(ctx: { home: HomePaths }, path: string, input: HookInput): Promise<void> {
  if (Object.keys(input.state).length === 0) return;
  await updateRegistry(ctx.home, (reg) => {
    const entry = reg.worktrees[path];
    if (entry) entry.plugin_state = input.state;
  });
}
