/**
 * Worktree lifecycle on the git side: naming (README, "Where things live"), creation with `[worktree].copy`, the
 * registry record, the dirty check, and finishing what a killed process left half-done.
 */
import { basename, dirname, join } from "../io/path.ts";
import type { ProjectEnv } from "./env.ts";
import { copyInto, editedCopies, plannedCopies, worktreeIncludes } from "./copy_files.ts";
import { KinfraError, messageOf, usageError } from "../errors.ts";
import { exists, existsSync, statSyncOrUndefined } from "../io/home.ts";
import type { Project } from "./project.ts";
import { updateRegistry, type WorktreeEntry } from "../slots/registry.ts";
import { ownerAlive } from "../slots/stale.ts";
import { foreignGit } from "./worktree_owner.ts";

export interface WorktreeTarget {
  kind: "spec" | "impl";
  feature: string;
  milestone?: string;
}

/** Directory and branch names for a target: `<prefix>-spec-<f>` on `spec/<f>`, `<prefix>-impl-<f>-<m>` on `impl/<f>-<m>`. */
export function worktreeLayout(project: Project, target: WorktreeTarget): { path: string; branch: string } {
  const name = target.kind === "spec" ? target.feature : `${target.feature}-${target.milestone}`;
  return {
    path: join(project.worktreeRoot, `${project.prefix}-${target.kind}-${name}`),
    branch: `${target.kind}/${name}`,
  };
}

/** The ref new branches start from: `--base`, then `[worktree] base`, then the current branch or commit. */
export async function resolveBase(ctx: ProjectEnv, project: Project, requested?: string): Promise<string> {
  return (await resolveBaseCommit(ctx, project, requested)).base;
}

/** {@link resolveBase}, with the commit it names now (one git call fewer for a caller needing both). */
export async function resolveBaseCommit(
  ctx: ProjectEnv,
  project: Project,
  requested?: string,
): Promise<{ base: string; commit: string }> {
  const configured = requested ?? project.config?.worktree.base;
  // The usual case, the current branch: its name and commit in one git call. Anything unusual (an
  // unborn branch) takes the two calls below, which say what is wrong.
  const head = configured === undefined ? await ctx.git.head(project.gitRoot) : undefined;
  if (head) return { base: head.branch ?? "HEAD", commit: head.commit };
  const base = configured ?? await ctx.git.currentBranch(project.gitRoot) ?? "HEAD";
  const commit = await ctx.git.resolveRef(project.gitRoot, base);
  if (!commit) {
    throw usageError(
      `Base ref "${base}" does not name a commit in ${project.gitRoot}.`,
      base === "HEAD"
        ? "Make a first commit before creating worktrees."
        : "Pass an existing branch with --base.",
    );
  }
  return { base, commit };
}

/**
 * Creates the worktree and its branch, copies `[worktree].copy` files and records it in the registry.
 * Refuses (exit 2) when the directory or branch already exists, before touching anything. The entry is
 * written first, marked `creating`, so a process killed half-way leaves something `done`/`gc` finish;
 * any failure after that undoes the worktree, the branch and the entry. `baseCommit`: the commit
 * `base` named when the caller resolved it (recorded as `base_commit`), saving the lookup.
 * `started` is called once the name is this process's and git is making the worktree: what the
 * caller starts then overlaps git's work (rather than slowing the claim).
 */
export async function createWorktree(
  ctx: ProjectEnv,
  project: Project,
  target: WorktreeTarget,
  base: string,
  baseCommit?: string,
  started?: () => void,
): Promise<WorktreeEntry> {
  const { path, branch } = worktreeLayout(project, target);
  const copies = await plannedCopies(project.root, [
    ...new Set([...project.config?.worktree.copy ?? [], ...await worktreeIncludes(ctx.exec, project.root)]),
  ], ctx.log);
  const entry: WorktreeEntry = {
    path,
    kind: target.kind,
    project: project.name,
    project_root: project.root,
    feature: target.feature,
    ...(target.milestone ? { milestone: target.milestone } : {}),
    branch,
    base,
    base_commit: baseCommit ?? await ctx.git.resolveRef(project.gitRoot, base),
    created_at: ctx.now().toISOString(),
  };
  // The name is claimed under the registry lock before anything is created: of two kinfra processes
  // making the same worktree, the second finds the first's entry here and leaves, having touched
  // nothing — its rollback must never remove what the first one made. The directory and branch are
  // checked here only (a check before the lock as well would cost a git call and decide nothing).
  await updateRegistry(ctx.home, async (reg) => {
    const holder = reg.worktrees[path];
    if (holder) throw nameTaken(path, holder);
    await assertNameFree(ctx, project, path, branch);
    reg.worktrees[path] = { ...entry, state: "creating", pid: Deno.pid, host: Deno.hostname() };
    // A checkout left by an earlier worktree at this path is not this new one's (kinfra checkout).
    if (reg.checkouts?.[entry.project] === path) delete reg.checkouts[entry.project];
  });
  try {
    ctx.log.step(`Creating worktree ${path} on ${branch} (from ${base})`);
    await ctx.git.addWorktree(project.gitRoot, path, branch, base, started);
    entry.copied = await copyInto(project.root, path, copies, ctx.log);
    await updateRegistry(ctx.home, (reg) => {
      reg.worktrees[path] = entry;
    });
  } catch (e) {
    await discardWorktree(ctx, project.gitRoot, entry).catch((undo) =>
      ctx.log.warn(`Could not undo the half-made worktree ${path}: ${messageOf(undo)}`)
    );
    throw e;
  }
  return entry;
}

/**
 * Refuses (exit 2) a worktree whose directory or branch exists already. Under the registry lock:
 * the directory is looked at synchronously (an event-loop round trip would let other work hold it).
 */
async function assertNameFree(ctx: ProjectEnv, project: Project, path: string, branch: string) {
  // The worktree root, or the nearest of its parents that exists, is a directory (not a file, not /dev/null).
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const info = statSyncOrUndefined(dir);
    if (!info) continue;
    if (info.isDirectory) break;
    throw usageError(
      `Worktrees go in ${dirname(path)}, but ${dir} is not a directory; nothing was created.`,
      "Point [worktree] root (infra.toml, or config.toml for an absolute one) at a directory.",
    );
  }
  if (existsSync(path)) {
    throw usageError(
      `"${path}" already exists.`,
      `Finish it with \`kinfra done ${basename(path)}\` or pick another name.`,
    );
  }
  if (await ctx.git.branchExists(project.gitRoot, branch)) {
    throw usageError(
      `Branch "${branch}" already exists.`,
      `Delete it (git branch -d ${branch}) or pick another name.`,
    );
  }
}

/** The refusal for a name another kinfra process holds in the registry. */
function nameTaken(path: string, holder: WorktreeEntry) {
  return ownerBusy(holder)
    ? usageError(
      `"${path}" is being ${holder.state === "removing" ? "removed" : "created"} by another kinfra ` +
        `process (pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ""}); nothing was done here.`,
      "Wait for it to finish, then use that worktree (`kinfra status`) or pick another name.",
    )
    : usageError(
      `"${path}" is already a kinfra worktree.`,
      `Finish it with \`kinfra done ${basename(path)}\` or pick another name.`,
    );
}

/**
 * Undoes `createWorktree` for a worktree nobody has worked in yet: the worktree (even a half
 * checkout, locked by git), the branch while it still points where it was created, the entry.
 */
export async function discardWorktree(ctx: ProjectEnv, gitRoot: string, entry: WorktreeEntry): Promise<void> {
  await forceRemoveWorktree(ctx, gitRoot, entry.path);
  const tip = await ctx.git.resolveRef(gitRoot, `refs/heads/${entry.branch}`);
  if (tip && (!entry.base_commit || tip === entry.base_commit)) {
    await ctx.git.deleteBranch(gitRoot, entry.branch);
  } else if (tip) ctx.log.warn(`Branch ${entry.branch} has commits of its own; it was kept.`);
  await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
}

/**
 * Removes a worktree git may only half know: unlocks it, lets git remove it, and where git cannot
 * (a directory whose `.git` is already gone), deletes what is left and prunes git's record. A path
 * that is not this repository's worktree any more (a clone made where a removed one was) is left
 * alone: the returned sentence says so. Callers decide first that nothing in it is work.
 */
export async function forceRemoveWorktree(
  ctx: ProjectEnv,
  gitRoot: string,
  path: string,
): Promise<string | undefined> {
  await ctx.git.unlockWorktree(gitRoot, path);
  if (await exists(join(path, ".git"))) {
    try {
      await ctx.git.removeWorktree(gitRoot, path, true);
      return;
    } catch { /* a half checkout git cannot remove: delete it below */ }
  }
  const foreign = await exists(path) ? await foreignGit(gitRoot, path) : undefined;
  if (foreign) {
    const left =
      `Left ${path} alone: it is not a worktree of ${gitRoot} (${foreign}); only kinfra's record of it goes.`;
    ctx.log.warn(left);
    await ctx.git.pruneWorktrees(gitRoot);
    return left;
  }
  await Deno.remove(path, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
  });
  await ctx.git.pruneWorktrees(gitRoot);
}

/** True while the process that set an entry's `state` is still working on it. */
export function ownerBusy(entry: WorktreeEntry): boolean {
  return entry.state !== undefined && ownerAlive(entry);
}

/**
 * Finishes what a killed kinfra left: a `creating` worktree is discarded, a `removing` one removed —
 * unless git had finished it and it has changes now (its path is shown by `worktrees`, so someone
 * may work in it): then it is kept (unless `force`) and goes back to normal. Returns what was done.
 */
export async function finishInterrupted(
  ctx: ProjectEnv,
  entry: WorktreeEntry,
  force = false,
): Promise<"discarded" | "removed" | "kept"> {
  const gitRoot = (await ctx.git.locate(entry.project_root)).mainTop;
  const healthy = await exists(join(entry.path, ".git"));
  // A creation git finished (the worktree is no longer locked while checking out) may have been
  // worked in since: its changes are work, as in any worktree.
  const locked = async () => {
    const real = await Deno.realPath(entry.path).catch(() => entry.path); // git lists resolved paths
    return (await ctx.git.listWorktrees(gitRoot)).find((w) => w.path === real || w.path === entry.path)
      ?.locked !== undefined;
  };
  const checkedOut = entry.state !== "creating" || (healthy && !await locked());
  if (healthy && checkedOut && !force && (await dirtyFiles(ctx, entry)).length) {
    ctx.log.warn(
      `${entry.path} was being ${
        entry.state === "creating" ? "created" : "removed"
      } when kinfra stopped, but has changes now; it is kept.`,
    );
    await updateRegistry(ctx.home, (reg) => {
      const current = reg.worktrees[entry.path];
      if (current) delete current.state, delete current.pid, delete current.host;
    });
    return "kept";
  }
  if (entry.state === "creating") {
    ctx.log.warn(`Finishing an interrupted creation of ${entry.path}: removing the half-made worktree.`);
    await discardWorktree(ctx, gitRoot, entry);
    return "discarded";
  }
  ctx.log.warn(`Finishing an interrupted removal of ${entry.path}.`);
  await forceRemoveWorktree(ctx, gitRoot, entry.path);
  await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
  return "removed";
}

/**
 * Uncommitted or untracked files of a worktree, leaving out files kinfra copied in and nobody
 * changed since — and including copies that were edited, even when git ignores them. The files
 * kinfra wrote for an agent host (its hook settings, which the host itself edits) are never work.
 */
export async function dirtyFiles(ctx: ProjectEnv, entry: CopiesOf): Promise<string[]> {
  const hostFiles = new Set(entry.agent?.files ?? []);
  const copied = copiesOf(entry);
  const dirty: string[] = [];
  for (const line of await ctx.git.dirtyFiles(entry.path)) {
    const file = line.slice(3);
    if (!(line.startsWith("??") && (file in copied || hostFiles.has(file)))) dirty.push(line);
  }
  return [...dirty, ...await editedCopies(entry.path, copied)];
}

type CopiesOf = { path: string; copied?: unknown; agent?: { files: string[] } };

/** The `[worktree] copy` files kinfra copied in (name → sha256), without an agent host's own files. */
const copiesOf = (entry: CopiesOf): Record<string, string> => {
  const hostFiles = new Set(entry.agent?.files ?? []);
  return Object.fromEntries(
    Object.entries((entry.copied ?? {}) as Record<string, string>).filter(([file]) => !hostFiles.has(file)),
  );
};

/**
 * The part of {@link dirtyFiles} git cannot see: copies edited since, even where git ignores them
 * (`git worktree remove` would delete those). No git call.
 */
export function editedWork(entry: CopiesOf): Promise<string[]> {
  return editedCopies(entry.path, copiesOf(entry));
}

/** Guards against ever treating a project's main worktree as disposable. */
export function assertNotMainWorktree(project: Project, path: string): void {
  if (path === project.gitRoot) {
    throw new KinfraError(`"${path}" is the project's main worktree; kinfra never removes it.`, {
      code: 2,
      hint: "Name a spec or impl worktree instead (`kinfra worktrees` lists them).",
    });
  }
}
