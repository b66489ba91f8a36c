/**
 * An exclusive advisory lock (flock) on a dedicated lock file. The lock file is never the file that
 * gets renamed, so the lock stays on the same inode; the kernel drops it if the process dies.
 */

/**
 * Runs `fn` while holding an exclusive lock on `lockPath`.
 *
 * @example
 * await withLock(home.registryLock, async () => { … read, change, write … });
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(lockPath, { read: true, write: true, create: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
