/**
 * Finding every process a plugin run started, however it detached. Each run gets a unique
 * `KINFRA_RUN_ID` in its environment; children inherit it through `setsid`, double forks and
 * backgrounding, so on Linux the processes still carrying it can be found in /proc and killed.
 * (A process that scrubs its environment escapes; elsewhere only the process group is reached.)
 */

/** Pids of live processes whose environment holds `KINFRA_RUN_ID=<runId>`. */
export async function processesOfRun(runId: string): Promise<number[]> {
  const marker = new TextEncoder().encode(`KINFRA_RUN_ID=${runId}\0`);
  const pids: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir("/proc"));
  } catch {
    return pids; // no /proc (macOS): nothing to sweep beyond the process group
  }
  for (const entry of entries) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      if (contains(await Deno.readFile(`/proc/${pid}/environ`), marker)) pids.push(pid);
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * SIGKILLs every process still carrying the run's id and waits (up to 2 s) until none runs any
 * more — a killed process on a busy machine still shows as running until it is scheduled to die.
 * Returns how many there were.
 */
export async function killRun(runId: string): Promise<number> {
  const pids = await processesOfRun(runId);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  for (const deadline = Date.now() + 2000; pids.some(running) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return pids.length;
}

/** True while a process exists and is not a zombie (dead, waiting for its parent to reap it). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}
