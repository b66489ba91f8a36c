/**
 * The compose file as committed on a ref (`git show <ref>:<file>`), apart from the compose checks
 * that read it (core/sandbox/base_compose.ts): `impl` starts it before that code has loaded.
 */
import { join, relative } from "../io/path.ts";
import type { Exec, ExecResult } from "../io/exec.ts";
import type { Project } from "./project.ts";

/** The project's compose file, relative to the repository's top level (as `git show` wants it). */
export const composePath = (project: Project): string =>
  relative(project.gitRoot, join(project.root, project.config!.sandbox!.compose_file));

/** `git show <ref>:<compose file>`: its text on `ref`, or a failure when it is not committed there. */
export function showBaseCompose(ctx: { exec: Exec }, project: Project, ref: string): Promise<ExecResult> {
  return ctx.exec("git", ["-C", project.gitRoot, "show", `${ref}:${composePath(project)}`]);
}
