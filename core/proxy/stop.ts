/**
 * Stopping the proxy process: asked over its control socket; one that does not answer (hung, or
 * stopped with SIGSTOP) gets SIGTERM, then SIGKILL, by the pid its lock file names — and only while
 * that pid is still a `kinfra proxy run` (a recycled pid is never signalled).
 */
import type { Context } from "../context.ts";
import { KinfraError } from "../errors.ts";
import { askProxy } from "./control.ts";
import { proxyPaths } from "./paths.ts";
import { sleep } from "../io/timers.ts";

const ANSWER_MS = 3000;
const TERM_MS = 5000;

/** True once nobody holds the lock (we take it and let it go at once). */
async function lockFree(path: string): Promise<boolean> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  try {
    return await file.tryLock(true);
  } finally {
    file.close(); // releases it again
  }
}

/** Whether `pid` still runs a kinfra proxy (on Linux: a zombie or a recycled pid does not). */
async function stillProxy(pid: number): Promise<boolean> {
  if (Deno.build.os !== "linux") return true; // only the lock can tell
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
  return cmdline.replaceAll("\0", " ").trim().endsWith("proxy run");
}

/**
 * True once `pid` has let the lock go. A successor may take the lock the moment it does (a proxy that
 * was started meanwhile waits for it), so on Linux the pid being gone counts as well.
 */
async function waitGone(path: string, pid: number, ms: number): Promise<boolean> {
  const gone = async () => await lockFree(path) || !await stillProxy(pid);
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (await gone()) return true;
    await sleep(50);
  }
  return await gone();
}

/** The pid the lock file names, if the lock is held and that pid is a kinfra proxy. */
async function lockHolder(path: string): Promise<number | undefined> {
  if (await lockFree(path)) return undefined;
  let pid: number;
  try {
    pid = Number(JSON.parse(await Deno.readTextFile(path)).pid);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return await stillProxy(pid) ? pid : undefined;
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* gone already */ }
}

/** Stops the running proxy and waits until it has; returns the pid it had, or undefined when none ran. */
export async function stopProxy(ctx: Context): Promise<number | undefined> {
  const paths = proxyPaths(ctx.home);
  const reply = await askProxy(paths.socket, { op: "stop" }, ANSWER_MS).catch(() => undefined);
  let pid = reply?.ok ? reply.state.pid : undefined;
  if (pid === undefined) {
    pid = await lockHolder(paths.lock);
    if (pid === undefined) return undefined;
    ctx.log.warn(`The kinfra proxy (pid ${pid}) does not answer; stopping it with SIGTERM.`);
    signal(pid, "SIGTERM");
  }
  if (await waitGone(paths.lock, pid, TERM_MS)) return pid;
  ctx.log.warn(`The kinfra proxy (pid ${pid}) is still there; killing it (SIGKILL).`);
  signal(pid, "SIGKILL");
  if (await waitGone(paths.lock, pid, 2000)) return pid;
  throw new KinfraError(`The kinfra proxy (pid ${pid}) did not stop.`, { hint: `Look at it: ps -p ${pid}` });
}
