/** Whether kinfra may delete a worktree path by hand: git's own records decide, never the path alone. */
import { dirname, join, resolve } from "../io/path.ts";

/**
 * Why `path` is not a worktree of `gitRoot` that kinfra may delete by hand, or undefined when it is:
 * git still records it (a `gitdir` file under `<common>/worktrees/` names it, until a removal ends), its
 * `.git` file points into those records, or it is an empty directory. A repository of its own, a
 * `.git` pointing elsewhere, or files git has no record of are someone else's.
 */
export async function foreignGit(gitRoot: string, path: string): Promise<string | undefined> {
  const dotGit = join(path, ".git");
  const info = await Deno.lstat(dotGit).catch(() => undefined);
  if (info?.isDirectory) return "it is a git repository of its own";
  const mainGit = join(gitRoot, ".git");
  const named = async (file: string) => {
    const line = /^gitdir: (.+)$/m.exec(await Deno.readTextFile(file).catch(() => ""))?.[1].trim();
    return line &&
      await Deno.realPath(resolve(dirname(file), line)).catch(() => resolve(dirname(file), line));
  };
  const common = (await Deno.lstat(mainGit).catch(() => undefined))?.isFile
    ? await named(mainGit)
    : await Deno.realPath(mainGit).catch(() => mainGit);
  const records = join(common || mainGit, "worktrees");
  const real = join(await Deno.realPath(path).catch(() => path), ".git");
  for (const record of await Array.fromAsync(Deno.readDir(records)).catch(() => [])) {
    const gitdir = (await Deno.readTextFile(join(records, record.name, "gitdir")).catch(() => "")).trim();
    if (gitdir === real || gitdir === dotGit) return undefined;
  }
  if (info) {
    const target = await named(dotGit);
    return target && dirname(target) === records
      ? undefined
      : `its .git points at ${target || "nothing"}, not into ${records}`;
  }
  for await (const _ of Deno.readDir(path)) {
    return "git has no record of it as a worktree, and it is not empty";
  }
  return undefined;
}
