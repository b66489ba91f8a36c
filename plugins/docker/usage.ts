/**
 * What this home's sandboxes use, from the Engine API (`/containers/{id}/stats`, one-shot; no CLI):
 * memory as `docker stats` counts it (usage less reclaimable inactive page cache; a tmpfs counts),
 * the containers' CPU time so far, and the engine's MemTotal. The engine answers stats on its
 * collector's one-second tick, so a read takes up to a second. CPU is a rate, which needs two
 * reads: the last read of each container is kept in `<home>/cache/usage.json`, and CPU is the
 * average since then (when that was 0.5 s to 10 min ago); with `cpu` asked and no usable earlier
 * read, a second read on the next tick gives it (up to a second more). When the engine cannot be
 * reached over its API, the answer is empty. A remote slot's engine (ssh://) is read the same way
 * through `docker system dial-stdio` over ssh (engine.ts), with its reads cached apart.
 */
import {
  HOME_LABEL,
  join,
  type RuntimeScan,
  type SandboxUsage,
  sha256Hex,
} from "../../core/hooks/plugin_api.ts";
import { engineGet, filters } from "./engine.ts";

interface Stats {
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
}

/** A container's CPU counters at one read. */
interface Read {
  cpu: number;
  system: number;
  cpus: number;
  at: number;
}

const MIN_GAP_MS = 500;
const MAX_GAP_MS = 600_000;

/** Memory as `docker stats` shows it: cgroup v1 `total_inactive_file`, v2 `inactive_file` left out. */
function memoryOf(stats: Stats): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const detail = stats.memory_stats?.stats ?? {};
  return Math.max(0, usage - (detail.total_inactive_file ?? detail.inactive_file ?? 0));
}

const readOf = (stats: Stats, at: number): Read => ({
  cpu: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
  system: stats.cpu_stats?.system_cpu_usage ?? 0,
  cpus: stats.cpu_stats?.online_cpus ?? 1,
  at,
});

/** Percent of one CPU between two reads (as `docker stats` computes it), or undefined. */
function cpuBetween(before: Read | undefined, now: Read): number | undefined {
  if (!before || now.at - before.at < MIN_GAP_MS || now.at - before.at > MAX_GAP_MS) return undefined;
  const system = now.system - before.system;
  if (system <= 0 || now.cpu < before.cpu) return undefined;
  return (now.cpu - before.cpu) / system * now.cpus * 100;
}

/** An ssh handshake comes first on a remote engine: it gets more time. */
const timeout = (dockerHost?: string) => dockerHost ? 10_000 : 3000;

const sample = (id: string, dockerHost?: string) =>
  engineGet<Stats>(
    `/containers/${encodeURIComponent(id)}/stats?stream=false&one-shot=true`,
    dockerHost,
    timeout(dockerHost),
    true,
  );

async function loadReads(path: string): Promise<Record<string, Read>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return {};
  }
}

async function saveReads(path: string, reads: Record<string, Read>): Promise<void> {
  try {
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(`${path}.${Deno.pid}.tmp`, JSON.stringify(reads));
    await Deno.rename(`${path}.${Deno.pid}.tmp`, path);
  } catch { /* a cache: the next read just has no CPU figure */ }
}

/** This home's running containers by compose project: memory, CPU time, and CPU (`cpu`: always). */
export async function runtimeUsage(
  home: string,
  homeId: string,
  cpu: boolean,
  dockerHost?: string,
): Promise<RuntimeScan> {
  const cachePath = join(
    home,
    "cache",
    dockerHost ? `usage-${(await sha256Hex(dockerHost)).slice(0, 12)}.json` : "usage.json",
  );
  const [info, containers, earlier] = await Promise.all([
    engineGet<{ MemTotal?: number }>("/info", dockerHost, timeout(dockerHost), true),
    engineGet<{ Id: string; Labels: Record<string, string> | null }[]>(
      `/containers/json?${filters({ label: [`${HOME_LABEL}=${homeId}`, "com.docker.compose.project"] })}`,
      dockerHost,
      timeout(dockerHost),
      true,
    ),
    loadReads(cachePath),
  ]);
  if (!containers) return {};
  const stats = await Promise.all(containers.map((c) => sample(c.Id, dockerHost)));
  const reads = stats.map((s) => s && readOf(s, Date.now()));
  const rates = reads.map((r, i) => r && cpuBetween(earlier[containers[i].Id], r));
  if (cpu && rates.some((rate, i) => rate === undefined && reads[i])) {
    // No usable earlier read: a second one, on the engine's next tick.
    await Promise.all(containers.map(async (c, i) => {
      if (rates[i] !== undefined || !reads[i]) return;
      const again = await sample(c.Id, dockerHost);
      if (!again) return;
      const next = readOf(again, Date.now());
      rates[i] = cpuBetween(reads[i], next);
      reads[i] = next;
    }));
  }
  const sandboxes: Record<string, SandboxUsage> = {};
  containers.forEach((c, i) => {
    const project = c.Labels?.["com.docker.compose.project"];
    if (!project || !stats[i] || !reads[i]) return;
    const total = sandboxes[project] ??= { memory: 0, cpu: 0, cpu_time: 0, containers: 0 };
    total.memory += memoryOf(stats[i]!);
    total.cpu_time += reads[i]!.cpu;
    total.containers++;
    total.cpu = rates[i] === undefined || total.cpu === null ? null : total.cpu + rates[i]!;
  });
  for (const usage of Object.values(sandboxes)) {
    if (usage.cpu !== null) usage.cpu = Math.round(usage.cpu * 10) / 10;
  }
  await saveReads(
    cachePath,
    Object.fromEntries(containers.flatMap((c, i) => reads[i] ? [[c.Id, reads[i]!]] : [])),
  );
  return { ...(info?.MemTotal ? { memory_total: info.MemTotal } : {}), sandboxes };
}
