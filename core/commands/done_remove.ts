/**
 * `done`'s removal of the worktree itself (core/commands/done.ts): the one irreversible step, and the
 * refusal it and `done` give for changes found in the worktree.
 */
import { basename, join } from "../io/path.ts";
import type { Context } from "../context.ts";
import { isUneditedCopy } from "../project/copy_files.ts";
import { blockedError } from "../errors.ts";
import { exists } from "../io/home.ts";
import type { Project } from "../project/project.ts";
import { updateRegistry, type WorktreeEntry } from "../slots/registry.ts";
import { dirtyFiles, forceRemoveWorktree } from "../project/worktrees.ts";

/** The refusal for changes in a worktree; `after` says when they were made ("" before anything was done). */
export const dirtyError = (entry: WorktreeEntry, dirty: string[], after: string) =>
  blockedError(
    `${basename(entry.path)} has uncommitted changes${after}; the worktree was not removed.`,
    after
      ? "Commit or stash them, then run `kinfra done` again (`kinfra up` restarts the sandbox), or pass --force."
      : "Commit or stash them, or pass --force to discard them.",
    dirty,
  );

/**
 * The one irreversible step. Marked `removing` in the registry first, so a kill half-way is finished
 * by the next `done`/`gc`. Without --force, git's own clean check guards the last instant: unedited
 * copies kinfra made are taken out first (git would count them as untracked), and put back if git
 * still refuses. Returns what was left alone, if anything (a path that is no worktree of the project).
 */
export async function removeWorktree(
  ctx: Context,
  project: Project,
  entry: WorktreeEntry,
  { present, force, during, beside }: {
    present: boolean;
    force: boolean;
    /** What the refusal says about when the changes were made. */
    during: string;
    /** Started once the entry says `removing`, to run while git works; finished before it goes. */
    beside?: () => Promise<void> | undefined;
  },
): Promise<string | undefined> {
  await updateRegistry(ctx.home, (reg) => {
    reg.worktrees[entry.path] = { ...entry, state: "removing", pid: Deno.pid, host: Deno.hostname() };
  });
  let left: string | undefined;
  // Started once git has been asked (its process starts first), or before a rarer removal.
  let alongside: Promise<void> | undefined;
  const startBeside = () => alongside ??= beside?.();
  if (!present) {
    startBeside();
    ctx.log.warn(`Worktree directory ${entry.path} is already gone; pruning git's record of it.`);
    await ctx.git.pruneWorktrees(project.gitRoot);
  } else if (force || !await exists(join(entry.path, ".git"))) {
    startBeside();
    left = await forceRemoveWorktree(ctx, project.gitRoot, entry.path);
  } else {
    const copies: [string, Uint8Array][] = [];
    const hostFiles = entry.agent?.files ?? [];
    for (const [file, sha] of Object.entries(entry.copied ?? {})) {
      const path = join(entry.path, file);
      if (hostFiles.includes(file) || !await isUneditedCopy(entry.path, file, sha)) continue;
      copies.push([path, await Deno.readFile(path)]);
      await Deno.remove(path);
    }
    for (const file of hostFiles) {
      const path = join(entry.path, file);
      const content = await Deno.readFile(path).catch(() => undefined);
      if (!content) continue;
      copies.push([path, content]);
      await Deno.remove(path);
    }
    const removal = ctx.git.removeWorktree(project.gitRoot, entry.path, false);
    startBeside();
    try {
      await removal;
    } catch (e) {
      for (const [path, content] of copies) await Deno.writeFile(path, content).catch(() => {});
      await alongside;
      await updateRegistry(ctx.home, (reg) => void (reg.worktrees[entry.path] = entry));
      const dirty = await dirtyFiles(ctx, entry).catch(() => []);
      throw dirty.length ? dirtyError(entry, dirty, during) : e;
    }
  }
  await startBeside();
  await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
  return left;
}
