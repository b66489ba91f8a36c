/**
 * The git operations kinfra needs, each one argv call. Branch and path values have been validated
 * before they get here, and they are passed after `--` wherever git allows it.
 */
import { KinfraError, usageError } from "../errors.ts";
import { type Exec, execOk, tail } from "../io/exec.ts";
import { dirname, join, resolve } from "../io/path.ts";

/** Variables that change how git finds a repository: with any of them set, git itself is asked. */
const DISCOVERY_VARIABLES = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES"];

const statOrUndefined = (path: string) => {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
};

/**
 * What `git rev-parse --show-toplevel --git-common-dir` answers, read from the file system in well
 * under a millisecond (the process costs ~5, on every command): the nearest `.git` directory, or
 * `.git` file ("gitdir: …") whose `commondir` leads to the main repository. Undefined for anything
 * unusual — discovery variables, a `.git` without HEAD, an unreadable file — and git answers.
 */
export function locateOnDisk(cwd: string): { top: string; mainTop: string } | undefined {
  if (DISCOVERY_VARIABLES.some((v) => Deno.env.get(v) !== undefined)) return undefined;
  try {
    for (let dir = Deno.realPathSync(cwd);; dir = dirname(dir)) {
      const dotGit = join(dir, ".git");
      const info = statOrUndefined(dotGit);
      if (info?.isDirectory) {
        return statOrUndefined(join(dotGit, "HEAD")) ? { top: dir, mainTop: dir } : undefined;
      }
      if (info?.isFile) {
        const gitDir = resolve(dir, /^gitdir: (.+)$/m.exec(Deno.readTextFileSync(dotGit))![1].trim());
        if (!statOrUndefined(join(gitDir, "HEAD"))) return undefined;
        const common = statOrUndefined(join(gitDir, "commondir"))
          ? resolve(gitDir, Deno.readTextFileSync(join(gitDir, "commondir")).trim())
          : gitDir;
        return { top: dir, mainTop: common.endsWith("/.git") ? dirname(common) : dir };
      }
      if (dir === "/") return undefined;
    }
  } catch {
    return undefined;
  }
}

const HASH = /^[0-9a-f]{40}([0-9a-f]{24})?\n?$/;

/**
 * The `.git` directory of the main worktree `repo` when its refs can be read from files as git reads
 * them: no discovery variables, a directory (not a `.git` file), files as ref storage (not reftable).
 */
function plainGitDir(repo: string): string | undefined {
  if (DISCOVERY_VARIABLES.some((v) => Deno.env.get(v) !== undefined)) return undefined;
  const gitDir = join(repo, ".git");
  if (!statOrUndefined(gitDir)?.isDirectory || statOrUndefined(join(gitDir, "reftable"))) return undefined;
  if (/refstorage/i.test(Deno.readTextFileSync(join(gitDir, "config")))) return undefined;
  return gitDir;
}

/**
 * The commit `ref` (`refs/…`) names: a loose ref, else a line of packed-refs, as `git show-ref
 * --verify` reads them; null when there is no such ref, undefined when it is not a plain hash.
 */
function refInFiles(gitDir: string, ref: string): string | null | undefined {
  const loose = statOrUndefined(join(gitDir, ref));
  if (loose?.isFile) {
    const text = Deno.readTextFileSync(join(gitDir, ref));
    return HASH.test(text) ? text.trim() : undefined;
  }
  if (loose && !loose.isDirectory) return undefined;
  const packed = join(gitDir, "packed-refs");
  if (!statOrUndefined(packed)) return null;
  // Lines are "<hash> <ref>", with "#" headers and "^<hash>" peeled tags between.
  const line = Deno.readTextFileSync(packed).split("\n").find((line) =>
    line.slice(line.indexOf(" ") + 1) === ref && HASH.test(line.slice(0, line.indexOf(" ")))
  );
  return line ? line.slice(0, line.indexOf(" ")) : null;
}

/**
 * The commit branch `branch` points at in the repository whose main worktree is `repo`, read from the
 * files git keeps it in, without git's process (~2 ms); null when there is no such branch. Undefined
 * for anything unusual — discovery variables, a `.git` file, another ref storage (reftable), a ref
 * that is not a plain hash, an unreadable file — and git answers.
 */
export function refOnDisk(repo: string, branch: string): string | null | undefined {
  try {
    const gitDir = plainGitDir(repo);
    return gitDir && refInFiles(gitDir, `refs/heads/${branch}`);
  } catch {
    return undefined;
  }
}

/**
 * What {@link Git.head} answers, read from `.git/HEAD` and the branch's ref: a commit and a branch
 * (none when detached); null for an unborn branch. Undefined when git must answer: anything
 * {@link refOnDisk} leaves to it, a HEAD that is neither a branch nor a commit, or a branch whose
 * short name git would lengthen (`--abbrev-ref=loose` says "heads/main" when `.git/main`,
 * `refs/main` or `refs/tags/main` exists too).
 */
export function headOnDisk(repo: string): { commit: string; branch?: string } | null | undefined {
  try {
    const gitDir = plainGitDir(repo);
    if (!gitDir) return undefined;
    const head = Deno.readTextFileSync(join(gitDir, "HEAD"));
    if (HASH.test(head)) return { commit: head.trim(), branch: undefined };
    const branch = /^ref: refs\/heads\/(\S+)\n?$/.exec(head)?.[1];
    if (!branch) return undefined;
    const commit = refInFiles(gitDir, `refs/heads/${branch}`);
    if (commit === null || commit === undefined) return commit;
    const shadowed = statOrUndefined(join(gitDir, branch)) ||
      [`refs/${branch}`, `refs/tags/${branch}`].some((ref) => refInFiles(gitDir, ref) !== null);
    return shadowed ? undefined : { commit, branch };
  } catch {
    return undefined;
  }
}

/**
 * Whether branch `branch` exists, read from disk as {@link refOnDisk} reads it (held under the
 * registry lock by impl's name claim); undefined when git has to answer.
 */
export function branchOnDisk(repo: string, branch: string): boolean | undefined {
  const tip = refOnDisk(repo, branch);
  return tip === undefined ? undefined : tip !== null;
}

export interface GitWorktree {
  path: string;
  branch?: string;
  head?: string;
  bare: boolean;
  detached: boolean;
  /** The lock reason ("" when locked without one); undefined when not locked. */
  locked?: string;
}

/** Runs `fn` holding a lock for one repository. */
export type RepoLock = <T>(repo: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Git, as kinfra uses it. Commands that change `.git/worktrees` or refs run under a per-repository
 * lock: concurrent `git worktree add`s in one repository race ("failed to read …/commondir").
 */
export class Git {
  constructor(private readonly run: Exec, private readonly lock: RepoLock = (_, fn) => fn()) {}

  /** Output of a git command in `cwd`, trimmed; throws with git's message on failure. */
  async text(cwd: string, args: string[]): Promise<string> {
    return (await execOk(this.run, "git", ["-C", cwd, ...args])).trim();
  }

  /** The main worktree's top level and this checkout's top level, or a usage error outside git. */
  async locate(cwd: string): Promise<{ top: string; mainTop: string }> {
    const onDisk = locateOnDisk(cwd);
    if (onDisk) return onDisk;
    const result = await this.run("git", [
      "-C",
      cwd,
      "rev-parse",
      "--path-format=absolute",
      "--show-toplevel",
      "--git-common-dir",
    ]);
    if (!result.success) {
      throw usageError(
        `"${cwd}" is not inside a git repository.`,
        "Run kinfra inside your project's git repository, or point at it with -C <dir>.",
      );
    }
    const [top, commonDir] = result.stdout.trim().split("\n");
    const mainTop = commonDir.endsWith("/.git") ? commonDir.slice(0, -"/.git".length) : top;
    return { top, mainTop };
  }

  async branchExists(repo: string, branch: string): Promise<boolean> {
    const onDisk = branchOnDisk(repo, branch);
    if (onDisk !== undefined) return onDisk;
    const r = await this.run("git", ["-C", repo, "show-ref", "--verify", "--quiet", `refs/heads/${branch}`]);
    return r.success;
  }

  async resolveRef(repo: string, ref: string): Promise<string | undefined> {
    const r = await this.run("git", ["-C", repo, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return r.success ? r.stdout.trim() : undefined;
  }

  /**
   * HEAD's commit, and its branch named as {@link currentBranch} names it (undefined when detached),
   * in one call; undefined when HEAD names no commit (an unborn branch) or git answers otherwise.
   */
  async head(repo: string): Promise<{ commit: string; branch?: string } | undefined> {
    const onDisk = headOnDisk(repo);
    if (onDisk !== undefined) return onDisk ?? undefined;
    // `--abbrev-ref=loose` shortens as `symbolic-ref --short` does ("heads/main" beside a tag "main").
    const r = await this.run("git", ["-C", repo, "rev-parse", "HEAD^{commit}", "--abbrev-ref=loose", "HEAD"]);
    const [commit, name, ...rest] = r.stdout.trim().split("\n");
    if (!r.success || !name || rest.length || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return undefined;
    return { commit, branch: name === "HEAD" ? undefined : name };
  }

  /** The current branch name, or undefined when HEAD is detached or unborn. */
  async currentBranch(repo: string): Promise<string | undefined> {
    const r = await this.run("git", ["-C", repo, "symbolic-ref", "--quiet", "--short", "HEAD"]);
    return r.success ? r.stdout.trim() : undefined;
  }

  /** `started` is called once git runs (under the lock), for work of the caller's to overlap it. */
  async addWorktree(repo: string, path: string, branch: string, base: string, started?: () => void) {
    const r = await this.lock(repo, () => {
      const running = this.run("git", ["-C", repo, "worktree", "add", "-b", branch, "--", path, base]);
      started?.();
      return running;
    });
    if (!r.success) {
      throw new KinfraError(`git worktree add failed for "${path}".`, { details: tail(r.stderr, 10) });
    }
  }

  async removeWorktree(repo: string, path: string, force: boolean): Promise<void> {
    const args = ["-C", repo, "worktree", "remove", ...(force ? ["--force", "--force"] : []), "--", path];
    const r = await this.lock(repo, () => this.run("git", args));
    if (!r.success) {
      throw new KinfraError(`git worktree remove failed for "${path}".`, { details: tail(r.stderr, 10) });
    }
  }

  /** Lifts a worktree's lock (git's own "initializing" lock of an interrupted `worktree add`, say). */
  async unlockWorktree(repo: string, path: string): Promise<void> {
    await this.lock(repo, () => this.run("git", ["-C", repo, "worktree", "unlock", "--", path]));
  }

  async pruneWorktrees(repo: string): Promise<void> {
    await this.lock(repo, () => this.run("git", ["-C", repo, "worktree", "prune"]));
  }

  async listWorktrees(repo: string): Promise<GitWorktree[]> {
    const out = await this.text(repo, ["worktree", "list", "--porcelain"]);
    return out.split("\n\n").filter((b) => b.trim()).map((block) => {
      const lines = block.split("\n");
      const field = (name: string) => lines.find((l) => l.startsWith(name + " "))?.slice(name.length + 1);
      return {
        path: field("worktree")!,
        head: field("HEAD"),
        branch: field("branch")?.replace(/^refs\/heads\//, ""),
        bare: lines.includes("bare"),
        detached: lines.includes("detached"),
        locked: lines.includes("locked") ? "" : field("locked"),
      };
    });
  }

  /** Files with uncommitted changes or untracked (not ignored) files, as `git status` shows them. */
  async dirtyFiles(path: string): Promise<string[]> {
    const out = await execOk(this.run, "git", ["-C", path, "status", "--porcelain", "--untracked-files=all"]);
    return out.split("\n").filter((l) => l.trim() !== "");
  }

  /** True when every commit of `rev` (a commit, or a ref such as `refs/heads/<branch>`) is reachable from `base`. */
  async isAncestor(repo: string, rev: string, base: string): Promise<boolean> {
    const r = await this.run("git", ["-C", repo, "merge-base", "--is-ancestor", rev, base]);
    return r.code === 0;
  }

  async deleteBranch(repo: string, branch: string): Promise<void> {
    await this.lock(repo, () => execOk(this.run, "git", ["-C", repo, "branch", "-D", "--", branch]));
  }
}
