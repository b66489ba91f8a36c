/**
 * An exclusive advisory lock (flock) on a dedicated lock file. The lock file is never the file that
 * gets renamed, so the lock stays on the same inode; the kernel drops it if the process dies.
 *
 * The holder writes who it is (pid, command) into the lock file, so a process that has to wait can
 * say what it waits for; the wait is bounded (`KINFRA_LOCK_TIMEOUT` seconds, default 60) and ends
 * in an error naming the holder instead of hanging forever behind a hung process.
 */
import { KinfraError } from "../errors.ts";

export interface LockOptions {
  /** How long to wait before giving up (default: KINFRA_LOCK_TIMEOUT seconds, else 60 s). */
  timeoutMs?: number;
  /** Told once when the lock is busy for more than a second. */
  onWait?: (message: string) => void;
}

const NOTICE_AFTER_MS = 1000;
const encoder = new TextEncoder();

function defaultTimeoutMs(): number {
  const seconds = Number(Deno.env.get("KINFRA_LOCK_TIMEOUT"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/** Who holds the lock, as its holder wrote it ("pid 123: kinfra impl a/M1"), or "an unknown process". */
async function holderOf(lockPath: string): Promise<string> {
  try {
    const { pid, command } = JSON.parse(await Deno.readTextFile(lockPath));
    return `pid ${pid}${command ? ` (${command})` : ""}`;
  } catch {
    return "an unknown process";
  }
}

function writeHolder(file: Deno.FsFile): void {
  const holder = { pid: Deno.pid, command: ["kinfra", ...Deno.args].join(" ").slice(0, 200) };
  file.truncateSync(0);
  file.writeSync(encoder.encode(JSON.stringify(holder)));
}

/** Waits for the blocking lock, telling `onWait` once and giving up after the timeout. */
async function waitForLock(file: Deno.FsFile, lockPath: string, options: LockOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
  const onWait = options.onWait ??
    ((m: string) => Deno.stderr.writeSync(encoder.encode(`${m}\n`)));
  const locked = file.lock(true);
  const timers: ReturnType<typeof setTimeout>[] = [];
  const gaveUp = new Promise<"timeout">((resolve) => {
    timers.push(setTimeout(async () => {
      onWait(`Waiting for ${lockPath}, held by ${await holderOf(lockPath)}…`);
    }, Math.min(NOTICE_AFTER_MS, timeoutMs / 2)));
    timers.push(setTimeout(() => resolve("timeout"), timeoutMs));
  });
  const outcome = await Promise.race([locked.then(() => "locked" as const), gaveUp]);
  timers.forEach(clearTimeout);
  if (outcome === "locked") return;
  // The blocking lock cannot be cancelled: release it as soon as it is granted.
  locked.then(() => file.close(), () => {});
  throw new KinfraError(
    `Gave up after ${Math.round(timeoutMs / 1000)}s waiting for ${lockPath}, held by ${await holderOf(
      lockPath,
    )}.`,
    {
      hint: "If that process is hung, stop it (kill <pid>) and run the command again; " +
        "raise KINFRA_LOCK_TIMEOUT to wait longer.",
    },
  );
}

/**
 * Runs `fn` while holding an exclusive lock on `lockPath`. Taking a free lock and letting it go are
 * synchronous calls on a small local file: microseconds each, where an event-loop round trip costs
 * tens (every registry change comes through here, five in an `impl`). Only the wait for a busy lock
 * is asynchronous.
 *
 * @example
 * await withLock(home.registryLock, async () => { … read, change, write … });
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const file = Deno.openSync(lockPath, { read: true, write: true, create: true });
  let handedOff = false;
  try {
    if (!file.tryLockSync(true)) {
      handedOff = true; // on timeout, waitForLock closes the file once the kernel grants the lock
      await waitForLock(file, lockPath, options);
      handedOff = false;
    }
    writeHolder(file);
    try {
      return await fn();
    } finally {
      try {
        file.truncateSync(0);
      } catch { /* closing releases the lock all the same */ }
    }
  } finally {
    if (!handedOff) file.close(); // closing releases the lock
  }
}
