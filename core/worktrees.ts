/**
 * Worktree lifecycle on the git side: naming (SPEC §2), creation with `[worktree].copy`, the
 * registry record, finding a worktree from what the user typed (GAP-6), and the dirty check.
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import type { Context } from "./context.ts";
import { KinfraError, usageError } from "./errors.ts";
import { exists } from "./paths.ts";
import type { HookInput } from "./plugin_api.ts";
import type { Project } from "./project.ts";
import { readRegistry, updateRegistry, type WorktreeEntry } from "./registry.ts";

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
export async function resolveBase(ctx: Context, project: Project, requested?: string): Promise<string> {
  const base = requested ?? project.config?.worktree.base ?? await ctx.git.currentBranch(project.gitRoot) ??
    "HEAD";
  if (!await ctx.git.resolveRef(project.gitRoot, base)) {
    throw usageError(
      `Base ref "${base}" does not name a commit in ${project.gitRoot}.`,
      base === "HEAD"
        ? "Make a first commit before creating worktrees."
        : "Pass an existing branch with --base.",
    );
  }
  return base;
}

/**
 * Creates the worktree and its branch, copies `[worktree].copy` files and records it in the registry.
 * Refuses (exit 2) when the directory or branch already exists, before touching anything.
 */
export async function createWorktree(
  ctx: Context,
  project: Project,
  target: WorktreeTarget,
  base: string,
): Promise<WorktreeEntry> {
  const { path, branch } = worktreeLayout(project, target);
  if (await exists(path)) {
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
  ctx.log.step(`Creating worktree ${path} on ${branch} (from ${base})`);
  await ctx.git.addWorktree(project.gitRoot, path, branch, base);
  const entry: WorktreeEntry = {
    path,
    kind: target.kind,
    project: project.name,
    project_root: project.root,
    feature: target.feature,
    ...(target.milestone ? { milestone: target.milestone } : {}),
    branch,
    base,
    created_at: ctx.now().toISOString(),
    copied: await copyFiles(ctx, project, path),
  };
  await updateRegistry(ctx.home, (reg) => {
    reg.worktrees[path] = entry;
  });
  return entry;
}

/** Undoes `createWorktree` for a worktree nobody has worked in yet: worktree, branch, registry entry. */
export async function discardWorktree(ctx: Context, project: Project, entry: WorktreeEntry): Promise<void> {
  await ctx.git.removeWorktree(project.gitRoot, entry.path, true);
  await ctx.git.deleteBranch(project.gitRoot, entry.branch);
  await updateRegistry(ctx.home, (reg) => void delete reg.worktrees[entry.path]);
}

/** Copies `[worktree].copy` files into the new worktree; returns their sha256 so `done` knows them. */
async function copyFiles(ctx: Context, project: Project, into: string): Promise<Record<string, string>> {
  const copied: Record<string, string> = {};
  for (const file of project.config?.worktree.copy ?? []) {
    const from = join(project.root, file);
    if (!await exists(from)) {
      ctx.log.warn(`[worktree] copy: "${file}" does not exist in ${project.root}; skipped.`);
      continue;
    }
    const to = join(into, file);
    await Deno.mkdir(resolve(to, ".."), { recursive: true });
    await Deno.copyFile(from, to);
    copied[file] = await sha256File(to);
  }
  return copied;
}

export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Uncommitted or untracked files of a worktree, leaving out files kinfra copied in and nobody
 * changed since.
 */
export async function dirtyFiles(ctx: Context, entry: { path: string; copied?: unknown }): Promise<string[]> {
  const copied = (entry.copied ?? {}) as Record<string, string>;
  const dirty: string[] = [];
  for (const line of await ctx.git.dirtyFiles(entry.path)) {
    const file = line.slice(3);
    const isOurCopy = line.startsWith("??") && copied[file] &&
      await sha256File(join(entry.path, file)).catch(() => "") === copied[file];
    if (!isOurCopy) dirty.push(line);
  }
  return dirty;
}

/**
 * Finds the worktree the user means (SPEC §5 `done`): registry first, then `git worktree list`.
 * Accepts `feature`, `feature-M1`, `feature/M1`, the directory name, or a path; without a name,
 * the worktree around the working directory.
 */
export async function findWorktree(ctx: Context, name?: string): Promise<WorktreeEntry> {
  const registry = await readRegistry(ctx.home);
  const entries = Object.values(registry.worktrees);
  const here = name === undefined ? (await ctx.git.locate(ctx.cwd)).top : undefined;
  const asPath = here ??
    (name && (isAbsolute(name) || name.startsWith(".")) ? resolve(ctx.cwd, name) : undefined);
  const matches = entries.filter((e) =>
    asPath ? e.path === asPath : [
      basename(e.path),
      e.feature + (e.milestone ? `-${e.milestone}` : ""),
      e.feature + (e.milestone ? `/${e.milestone}` : ""),
      ...(e.milestone ? [] : [e.feature]),
    ].includes(name!)
  );
  // A bare feature name may also mean its only impl worktree.
  const byFeature = matches.length ? matches : entries.filter((e) => e.feature === name);
  if (byFeature.length === 1) return byFeature[0];
  if (byFeature.length > 1) {
    throw usageError(
      `"${name}" matches ${byFeature.length} worktrees.`,
      "Name one exactly, e.g. by its directory name.",
      byFeature.map((e) => `${basename(e.path)}  (${e.project}, ${e.branch})`),
    );
  }
  return await findInGit(ctx, name, asPath);
}

/** Fallback for worktrees made by an older kinfra or by hand: match `git worktree list` of this project. */
async function findInGit(
  ctx: Context,
  name: string | undefined,
  asPath: string | undefined,
): Promise<WorktreeEntry> {
  const notFound = () =>
    usageError(
      name === undefined
        ? `The current directory is not a kinfra worktree.`
        : `No kinfra worktree matches "${name}".`,
      "`kinfra worktrees` lists them; pass a name or run inside the worktree.",
    );
  const project = await ctx.project().catch(() => undefined);
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
  };
}

/** The hook input for a project with no worktree (e.g. `doctor`). */
export function projectInput(project: Project, flags: HookInput["flags"] = {}): HookInput {
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
export function hookInput(project: Project, entry: WorktreeEntry, flags: HookInput["flags"]): HookInput {
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

/** Keeps what plugins returned as `state` with the worktree's registry entry. */
export async function saveState(ctx: Context, path: string, input: HookInput): Promise<void> {
  if (Object.keys(input.state).length === 0) return;
  await updateRegistry(ctx.home, (reg) => {
    const entry = reg.worktrees[path];
    if (entry) entry.plugin_state = input.state;
  });
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
