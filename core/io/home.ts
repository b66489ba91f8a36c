/**
 * Where kinfra keeps its state (README, "Where things live"). The home is `$KINFRA_HOME` or `~/.devops-ai/`, created
 * lazily by the first command that needs it. Each home has a stable random id, carried as a
 * label by every Docker object it creates, so one home never touches another's (or anyone's) objects.
 */
import { join } from "./path.ts";
import { environmentError } from "../errors.ts";
import { hex } from "./hash.ts";

export interface HomePaths {
  root: string;
  registry: string;
  registryLock: string;
  slots: string;
  observability: string;
  config: string;
  plugins: string;
  trust: string;
  /** The file holding this home's id. */
  id: string;
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
    id: join(root, "home-id"),
  };
}

/**
 * Creates the home directory if it is missing; a home that cannot be written is an environment error.
 * Synchronous inside (one mkdir, microseconds): before every registry write, an event-loop round trip
 * let other work run first.
 */
// deno-lint-ignore require-await
export async function ensureHome(home: HomePaths): Promise<void> {
  try {
    Deno.mkdirSync(home.root, { recursive: true });
  } catch (e) {
    throw environmentError(
      `Cannot create the kinfra home "${home.root}": ${e instanceof Error ? e.message : e}.`,
      "Make it writable, or point KINFRA_HOME at a writable directory.",
    );
  }
}

const ID = /^[0-9a-f]{16}$/;

/**
 * This home's id: 16 hex digits, made once and never changed. Created with a hard link so two
 * processes starting at once agree on one id.
 */
export async function homeId(home: HomePaths): Promise<string> {
  const read = () => {
    const text = Deno.readTextFileSync(home.id).trim();
    if (!ID.test(text)) {
      throw environmentError(
        `The home id file "${home.id}" is corrupt (expected 16 hex digits).`,
        "Restore it; kinfra recognises its Docker objects by this id (they carry the label dev.kinfra.home).",
      );
    }
    return text;
  };
  try {
    return read();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await ensureHome(home);
  const id = hex(crypto.getRandomValues(new Uint8Array(8)));
  const temp = `${home.id}.${Deno.pid}.tmp`;
  // Synchronous, once per home: a command that exits meanwhile (a refusal) cannot leave the temp file.
  try {
    Deno.writeTextFileSync(temp, id + "\n");
    Deno.linkSync(temp, home.id);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  } finally {
    try {
      Deno.removeSync(temp);
    } catch { /* never written */ }
  }
  return read();
}

/**
 * A small file's text, or undefined when it cannot be read. Synchronous: the async read's round trip
 * through Deno's blocking pool costs more than the read of a config or state file itself.
 */
export function readTextIfAny(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** A file's size and mtime as one string ("-" when it is missing): it moves whenever the file is rewritten. */
export function fileStamp(path: string): string {
  try {
    const info = Deno.statSync(path);
    return `${info.size}:${info.mtime?.getTime()}`;
  } catch {
    return "-";
  }
}

/** What is at `path` (a symlink followed), or undefined when nothing (readable) is. */
export function statSyncOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/** `exists` without a round trip through the async runtime: ~5 µs, where the async call costs ~25 (loops over hundreds). */
export function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false; // below a file
    throw e;
  }
}

/**
 * Which of `paths` exist, from one listing of each parent directory: hundreds of worktrees usually
 * share a few parents, so this is a few reads where `existsSync` on each would be hundreds.
 */
export function existingSync(paths: Iterable<string>): Set<string> {
  // Per parent: its entries' names, or undefined where it cannot be listed (searchable, not readable).
  const names = new Map<string, Set<string> | undefined>();
  const list = (parent: string) => {
    try {
      return new Set(Array.from(Deno.readDirSync(parent), (e) => e.name));
    } catch (e) {
      return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory
        ? new Set<string>()
        : undefined;
    }
  };
  const found = new Set<string>();
  for (const path of paths) {
    const cut = path.lastIndexOf("/");
    const parent = path.slice(0, cut);
    // "/x", "x/" or a relative name: asked directly.
    if (cut <= 0 || cut === path.length - 1) {
      if (existsSync(path)) found.add(path);
      continue;
    }
    if (!names.has(parent)) names.set(parent, list(parent));
    const listed = names.get(parent);
    if (listed ? listed.has(path.slice(cut + 1)) : existsSync(path)) found.add(path);
  }
  return found;
}

/** True when a path exists (file, directory or symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false; // below a file
    throw e;
  }
}

/** Past `max` files in `dir` (a cache's), removes the older half by mtime. */
export async function prune(dir: string, max: number): Promise<void> {
  const entries = await Array.fromAsync(Deno.readDir(dir));
  if (entries.length <= max) return;
  const dated = await Promise.all(
    entries.map(async (e) => ({ path: join(dir, e.name), at: (await Deno.stat(join(dir, e.name))).mtime })),
  );
  dated.sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0));
  for (const old of dated.slice(0, dated.length / 2)) await Deno.remove(old.path).catch(() => {});
}
