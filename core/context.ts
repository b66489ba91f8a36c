/**
 * The context every command runs with. Side effects come in through it (subprocesses, logger,
 * state paths, clock, abort signal), so commands can be driven from tests without global state.
 * This file is the interface only; core/make_context.ts wires the real one. Lower layers take the
 * slice they use (SlotsEnv, ProjectEnv, ComposeEnv), which a Context satisfies.
 */
import type { GlobalConfig } from "./project/config/schema.ts";
import type { ComposeTool } from "./compose/tool.ts";
import type { Exec } from "./io/exec.ts";
import type { Git } from "./project/git.ts";
import type { Hooks } from "./hooks/dispatch.ts";
import type { Logger, Style } from "./io/output.ts";
import type { HomePaths } from "./io/home.ts";
import type { Plugin } from "./hooks/plugin_api.ts";
import type { Project } from "./project/project.ts";

export interface Context {
  cwd: string;
  env: { get(key: string): string | undefined };
  home: HomePaths;
  exec: Exec;
  git: Git;
  log: Logger;
  style: Style;
  signal: AbortSignal;
  /** True when prompts may be shown (stdin and stderr are terminals). */
  interactive: boolean;
  now(): Date;
  /** This home's id (created on first use), the value of every Docker object's dev.kinfra.home label. */
  homeId(): Promise<string>;
  globalConfig(): Promise<GlobalConfig>;
  /** The compose command to use (KINFRA_COMPOSE, then `[compose] command`, then detection). */
  compose(): Promise<ComposeTool>;
  /** The project around `dir` (default: the working directory). */
  project(dir?: string): Promise<Project>;
  /** The built-in plugins. */
  builtins(): Promise<Plugin[]>;
  /**
   * The dispatcher with the plugins active for `project`: built-ins plus enabled third-party ones
   * (without a project, those enabled in the global config).
   */
  hooks(project?: Project): Promise<Hooks>;
}
