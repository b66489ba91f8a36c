/**
 * Where kinfra keeps its state (SPEC §2). The home is `$KINFRA_HOME` or `~/.devops-ai/`, created
 * lazily by the first command that needs it (GAP-2).
 */
import { join } from "node:path";

export interface HomePaths {
  root: string;
  registry: string;
  registryLock: string;
  slots: string;
  observability: string;
  config: string;
  plugins: string;
  trust: string;
}

/** Resolves the state home from the environment. */
export function homePaths(env: { get(key: string): string | undefined } = Deno.env): HomePaths {
  const root = env.get("KINFRA_HOME") || join(env.get("HOME") ?? Deno.cwd(), ".devops-ai");
  return {
    root,
    registry: join(root, "registry.json"),
    registryLock: join(root, "registry.lock"),
    slots: join(root, "slots"),
    observability: join(root, "observability"),
    config: join(root, "config.toml"),
    plugins: join(root, "plugins"),
    trust: join(root, "trust.json"),
  };
}

/** Creates the home directory if it is missing. */
export async function ensureHome(home: HomePaths): Promise<void> {
  await Deno.mkdir(home.root, { recursive: true });
}

/** True when a path exists (file, directory or symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
