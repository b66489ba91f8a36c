/**
 * What this home's sandboxes use, from the Engine API (`/containers/{id}/stats`): memory as `docker
 * stats` counts it (usage less reclaimable inactive page cache; a tmpfs counts), CPU as `docker
 * stats` computes it (over the engine's last second), the containers' CPU time so far, and the
 * engine's MemTotal. No CLI: when the engine cannot be reached over its API, the answer is empty.
 */
import { HOME_LABEL, type RuntimeScan, type SandboxUsage } from "../../core/hooks/plugin_api.ts";
import { engineGet, filters } from "./engine.ts";

interface CpuStats {
  cpu_usage?: { total_usage?: number };
  system_cpu_usage?: number;
  online_cpus?: number;
}

interface Stats {
  memory_stats?: { usage?: number; stats?: Record<string, number> };
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
}

/** Memory as `docker stats` shows it: cgroup v1 `total_inactive_file`, v2 `inactive_file` left out. */
function memoryOf(stats: Stats): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const detail = stats.memory_stats?.stats ?? {};
  return Math.max(0, usage - (detail.total_inactive_file ?? detail.inactive_file ?? 0));
}

/** CPU as `docker stats` shows it (percent of one CPU over the engine's last second), or undefined. */
function cpuOf(stats: Stats): number | undefined {
  const now = stats.cpu_stats, before = stats.precpu_stats;
  const used = (now?.cpu_usage?.total_usage ?? 0) - (before?.cpu_usage?.total_usage ?? 0);
  const system = (now?.system_cpu_usage ?? 0) - (before?.system_cpu_usage ?? 0);
  if (!before?.system_cpu_usage || system <= 0) return undefined;
  return Math.max(0, used) / system * (now?.online_cpus ?? 1) * 100;
}

/**
 * The engine answers stats from its collector, which ticks every second: a one-shot read takes up to
 * a second and has no CPU figure; a plain one waits a second tick (up to two seconds) for it.
 */
const sample = (id: string, cpu: boolean) =>
  engineGet<Stats>(
    `/containers/${encodeURIComponent(id)}/stats?stream=false${cpu ? "" : "&one-shot=true"}`,
    undefined,
    cpu ? 4000 : 3000,
  );

/** This home's running containers with their compose project, memory and CPU (`cpu`: takes longer). */
export async function runtimeUsage(homeId: string, cpu: boolean): Promise<RuntimeScan> {
  const [info, containers] = await Promise.all([
    engineGet<{ MemTotal?: number }>("/info"),
    engineGet<{ Id: string; Labels: Record<string, string> | null }[]>(
      `/containers/json?${filters({ label: [`${HOME_LABEL}=${homeId}`, "com.docker.compose.project"] })}`,
    ),
  ]);
  if (!containers) return {};
  const stats = await Promise.all(containers.map((c) => sample(c.Id, cpu)));
  const sandboxes: Record<string, SandboxUsage> = {};
  containers.forEach((c, i) => {
    const project = c.Labels?.["com.docker.compose.project"];
    const s = stats[i];
    if (!project || !s) return;
    const total = sandboxes[project] ??= { memory: 0, cpu: cpu ? 0 : null, cpu_time: 0, containers: 0 };
    total.memory += memoryOf(s);
    total.cpu_time += s.cpu_stats?.cpu_usage?.total_usage ?? 0;
    total.containers++;
    if (total.cpu !== null) total.cpu += cpuOf(s) ?? 0;
  });
  for (const usage of Object.values(sandboxes)) {
    if (usage.cpu !== null) usage.cpu = Math.round(usage.cpu * 10) / 10;
  }
  return { ...(info?.MemTotal ? { memory_total: info.MemTotal } : {}), sandboxes };
}
