/**
 * `kinfra agent-hook claude-code remove` (WorktreeRemove): Claude Code sends `{session_id,
 * transcript_path, cwd, prompt_id, hook_event_name, worktree_path}`, run inside the worktree being
 * removed; kinfra runs `done` on it with its guarantees, and a refusal's hint is one a hook user can
 * follow (there is no `--force` to pass through a hook).
 */
import { basename, dirname } from "../../io/path.ts";
import type { Context } from "../../context.ts";
import { Exit, KinfraError, usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { readRegistry, updateRegistry } from "../../slots/registry.ts";
import { failed, field, readOneObject, useCwd } from "./hook_payload.ts";

/** What a host user can do when a remove is refused: there is no --force to pass through a hook. */
function hookHint(e: unknown, name: string): unknown {
  if (!(e instanceof KinfraError) || e.code !== Exit.blocked) return e;
  const hint = /uncommitted/.test(e.message)
    ? `Commit or stash them, then run \`kinfra done ${name}\` (\`kinfra done ${name} --force\` discards them); ` +
      'or set `[agents] remove_dirty = "force"` in .devops-ai/infra.toml to let the agent\'s remove discard them.'
    : `Run \`kinfra done ${name}\` once that is settled (\`--force\` overrides).`;
  return new KinfraError(e.message, { code: e.code, hint, details: e.details, cause: e });
}

export async function remove(ctx: Context, stdin = Deno.stdin.readable): Promise<CommandOutput> {
  let path: string | undefined;
  try {
    const payload = await readOneObject(stdin);
    path = field(payload, "worktree_path");
    if (!path) throw usageError('The payload has no "worktree_path".');
    // Claude runs this hook inside the worktree it removes; kinfra works from the project beside it.
    await useCwd(ctx, field(payload, "cwd") ?? dirname(path));
    const entry = Object.values((await readRegistry(ctx.home)).worktrees).find((w) => w.path === path);
    const project = entry && await ctx.project(entry.project_root);
    const force = project?.config?.agents?.remove_dirty === "force";
    const output = await (await import("../done.ts")).done(ctx, { name: path, force });
    return { data: output.data, text: "", exitCode: output.exitCode };
  } catch (e) {
    if (!path) return failed(e);
    const refusal = hookHint(e, basename(path));
    if (refusal instanceof KinfraError && refusal.code === Exit.blocked) {
      await noteRefusal(ctx, path, refusal);
    }
    return failed(refusal);
  }
}

/** Claude shows no reason for a refused remove ("Worktree could not be removed"), so kinfra keeps it. */
async function noteRefusal(ctx: Context, path: string, e: KinfraError): Promise<void> {
  await updateRegistry(ctx.home, (reg) => {
    const agent = reg.worktrees[path]?.agent;
    if (agent) agent.remove_refused = `${e.message} ${e.hint ?? ""}`.trim();
  }).catch(() => {});
}
