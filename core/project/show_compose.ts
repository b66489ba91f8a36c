/**
 * The compose file as committed on a ref (`git show <ref>:<file>`), apart from the compose checks
 * that read it (core/sandbox/base_compose.ts): `impl` starts it before that code has loaded.
 */
import { join, relative } from "../io/path.ts";
import type { Exec, ExecResult } from "../io/exec.ts";
import { exists, type HomePaths, prune } from "../io/home.ts";
import { sha256Hex } from "../io/hash.ts";
import { headOnDisk } from "./git.ts";
import type { Project } from "./project.ts";

/** The project's compose file, relative to the repository's top level (as `git show` wants it). */
export const composePath = (project: Project): string =>
  relative(project.gitRoot, join(project.root, project.config!.sandbox!.compose_file));

/**
 * `git show <ref>:<compose file>`: its text on `ref`, or a failure when it is not committed there.
 *
 * A commit's file never changes. So for HEAD, once git has shown a commit's file with the same text as
 * the checkout's, a marker named by commit, path and text is left in `<home>/cache/committed/`; while
 * HEAD is that commit and the checkout's file has that text, the text is the answer and git is not
 * asked (`impl` waited ~9 ms for it before anything else could start).
 */
export async function showBaseCompose(
  ctx: { exec: Exec; home: HomePaths },
  project: Project,
  ref: string,
): Promise<ExecResult> {
  const path = composePath(project);
  const commit = ref === "HEAD" ? headOnDisk(project.gitRoot)?.commit : undefined;
  if (!commit) return await ctx.exec("git", ["-C", project.gitRoot, "show", `${ref}:${path}`]);
  const dir = join(ctx.home.root, "cache", "committed");
  const onDisk = await Deno.readTextFile(join(project.gitRoot, path)).catch(() => undefined);
  const marker = onDisk === undefined
    ? undefined
    : join(dir, (await sha256Hex([commit, path, onDisk].join("\0"))).slice(0, 32));
  if (marker && await exists(marker)) {
    return { code: 0, success: true, stdout: onDisk!, stderr: "" };
  }
  // The commit read, not HEAD again: HEAD may have moved since, and the marker must name what git showed.
  const shown = await ctx.exec("git", ["-C", project.gitRoot, "show", `${commit}:${path}`]);
  if (marker && shown.success && shown.stdout === onDisk) {
    await Deno.mkdir(dir, { recursive: true })
      .then(() => Deno.writeFile(marker, new Uint8Array()))
      .then(() => prune(dir, 256))
      .catch(() => {});
  }
  return shown;
}
