/**
 * The core's view of the sandbox runtime, through plugin events only — the docker plugin answers
 * them today; a Kubernetes or remote-host plugin would answer the same: which sandboxes exist and
 * whose they are (`runtime.scan`), and removing what this home left of a slot (`sandbox.purge`).
 */
import type { Context } from "../context.ts";
import type { HookInput } from "../hooks/plugin_api.ts";
import { composeProject, slotDir } from "../slots/slot_files.ts";

/** The input of an event about the runtime as a whole (no project, no worktree). */
export function runtimeInput(slot: HookInput["slot"], flags: HookInput["flags"] = {}): HookInput {
  return { project: null, worktree: null, slot, ports: {}, env: {}, flags, state: {}, config: null };
}

export interface RuntimeSandboxes {
  /** Sandboxes (compose projects) carrying this home's label. */
  ours: Set<string>;
  /** Sandboxes that do not: another kinfra home's, or not kinfra's at all. */
  foreign: Set<string>;
  /** Plugins that could not say (`<plugin>: <why>`); the sets are then incomplete. */
  failures: string[];
}

/** Every plugin's answer to `runtime.scan`, merged; of a remote host's engine with `dockerHost`. */
export async function scanRuntime(
  ctx: Context,
  dockerHost?: string,
  hostName?: string,
): Promise<RuntimeSandboxes> {
  const { replies, failures } = await (await ctx.hooks()).onEngine(dockerHost, hostName).observe(
    "runtime.scan",
    runtimeInput(null),
  );
  return {
    ours: new Set(replies.flatMap((r) => r.result.ours ?? [])),
    foreign: new Set(replies.flatMap((r) => r.result.foreign ?? [])),
    failures: failures.map((f) => `${f.plugin}: ${f.message}`),
  };
}

/**
 * Removes what this home left of a slot's sandbox (containers, networks, volumes carrying its
 * label), whatever else is gone. False when a plugin failed (the dispatcher has said why).
 */
export async function purgeSandbox(
  ctx: Context,
  project: string,
  id: number,
  dockerHost?: string,
  hostName?: string,
): Promise<boolean> {
  const slot = { id, dir: slotDir(ctx, project, id), compose_project: composeProject(project, id) };
  const { failures } = await (await ctx.hooks()).onEngine(dockerHost, hostName).teardown(
    "sandbox.purge",
    runtimeInput(slot),
  );
  return failures.length === 0;
}
