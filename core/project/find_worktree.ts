/**
 * Finding the worktree the user means (README, "Commands": `done`): registry first, then `git worktree
 * list`. Accepts `feature`, `feature-M1`, `feature/M1`, the directory name, or a path (symlinks
 * resolved); without a name, the worktree around the working directory. Inside a project, that
 * project's worktrees are searched first; only outside one does a name search every project.
 */
import { basename, isAbsolute, resolve } from "../io/path.ts";
import type { ProjectEnv } from "./env.ts";
import { usageError } from "../errors.ts";
import { type Project, projectIfAny } from "./project.ts";
import { readRegistry, type WorktreeEntry } from "../slots/registry.ts";
import { worktreeName } from "./names.ts";

const realPath = async (path: string) => await Deno.realPath(path).catch(() => path);

function matchesName(entry: WorktreeEntry, name: string): boolean {
  return [
    basename(entry.path),
    worktreeName(entry),
    entry.feature + (entry.milestone ? `/${entry.milestone}` : ""),
    ...(entry.milestone ? [] : [entry.feature]),
  ].includes(name);
}

/** The single entry among `entries` that `name` or `asPath` means, or undefined; several is an error. */
function pick(entries: WorktreeEntry[], name: string | undefined, asPath: string | undefined) {
  const exact = entries.filter((e) => asPath ? e.path === asPath : matchesName(e, name!));
  // A bare feature name may also mean its only impl worktree.
  const matches = exact.length || asPath ? exact : entries.filter((e) => e.feature === name);
  if (matches.length > 1) {
    throw usageError(
      `"${name}" matches ${matches.length} worktrees.`,
      "Name one exactly, e.g. by its directory name.",
      matches.map((e) => `${basename(e.path)}  (${e.project}, ${e.branch})`),
    );
  }
  return matches[0];
}

export async function findWorktree(ctx: ProjectEnv, name?: string): Promise<WorktreeEntry> {
  const registry = await readRegistry(ctx.home);
  const entries = Object.values(registry.worktrees);
  const here = name === undefined ? (await ctx.git.locate(ctx.cwd)).top : undefined;
  const typedPath = name && (isAbsolute(name) || name.startsWith(".")) ? resolve(ctx.cwd, name) : undefined;
  const asPath = here ?? (typedPath && await realPath(typedPath));
  const project = await projectIfAny(() => ctx.project());
  if (project && !asPath) {
    const own = pick(entries.filter((e) => e.project_root === project.root), name, asPath);
    if (own) return own;
  }
  return pick(entries, name, asPath) ?? await findInGit(name, asPath, project, ctx);
}

/** Fallback for worktrees made by an older kinfra or by hand: match `git worktree list` of this project. */
async function findInGit(
  name: string | undefined,
  asPath: string | undefined,
  project: Project | undefined,
  ctx: ProjectEnv,
): Promise<WorktreeEntry> {
  const notFound = () =>
    usageError(
      name === undefined
        ? `The current directory is not a kinfra worktree.`
        : `No kinfra worktree matches ${JSON.stringify(name)}.`,
      "`kinfra worktrees` lists them; pass a name or run inside the worktree.",
    );
  if (!project) throw notFound();
  const found = (await ctx.git.listWorktrees(project.gitRoot)).find((w) =>
    w.path !== project.gitRoot && w.branch && /^(spec|impl)\//.test(w.branch) &&
    (asPath ? w.path === asPath : [basename(w.path), w.branch.slice(5)].includes(name!))
  );
  if (!found?.branch) throw notFound();
  const kind = found.branch.startsWith("spec/") ? "spec" : "impl";
  return {
    path: found.path,
    kind,
    project: project.name,
    project_root: project.root,
    feature: found.branch.slice(5),
    branch: found.branch,
    base: project.config?.worktree.base ?? await ctx.git.currentBranch(project.gitRoot) ?? "HEAD",
    created_at: "",
    // git's own "initializing" lock: a checkout that was killed half-way, safe to finish removing.
    ...(found.locked === "initializing" ? { state: "creating" as const } : {}),
  };
}
