/**
 * Atomic file writes: temp file in the same directory, fsync, rename. A reader sees the old file or
 * the new one, never half of either; a crash leaves at worst a stray temp file.
 */
import { basename, dirname, join } from "./path.ts";

/** A temp file's name in `path`'s directory, this process's and unique: renamed over `path` once written. */
const tempBeside = (path: string) =>
  join(dirname(path), `.${basename(path)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);

/**
 * Replaces `path` with `content` atomically, creating the parent directory if needed.
 *
 * @example
 * await writeFileAtomic("/home/u/.devops-ai/registry.json", JSON.stringify(reg));
 */
export async function writeFileAtomic(path: string, content: string, mode?: number): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await replaceFileAtomic(path, content, mode);
}

/**
 * `writeFileAtomic` into a directory that must already exist (NotFound otherwise): for a background
 * writer that must never create again a directory someone removed.
 */
export async function replaceFileAtomic(path: string, content: string, mode?: number): Promise<void> {
  const temp = tempBeside(path);
  const file = await Deno.open(temp, { write: true, createNew: true, mode });
  try {
    try {
      const bytes = new TextEncoder().encode(content);
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (e) {
    // A full disk or a failed rename leaves no stray temp file behind.
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * {@link writeFileAtomic} in synchronous calls, for a small file a command waits for anyway (the
 * registry, under its lock): each call takes microseconds where an event-loop round trip costs tens.
 * Not for a process that serves while it writes (the proxy's own records): the fsync blocks it.
 */
export function writeFileAtomicSync(path: string, content: string, mode?: number): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const temp = tempBeside(path);
  const file = Deno.openSync(temp, { write: true, createNew: true, mode });
  try {
    try {
      const bytes = new TextEncoder().encode(content);
      for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(temp, path);
  } catch (e) {
    // A full disk or a failed rename leaves no stray temp file behind.
    try {
      Deno.removeSync(temp);
    } catch { /* already gone */ }
    throw e;
  }
}
