/**
 * `kinfra agent-hook claude-code create` (WorktreeCreate): Claude Code sends `{session_id,
 * transcript_path, cwd, hook_event_name, name}` on stdin and takes the last line of stdout as the
 * worktree's path. kinfra makes (or, for a name it made already, resumes) the worktree and its
 * sandbox, writes its hooks into it, prints only the path; a failure leaves nothing half-made.
 */
import type { Context } from "../../context.ts";
import { usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { exists } from "../../io/home.ts";
import { hostProcess } from "../../io/host_process.ts";
import type { Project } from "../../project/project.ts";
import { type AgentRecord, readRegistry, updateRegistry } from "../../slots/registry.ts";
import { worktreeLayout } from "../../project/worktrees.ts";
import { hookEntries, hookTimeouts, writeWorktreeHooks } from "./claude_worktree.ts";
import { failed, field, readOneObject, useCwd } from "./hook_payload.ts";

/** A host's proposed name as a kinfra feature name (letters, digits, '.', '_', '-'; 64 at most). */
export function featureName(proposed: string): string {
  const name = proposed.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/\.{2,}/g, ".").replace(
    /^[^A-Za-z0-9]+/,
    "",
  )
    .slice(0, 64).replace(/(\.lock|[.-])+$/, "");
  if (!name) throw usageError(`Cannot make a worktree name of ${JSON.stringify(proposed)}.`);
  return name;
}

/** What a host's payload says about its session (recorded with the worktree, shown by `worktrees`/`gc`). */
function agentRecord(payload: Record<string, unknown>, files: string[]): AgentRecord {
  const session_id = field(payload, "session_id");
  const transcript_path = field(payload, "transcript_path");
  const process = hostProcess();
  return {
    host: "claude-code",
    ...(session_id ? { session_id } : {}),
    ...(transcript_path ? { transcript_path } : {}),
    ...(process ? { process } : {}),
    files,
  };
}

/** Writes the hooks into the worktree and records the host with its registry entry. */
async function recordAgent(ctx: Context, project: Project, path: string, payload: Record<string, unknown>) {
  const health = project.config?.sandbox?.health?.timeout ?? 60;
  const before = (await readRegistry(ctx.home)).worktrees[path];
  const owned = [...before?.agent?.files ?? [], ...Object.keys(before?.copied ?? {})];
  const files = await writeWorktreeHooks(ctx, path, hookEntries(ctx, hookTimeouts(health)), owned);
  await updateRegistry(ctx.home, (reg) => {
    const entry = reg.worktrees[path];
    if (!entry) return;
    entry.agent = agentRecord(payload, [...new Set([...entry.agent?.files ?? [], ...files])]);
  });
}

/**
 * `claude -w <name>` for a name kinfra made already: the same worktree again (its sandbox started
 * if it is stopped). An entry whose directory was removed behind kinfra's back is torn down first
 * (sandbox stopped, slot released, a branch with no commits of its own deleted) and made afresh.
 */
async function resume(ctx: Context, path: string): Promise<string | undefined> {
  const entry = (await readRegistry(ctx.home)).worktrees[path];
  if (!entry) return undefined;
  if (entry.state || !await exists(path)) {
    ctx.log.warn(
      `${path} is half-made, half-removed or gone; cleaning up what is left before making it again.`,
    );
    await (await import("../done.ts")).done(ctx, { name: path });
    return undefined;
  }
  ctx.log.step(`Resuming the kinfra worktree ${path}`);
  if (entry.kind === "impl" && (await ctx.project(entry.project_root)).config?.sandbox) {
    await (await import("../sandbox_cmds.ts")).up(ctx, { name: path });
  }
  return path;
}

/**
 * Claude Code ends a hook that outlives its `timeout` with SIGTERM (measured: "Hook cancelled", then
 * SIGKILL about two seconds later): abort as Ctrl-C does, so the sandbox start rolls back.
 */
function abortOnTerm(ctx: Context): { stop(): void; restore(): void } {
  const term = new AbortController();
  const onTerm = () => term.abort();
  Deno.addSignalListener("SIGTERM", onTerm);
  const original = ctx.signal;
  ctx.signal = AbortSignal.any([original, term.signal]);
  return {
    stop: () => Deno.removeSignalListener("SIGTERM", onTerm),
    // After the rollback, the fresh worktree still goes (unless Ctrl-C aborted everything).
    restore: () => void (ctx.signal = original),
  };
}

export async function create(ctx: Context, stdin = Deno.stdin.readable): Promise<CommandOutput> {
  let made: string | undefined;
  const term = abortOnTerm(ctx);
  try {
    const payload = await readOneObject(stdin);
    const proposed = field(payload, "name");
    if (!proposed) throw usageError('The payload has no "name" for the worktree.');
    await useCwd(ctx, field(payload, "cwd"));
    const project = await ctx.project();
    const agents = project.config?.agents;
    const kind = agents?.worktree ?? (project.config?.sandbox ? "impl" : "spec");
    const feature = featureName(proposed);
    const milestone = agents?.milestone ?? "M1";
    const target = worktreeLayout(project, { kind, feature, milestone }).path;
    let path = await resume(ctx, target);
    if (!path) {
      made = target;
      const output = kind === "impl"
        ? await (await import("../impl.ts")).impl(ctx, { target: `${feature}/${milestone}` })
        : await (await import("../spec.ts")).spec(ctx, { feature });
      path = (output.data as { path: string }).path;
    }
    await recordAgent(ctx, project, path, payload);
    return { data: { path, resumed: made === undefined }, text: path };
  } catch (e) {
    // The host gets no worktree: what this call made goes again (a sandbox failure keeps it otherwise).
    term.restore();
    if (made && (await readRegistry(ctx.home)).worktrees[made]) {
      await (await import("../done.ts")).done(ctx, { name: made, force: true, deleteBranch: true }).catch(
        () => {},
      );
    }
    return failed(e);
  } finally {
    term.stop();
  }
}
