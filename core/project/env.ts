/**
 * What the project layer needs of the running command: the slot layer's home, log and clock, plus
 * the working directory, subprocesses, git and the project lookup. The full Context (core/context.ts)
 * provides it; tests can pass less.
 */
import type { Exec } from "../io/exec.ts";
import type { SlotsEnv } from "../slots/slots.ts";
import type { Git } from "./git.ts";
import type { Project } from "./project.ts";

export interface ProjectEnv extends SlotsEnv {
  cwd: string;
  exec: Exec;
  git: Git;
  /** The project around `dir` (default: the working directory). */
  project(dir?: string): Promise<Project>;
}
