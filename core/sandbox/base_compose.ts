/**
 * The compose file as a new worktree will have it: committed on the base ref, resolved by Compose
 * for a slot. `impl` checks it before creating anything; `kinfra warm` starts warm sandboxes from it.
 */
import { join } from "../io/path.ts";
import type { Context } from "../context.ts";
import { Exit, KinfraError, usageError } from "../errors.ts";
import type { Project } from "../project/project.ts";
import { rangeWidths, slotPorts } from "../slots/ports.ts";
import { composeProject } from "../slots/slot_files.ts";
import { slotCompose } from "../compose/slot_compose.ts";
import { composePath, showBaseCompose } from "../project/show_compose.ts";
import type { ExecResult } from "../io/exec.ts";

/**
 * Checks the compose file as the new worktree will have it — committed on `base` — before anything
 * is created: Compose resolves it (with the project's `.env`, `extends` and `include`) with the
 * first slot's variables (or `slot`'s), and a host port that would be the same in every slot is refused.
 */
export async function checkBaseCompose(
  ctx: Context,
  project: Project,
  base: string,
  slot?: { id: number; ports: Record<string, number>; widths?: Record<string, number> },
  /** `showBaseCompose(…, base)`, started already by the caller. */
  showing?: Promise<ExecResult>,
) {
  const sandbox = project.config!.sandbox!;
  const file = composePath(project);
  const shown = await (showing ?? showBaseCompose(ctx, project, base));
  if (!shown.success) {
    throw usageError(
      `${file} is not committed on ${base}, so the new worktree would have no compose file.`,
      `Commit it (git add ${file} && git commit), or pass --no-sandbox.`,
    );
  }
  const onDisk = await Deno.readTextFile(join(project.root, sandbox.compose_file)).catch(() => undefined);
  return await slotCompose(ctx, project, {
    dir: project.root,
    project: composeProject(project.name, slot?.id ?? 1),
    vars: slot?.ports ?? slotPorts(sandbox.ports, 1),
    widths: slot ? slot.widths : rangeWidths(sandbox.ports),
    text: onDisk === shown.stdout ? undefined : shown.stdout,
    label: `${file} (on ${base})`,
  }).catch((e) => {
    // The checkout's file differs from the committed one (init's edits, not committed yet, say):
    // when the edits are the fix, committing them is, not another init.
    if (
      !(e instanceof KinfraError) || e.code !== Exit.usage || onDisk === undefined || onDisk === shown.stdout
    ) {
      throw e;
    }
    throw new KinfraError(e.message, {
      code: e.code,
      details: e.details,
      hint: `Your checkout's ${file} differs from the one committed on ${base}, which the new worktree ` +
        `gets: if your changes fix this, commit them (git add ${file} && git commit). ${e.hint ?? ""}`.trim(),
    });
  });
}
