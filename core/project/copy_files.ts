/**
 * `[worktree] copy`: untracked or ignored files (say `.env`) copied from the project root into a new
 * worktree. Sources are checked before anything is created; the copy never writes through a symlink
 * and never outside the worktree; and a copy edited afterwards counts as work for `done`.
 */
import { dirname, join, relative, sep } from "../io/path.ts";
import { usageError } from "../errors.ts";
import { sha256Hex } from "../io/hash.ts";
import type { Exec } from "../io/exec.ts";
import { existsSync } from "../io/home.ts";
import type { Logger } from "../io/output.ts";

/**
 * `.worktreeinclude` (gitignore syntax, read by other worktree tools too): the files it matches that
 * git ignores and does not track — what a fresh checkout lacks — relative to `root`.
 */
export async function worktreeIncludes(exec: Exec, root: string): Promise<string[]> {
  if (!existsSync(join(root, ".worktreeinclude"))) return [];
  const list = async (...args: string[]) => {
    const out = await exec("git", ["-C", root, "ls-files", "--others", "--ignored", "-z", ...args]);
    if (!out.success) throw usageError(`.worktreeinclude: git ls-files failed: ${out.stderr.trim()}`);
    return out.stdout.split("\0").filter(Boolean);
  };
  const [matched, ignored] = await Promise.all([
    list("--exclude-from=.worktreeinclude"),
    list("--exclude-standard"),
  ]);
  const gitIgnored = new Set(ignored);
  return matched.filter((f) => gitIgnored.has(f) && Deno.lstatSync(join(root, f)).isFile);
}

/** The copy entries whose source exists, checked: a directory or special file is a usage error (exit 2). */
export async function plannedCopies(root: string, files: string[], log: Logger): Promise<string[]> {
  const planned: string[] = [];
  for (const file of files) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(join(root, file));
    } catch {
      log.warn(`[worktree] copy: "${file}" does not exist in ${root}; skipped.`);
      continue;
    }
    if (!info.isFile) {
      throw usageError(
        `[worktree] copy: "${file}" is ${
          info.isDirectory ? "a directory" : "not a regular file"
        }; only files can be copied.`,
        `List the files inside it instead (e.g. "${file}/.env"), in ${
          join(root, ".devops-ai", "infra.toml")
        }.`,
      );
    }
    planned.push(file);
  }
  return planned;
}

/** The first existing symlink on the way from `root` down to `root/file`, if any. */
async function symlinkOnPath(root: string, file: string): Promise<string | undefined> {
  let path = root;
  for (const part of file.split(sep)) {
    path = join(path, part);
    try {
      if ((await Deno.lstat(path)).isSymlink) return relative(root, path);
    } catch {
      return undefined; // nothing further exists yet
    }
  }
  return undefined;
}

/**
 * Copies the planned files into `into`; returns the sha256 of each copy. A destination that is (or
 * lies under) a symlink — say a committed `.env -> /elsewhere` — is skipped with a warning, and so is
 * one the base branch fills with a file or directory of its own: the copy goes to a temp file in the
 * real directory and is renamed into place, so nothing outside the worktree is ever written.
 */
export async function copyInto(
  root: string,
  into: string,
  files: string[],
  log: Logger,
): Promise<Record<string, string>> {
  const copied: Record<string, string> = {};
  for (const file of files) {
    const link = await symlinkOnPath(into, file);
    if (link) {
      log.warn(`[worktree] copy: "${link}" in the new worktree is a symlink; "${file}" was not copied.`);
      continue;
    }
    const to = join(into, file);
    // The base may have a file where the copy needs a directory, or a directory where it goes.
    const inTheWay = await Deno.mkdir(dirname(to), { recursive: true }).then(
      async () => Boolean(await Deno.lstat(to).catch(() => undefined)), // a file it tracks, too
      (e) =>
        e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory
          ? true
          : Promise.reject(e),
    );
    if (inTheWay) {
      log.warn(
        `[worktree] copy: the base branch has something else at "${file}" or above it; it was not copied.`,
      );
      continue;
    }
    const temp = `${to}.kinfra-${crypto.randomUUID().slice(0, 8)}`;
    const content = await Deno.readFile(join(root, file));
    try {
      await Deno.writeFile(temp, content, {
        createNew: true,
        mode: (await Deno.stat(join(root, file))).mode ?? 0o600,
      });
      await Deno.rename(temp, to);
    } catch (e) {
      await Deno.remove(temp).catch(() => {});
      throw e;
    }
    copied[file] = await sha256Hex(content);
  }
  return copied;
}

/** Copies that were edited in the worktree since kinfra made them, as `git status`-style lines. */
export async function editedCopies(worktree: string, copied: Record<string, string>): Promise<string[]> {
  const edited: string[] = [];
  for (const [file, sha] of Object.entries(copied)) {
    try {
      if (await sha256Hex(await Deno.readFile(join(worktree, file))) !== sha) {
        edited.push(` M ${file} (copied in by [worktree] copy, edited since)`);
      }
    } catch { /* deleted: nothing to lose */ }
  }
  return edited;
}

/** True when `file` is still exactly the copy kinfra made. */
export async function isUneditedCopy(worktree: string, file: string, sha?: string): Promise<boolean> {
  if (!sha) return false;
  try {
    return await sha256Hex(await Deno.readFile(join(worktree, file))) === sha;
  } catch {
    return false;
  }
}
