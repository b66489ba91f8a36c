/**
 * `kinfra done [name]`: tears a worktree down in this order — veto check, sandbox stop,
 * slot release, `git worktree remove`, `worktree.removed` — and never loses work:
 * - a dirty worktree needs `--force`; what appears after that check (while the sandbox stops) is
 *   refused by git itself at the last instant (no force unless `--force`), and an edited copy git
 *   ignores is looked for by kinfra;
 * - an edited `[worktree] copy` file is work like any other;
 * - Ctrl-C stops before the next destructive step, and the exit code says how far it got;
 * - an unmerged branch is kept unless `--delete-branch`.
 */
import { basename, join } from "../io/path.ts";
import type { Context } from "../context.ts";
import { blockedError, Exit, KinfraError } from "../errors.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { refOnDisk } from "../project/git.ts";
import { type Failure, messagesOf } from "../hooks/dispatch.ts";
import type { CommandOutput } from "../io/output.ts";
import { exists } from "../io/home.ts";
import type { WorktreeEntry } from "../slots/registry.ts";
import { dirtyError, removeWorktree } from "./done_remove.ts";
import { teardownSandbox, tellProxy } from "../sandbox/stop.ts";
import { slotOf } from "../slots/registry.ts";
import {
  assertNotMainWorktree,
  dirtyFiles,
  editedWork,
  finishInterrupted,
  ownerBusy,
} from "../project/worktrees.ts";
import { hookInput, withSlot } from "../hooks/inputs.ts";

export interface DoneOptions {
  name?: string;
  force?: boolean;
  deleteBranch?: boolean;
  /** `--keep-volumes`: the sandbox's named volumes stay (its data). */
  keepVolumes?: boolean;
}

export async function done(ctx: Context, options: DoneOptions): Promise<CommandOutput> {
  const entry = await findWorktree(ctx, options.name);
  const project = await ctx.project(entry.project_root);
  assertNotMainWorktree(project, entry.path);
  const force = Boolean(options.force);
  if (entry.state) return await finish(ctx, entry, force);

  const present = await exists(entry.path);
  if (present && !await exists(join(entry.path, ".git")) && !force) {
    throw blockedError(
      `${entry.path} has no .git: it is not a working git worktree any more, so its files cannot be checked for changes.`,
      "Look through it; `kinfra done --force` deletes what is left.",
    );
  }
  const checkClean = async (after: string) => {
    if (!present || force) return;
    const dirty = await dirtyFiles(ctx, entry);
    if (dirty.length) throw dirtyError(entry, dirty, after);
  };
  // The plugins load while git looks for changes: loading has no side effects, and nothing of
  // theirs runs before the worktree is found clean. So does which Compose to call, for a worktree
  // with a sandbox to stop (a cache read).
  const loading = ctx.hooks(project);
  loading.catch(() => {}); // when the check refuses, its error is the one reported
  if (entry.slot !== undefined) ctx.compose().catch(() => {}); // a failure is reported where it is used
  await checkClean("");

  const hooks = await loading;
  let input = hookInput(project, entry, {
    force: options.force,
    deleteBranch: options.deleteBranch,
    keepVolumes: options.keepVolumes,
  });
  const messages: string[] = [];
  const collect = (replies: { plugin: string; result: { messages?: string[] } }[]) =>
    messages.push(...messagesOf(replies));
  const stopIfInterrupted = (what: string) => {
    if (ctx.signal.aborted) {
      throw new KinfraError(`Interrupted: ${what}; the worktree was not removed.`, {
        code: Exit.interrupted,
        hint: `Run \`kinfra done ${basename(entry.path)}\` again to finish.`,
      });
    }
  };

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
  stopIfInterrupted("nothing was changed");

  const failures: Failure[] = [...removing.failures];
  const slot = await slotOf(ctx, entry.path);
  let proxyCaughtUp: Promise<void> | undefined;
  // A local slot is freed while git removes the worktree (a registry write and its fsync off the
  // way), or, when something below refuses first, before the command returns. The proxy is told
  // once the slot is free: it acts on the registry, and nothing below reads what it does. The
  // command still returns only once it has (the finally below).
  let release: (() => Promise<void>) | undefined;
  let freeing: Promise<void> | undefined;
  const freeSlot = () => {
    if (!freeing && release) {
      freeing = release();
      proxyCaughtUp = freeing.then(() => tellProxy(ctx));
      proxyCaughtUp.catch(() => {}); // awaited in the finally below
    }
    return freeing;
  };
  if (slot) {
    input = withSlot(input, slot); // worktree.removed still sees the slot it had
    ctx.log.step(`Stopping sandbox (slot ${slot.slot_id})`);
    // A remote slot is freed here, once its host confirms.
    const defer = slot.remote ? undefined : (r: () => Promise<void>) => void (release = r);
    failures.push(...await teardownSandbox(ctx, hooks, input, slot, messages, defer));
    if (!release) proxyCaughtUp = tellProxy(ctx);
  }
  try {
    if (slot) stopIfInterrupted(`the sandbox of slot ${slot.slot_id} was stopped`);
    // Changes made since the first check: `git worktree remove` refuses whatever git sees, at the
    // last instant (removeWorktree), so git is not asked twice; what git cannot see, an edited
    // `[worktree] copy` file it ignores (and would delete), is looked for here.
    const during = slot
      ? " (made while the sandbox was stopping); the sandbox stays stopped"
      : " (made while it was being removed)";
    const edited = present && !force ? await editedWork(entry) : [];
    if (edited.length) throw dirtyError(entry, edited, during);

    // The code copy on a remote host goes with the worktree.
    const remoteCopy = entry.remote_copy as import("../slots/registry.ts").RemoteSlot | undefined;
    const copyGone = remoteCopy &&
      await (await import("../remote/remote_slot.ts")).removeRemoteCopy(ctx, remoteCopy);
    if (copyGone) messages.push(copyGone);

    // Whether the base has the branch's commits is asked while git removes the worktree, of the
    // commit the branch points at now; settleBranch takes the answer only if it still points there.
    const tip = refOnDisk(project.gitRoot, entry.branch);
    const ancestry = tip
      ? { tip, merged: ctx.git.isAncestor(project.gitRoot, tip, entry.base).catch(() => undefined) }
      : undefined;
    ctx.log.step(`Removing worktree ${entry.path}`);
    const left = await removeWorktree(ctx, project, entry, { present, force, during, beside: freeSlot });
    if (left) messages.push(left);
    const removed = await hooks.teardown("worktree.removed", input);
    collect(removed.replies);
    failures.push(...removed.failures);

    // The worktree is gone; Ctrl-C now only spares the branch, and the exit code says so.
    const branch = ctx.signal.aborted
      ? {
        name: entry.branch,
        deleted: false,
        merged: false,
        reason: "interrupted before the branch was settled",
      }
      : await settleBranch(
        ctx,
        project.gitRoot,
        entry.branch,
        entry.base,
        Boolean(options.deleteBranch),
        ancestry,
      );
    return {
      exitCode: ctx.signal.aborted ? Exit.interrupted : Exit.ok,
      data: {
        path: entry.path,
        project: entry.project,
        kind: entry.kind,
        branch,
        messages,
        plugin_failures: failures,
        ...(ctx.signal.aborted ? { interrupted: true } : {}),
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
  } finally {
    freeSlot();
    await proxyCaughtUp;
  }
}

/** `done` on an entry a killed kinfra left `creating` or `removing`: finish that job. */
async function finish(ctx: Context, entry: WorktreeEntry, force: boolean): Promise<CommandOutput> {
  if (ownerBusy(entry)) {
    throw blockedError(
      `${entry.path} is being ${
        entry.state === "creating" ? "created" : "removed"
      } by kinfra (pid ${entry.pid}).`,
      "Wait for that command to finish.",
    );
  }
  const outcome = await finishInterrupted(ctx, entry, force);
  if (outcome === "kept") {
    throw blockedError(
      `${basename(entry.path)} has uncommitted changes; the worktree was not removed.`,
      "Commit or stash them and run `kinfra done` again, or pass --force.",
      await dirtyFiles(ctx, entry),
    );
  }
  return {
    data: { path: entry.path, project: entry.project, kind: entry.kind, finished: outcome },
    text: `${ctx.style.green("✓")} Finished an interrupted ${
      outcome === "discarded" ? "creation: removed the half-made" : "removal of the"
    } worktree ${entry.path}`,
  };
}

interface BranchOutcome {
  name: string;
  deleted: boolean;
  merged: boolean;
  reason?: string;
}

/**
 * Deletes the branch only when merged into its base (or when forced). `asked`: the ancestry of the
 * commit the branch pointed at a moment ago, used only while the branch still points there.
 */
async function settleBranch(
  ctx: Context,
  repo: string,
  name: string,
  base: string,
  forceDelete: boolean,
  asked?: { tip: string; merged: Promise<boolean | undefined> },
): Promise<BranchOutcome> {
  const known = asked && refOnDisk(repo, name) === asked.tip ? await asked.merged : undefined;
  // One git call for the usual case: the ancestry check fails for a branch that is gone, too.
  const merged = known ?? await ctx.git.isAncestor(repo, `refs/heads/${name}`, base);
  if (!merged && !await ctx.git.branchExists(repo, name)) {
    return { name, deleted: false, merged: false, reason: "it no longer exists" };
  }
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
