/**
 * `kinfra done [name]`: tears a worktree down in the order of GAP-9 — veto check, sandbox stop,
 * slot release, `git worktree remove`, `worktree.removed` — and never loses work: a dirty worktree
 * needs `--force`, an unmerged branch is kept unless `--delete-branch`.
 */
import { basename } from "node:path";
import type { Context } from "../context.ts";
import { messagesOf } from "../hooks.ts";
import { blockedError } from "../errors.ts";
import type { CommandOutput } from "../output.ts";
import { exists } from "../paths.ts";
import { updateRegistry } from "../registry.ts";
import { stopSandbox } from "../sandbox.ts";
import { slotOf } from "../slots.ts";
import { assertNotMainWorktree, dirtyFiles, findWorktree, hookInput } from "../worktrees.ts";

export interface DoneOptions {
  name?: string;
  force?: boolean;
  deleteBranch?: boolean;
}

export async function done(ctx: Context, options: DoneOptions): Promise<CommandOutput> {
  const entry = await findWorktree(ctx, options.name);
  const project = await ctx.project(entry.project_root);
  assertNotMainWorktree(project, entry.path);
  const present = await exists(entry.path);
  const force = Boolean(options.force);

  if (present && !force) {
    const dirty = await dirtyFiles(ctx, entry);
    if (dirty.length) {
      throw blockedError(
        `${basename(entry.path)} has uncommitted changes; nothing was removed.`,
        "Commit or stash them, or pass --force to discard them.",
        dirty,
      );
    }
  }

  const hooks = await ctx.hooks(project);
  const input = hookInput(project, entry, { force: options.force, deleteBranch: options.deleteBranch });
  const messages: string[] = [];
  const collect = (replies: { result: { messages?: string[] } }[]) => messages.push(...messagesOf(replies));

  const removing = await hooks.teardown("worktree.removing", input);
  collect(removing.replies);
  const vetoes = removing.replies.filter((r) => r.result.veto).map((r) => `${r.plugin}: ${r.result.veto}`);
  if (vetoes.length && !force) {
    throw blockedError(
      `Removal of ${basename(entry.path)} was vetoed; nothing was removed.`,
      "Pass --force to override.",
      vetoes,
    );
  }

  const failures = [...removing.failures];
  const slot = await slotOf(ctx, entry.path);
  if (slot) {
    ctx.log.step(`Stopping sandbox (slot ${slot.slot_id})`);
    failures.push(...await stopSandbox(ctx, hooks, input, slot, messages));
  }

  ctx.log.step(`Removing worktree ${entry.path}`);
  if (present) await ctx.git.removeWorktree(project.gitRoot, entry.path, true);
  else {
    ctx.log.warn(`Worktree directory ${entry.path} is already gone; pruning git's record of it.`);
    await ctx.git.pruneWorktrees(project.gitRoot);
  }
  await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
  const removed = await hooks.teardown("worktree.removed", input);
  collect(removed.replies);
  failures.push(...removed.failures);

  const branch = await settleBranch(
    ctx,
    project.gitRoot,
    entry.branch,
    entry.base,
    Boolean(options.deleteBranch),
  );
  return {
    data: {
      path: entry.path,
      project: entry.project,
      kind: entry.kind,
      branch,
      messages,
      plugin_failures: failures,
    },
    text: [
      `${ctx.style.green("✓")} Removed ${entry.path}`,
      branch.deleted
        ? `  branch ${branch.name} deleted${branch.merged ? " (merged)" : " (--delete-branch)"}`
        : `  branch ${branch.name} kept: ${branch.reason}`,
      ...messages.map((m) => `  ${m}`),
      ...failures.map((f) =>
        `  ${ctx.style.yellow("!")} plugin ${f.plugin} failed during ${f.event}: ${f.message}`
      ),
    ].join("\n"),
  };
}

interface BranchOutcome {
  name: string;
  deleted: boolean;
  merged: boolean;
  reason?: string;
}

/** Deletes the branch only when merged into its base (or when forced). */
async function settleBranch(
  ctx: Context,
  repo: string,
  name: string,
  base: string,
  forceDelete: boolean,
): Promise<BranchOutcome> {
  if (!await ctx.git.branchExists(repo, name)) {
    return { name, deleted: false, merged: false, reason: "it no longer exists" };
  }
  const merged = await ctx.git.isMerged(repo, name, base);
  if (!merged && !forceDelete) {
    return {
      name,
      deleted: false,
      merged,
      reason:
        `it has commits not merged into ${base}. Merge it, or delete it with \`git branch -D ${name}\` ` +
        `(or next time \`kinfra done --delete-branch\`).`,
    };
  }
  await ctx.git.deleteBranch(repo, name);
  return { name, deleted: true, merged };
}
