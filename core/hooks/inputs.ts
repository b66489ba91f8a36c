/**
 * The plugin input (`HookInput`) for each kind of dispatch, built in one place: for a project with
 * no worktree, for a worktree, and for a worktree with its slot. Each builder returns a new object,
 * typed for the events it may be dispatched to (a slot event needs a `SlotInput`); the dispatcher
 * never changes an input either, it hands back the next one (`Hooks.setup`).
 */
import type { EventInput, HookInput, SlotEvent } from "./plugin_api.ts";
import type { Project } from "../project/project.ts";
import type { HomePaths } from "../io/home.ts";
import { type SlotEntry, updateRegistry, type WorktreeEntry } from "../slots/registry.ts";
import { composeProject } from "../slots/slot_files.ts";

/** The input of events about a project (every event but the runtime ones). */
export type ProjectInput = HookInput & { project: NonNullable<HookInput["project"]> };
/** The input of events about a worktree. */
export type WorktreeInput = ProjectInput & { worktree: NonNullable<HookInput["worktree"]> };
/** The input of events about a worktree's slot (SLOT_EVENTS). */
export type SlotInput = WorktreeInput & EventInput<SlotEvent>;

/** The hook input for a project with no worktree (e.g. `doctor`). */
export function projectInput(project: Project, flags: HookInput["flags"] = {}): ProjectInput {
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
export function hookInput(project: Project, entry: WorktreeEntry, flags: HookInput["flags"]): WorktreeInput {
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
  input: WorktreeInput,
  slot: Pick<SlotEntry, "slot_id" | "slot_dir" | "project" | "ports" | "remote">,
  extraEnv: Record<string, string> = {},
): SlotInput {
  return {
    ...input,
    env: { ...input.env, ...extraEnv },
    slot: {
      id: slot.slot_id,
      dir: slot.slot_dir,
      compose_project: composeProject(slot.project, slot.slot_id),
      ...(slot.remote && {
        remote: {
          host: slot.remote.host,
          docker_host: slot.remote.docker_host,
          ...(slot.remote.volumes
            ? { code_volumes: slot.remote.volumes }
            : slot.remote.copy && { code_root: slot.remote.copy }),
          ...(slot.remote.shared && { shared_root: slot.remote.shared.copy }),
          // core/remote/otlp_relay.ts: the forwarder on the bridge gateway, back to the collector here.
          ...(slot.remote.otlp && { otlp_endpoint: `http://host.docker.internal:${slot.remote.otlp.port}` }),
        },
      }),
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
