/**
 * The slot registry (SPEC §2, seed schema v1) plus a `worktrees` section recording every worktree
 * kinfra creates. Reads are lock-free (writes are atomic); every change happens under the exclusive
 * lock on `registry.lock`.
 */
import { z } from "zod";
import { writeFileAtomic } from "./atomic.ts";
import { KinfraError } from "./errors.ts";
import { withLock } from "./lock.ts";
import { ensureHome, type HomePaths } from "./paths.ts";

export const SlotStatus = z.enum(["claiming", "starting", "running", "stopping", "stopped", "failed"]);
export type SlotStatus = z.infer<typeof SlotStatus>;

export const SlotEntry = z.looseObject({
  slot_id: z.number().int().positive(),
  project: z.string(),
  worktree_path: z.string(),
  slot_dir: z.string(),
  compose_file_copy: z.string(),
  ports: z.record(z.string(), z.number().int()),
  claimed_at: z.string(),
  status: SlotStatus,
  pid: z.number().int().optional(),
  host: z.string().optional(),
});
export type SlotEntry = z.infer<typeof SlotEntry>;

export const WorktreeEntry = z.looseObject({
  path: z.string(),
  kind: z.enum(["spec", "impl"]),
  project: z.string(),
  project_root: z.string(),
  feature: z.string(),
  milestone: z.string().optional(),
  branch: z.string(),
  base: z.string(),
  created_at: z.string(),
  /** Files copied in by `[worktree] copy`, with their sha256, so `done` does not count them as work. */
  copied: z.record(z.string(), z.string()).optional(),
  slot: z.number().int().optional(),
  session: z.string().optional(),
});
export type WorktreeEntry = z.infer<typeof WorktreeEntry>;

export const Registry = z.looseObject({
  version: z.literal(1),
  slots: z.record(z.string(), SlotEntry).default({}),
  worktrees: z.record(z.string(), WorktreeEntry).default({}),
});
export type Registry = z.infer<typeof Registry>;

const empty = (): Registry => ({ version: 1, slots: {}, worktrees: {} });

/** Parses registry text; a corrupt file is an error, never silently replaced. */
export function parseRegistry(text: string, path: string): Registry {
  const corrupt = (why: string) =>
    new KinfraError(`The registry "${path}" is corrupt: ${why}`, {
      hint: `kinfra will not overwrite it. Repair it by hand, or move it aside ` +
        `(mv "${path}" "${path}.bak") and run \`kinfra gc\` to clean up what it described.`,
    });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
  const parsed = Registry.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(`${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads the registry without locking; a missing file is an empty registry. */
export async function readRegistry(home: HomePaths): Promise<Registry> {
  let text: string;
  try {
    text = await Deno.readTextFile(home.registry);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return empty();
    throw e;
  }
  return parseRegistry(text, home.registry);
}

/**
 * Reads, changes and writes the registry under the exclusive lock. `change` mutates the registry
 * in place and may return a value; the file is written only if something changed.
 *
 * @example
 * await updateRegistry(home, (reg) => { reg.worktrees[path] = entry; });
 */
export async function updateRegistry<T>(
  home: HomePaths,
  change: (registry: Registry) => T | Promise<T>,
): Promise<T> {
  await ensureHome(home);
  return await withLock(home.registryLock, async () => {
    const registry = await readRegistry(home);
    const before = JSON.stringify(registry);
    const result = await change(registry);
    const after = JSON.stringify(registry, null, 2);
    if (JSON.stringify(registry) !== before) await writeFileAtomic(home.registry, after + "\n");
    return result;
  });
}
