/**
 * Project discovery (README, "Where things live"): the project root is the nearest ancestor holding
 * `.devops-ai/infra.toml`, looked up in the main worktree even when kinfra runs inside a linked one,
 * so an uncommitted infra.toml still applies. Without infra.toml the git top level is the project
 * and its directory name the prefix.
 */
import { basename, dirname, isAbsolute, join, relative, resolve } from "../io/path.ts";
import { ConfigError, configError, Exit, KinfraError } from "../errors.ts";
import { parseInfraConfigCached } from "./config/cache.ts";
import type { InfraConfig } from "./config/schema.ts";
import type { Git } from "./git.ts";
import { existsSync, readTextIfAny } from "../io/home.ts";

export const CONFIG_DIR = ".devops-ai";
export const CONFIG_FILE = "infra.toml";

export interface Project {
  /** Directory holding `.devops-ai/infra.toml` (or the main worktree's top level without one). */
  root: string;
  /** Top level of the main worktree; git commands run here. */
  gitRoot: string;
  name: string;
  prefix: string;
  configPath?: string;
  config?: InfraConfig;
  /** Absolute directory new worktrees are created in. */
  worktreeRoot: string;
}

/**
 * Finds and loads the project around `cwd`.
 *
 * @example
 * const project = await findProject(git, "/src/khealth-impl-x-M1/src", 20, "/home/u/.devops-ai/cache");
 * project.root; // "/src/khealth"
 */
export async function findProject(
  git: Git,
  cwd: string,
  maxSlots: number,
  cacheDir: string,
  globalWorktreeRoot?: string,
): Promise<Project> {
  const { top, mainTop } = await git.locate(cwd);
  const inMain = join(mainTop, relative(top, resolve(cwd)));
  const configPath = findConfigUpwards(existsSync(inMain) ? inMain : mainTop, mainTop);
  if (!configPath) {
    const name = basename(mainTop);
    return {
      root: mainTop,
      gitRoot: mainTop,
      name,
      prefix: name,
      worktreeRoot: globalWorktreeRoot ?? dirname(mainTop),
    };
  }
  const root = dirname(dirname(configPath));
  const config = await parseInfraConfigCached(
    Deno.readTextFileSync(configPath),
    configPath,
    maxSlots,
    cacheDir,
  );
  return {
    root,
    gitRoot: mainTop,
    name: config.project.name,
    prefix: config.project.prefix ?? config.project.name,
    configPath,
    config,
    worktreeRoot: config.worktree.root
      ? containedRoot(root, config.worktree.root, configPath)
      : globalWorktreeRoot ?? dirname(root),
  };
}

/**
 * The infra.toml of a project whose root is known (a registry entry's `project_root`): read
 * there, without asking git where the project is — for checks that run over every sandbox on every
 * command. Undefined when there is none or it cannot be read.
 */
export async function configAt(
  root: string,
  maxSlots: number,
  cacheDir: string,
): Promise<InfraConfig | undefined> {
  const path = join(root, ".devops-ai", "infra.toml");
  const text = readTextIfAny(path);
  return text === undefined
    ? undefined
    : await parseInfraConfigCached(text, path, maxSlots, cacheDir).catch(() => undefined);
}

/**
 * The project, or undefined where there is none (outside git). Anything else — a broken infra.toml,
 * a file that cannot be read, a bug — is still reported, so a command that can run without a project
 * does not hide it behind another message ("not a kinfra worktree").
 */
export async function projectIfAny(load: () => Promise<Project>): Promise<Project | undefined> {
  return await load().catch((e) => {
    if (e instanceof KinfraError && e.code === Exit.usage && !(e instanceof ConfigError)) return undefined;
    throw e;
  });
}

/** `[worktree] root` of infra.toml, which may not lead out of the project's parent directory. */
function containedRoot(root: string, value: string, configPath: string): string {
  const resolved = resolve(root, value);
  const parent = dirname(root);
  const inside = relative(parent, resolved);
  if (inside.startsWith("..") || isAbsolute(inside)) {
    throw configError(
      `${configPath}: worktree.root = ${JSON.stringify(value)} leads to ${resolved}, outside ${parent}.`,
      `Keep worktrees beside the project ("..", "../worktrees"); for another place, set an absolute ` +
        `[worktree] root in the global config.toml.`,
    );
  }
  return resolved;
}

function findConfigUpwards(start: string, stop: string): string | undefined {
  for (let dir = start;; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_DIR, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    if (dir === stop || dir === dirname(dir)) return undefined;
  }
}
