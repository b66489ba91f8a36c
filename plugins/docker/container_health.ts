/**
 * The slot's own Docker healthchecks as part of the start: `docker compose up --wait` waits for them,
 * but only Compose v2 has `--wait`. So kinfra waits itself, the same way on v1 and v2: every
 * container of the slot that declares a `healthcheck` must turn healthy; one that turns unhealthy
 * fails the start. Containers without a healthcheck are not waited for.
 */
import type { ContainerState } from "./containers.ts";

export interface ContainerHealth {
  ok: boolean;
  /** `service (container)` of each container still starting (on a timeout) or unhealthy. */
  failing: string[];
  /** What went wrong: "unhealthy", "still starting" or "interrupted". */
  reason?: string;
  /** How many containers have a healthcheck. */
  checked: number;
  elapsedMs: number;
}

/** Docker's health in a container's status text: `Up 3 seconds (health: starting)`. */
export function healthState(status: string): "starting" | "healthy" | "unhealthy" | undefined {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return m ? (m[1] === "health: starting" ? "starting" : m[1] as "healthy" | "unhealthy") : undefined;
}

/**
 * Lists the slot's containers until none with a healthcheck is starting (ok), one is unhealthy,
 * the deadline passes or the signal aborts.
 *
 * @example
 * const health = await waitContainersHealthy(() => listContainers(exec, "shop-slot-1"), 60_000, signal);
 */
export async function waitContainersHealthy(
  list: () => Promise<ContainerState[]>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ContainerHealth> {
  const start = Date.now();
  const name = (c: ContainerState) => `${c.service} (${c.name})`;
  for (let pause = 50;; pause = Math.min(pause * 2, 500)) {
    const containers = (await list()).map((c) => ({ c, state: healthState(c.status) }));
    const checked = containers.filter((x) => x.state).length;
    const result = (ok: boolean, state?: string, reason?: string): ContainerHealth => ({
      ok,
      failing: containers.filter((x) => x.state === state).map((x) => name(x.c)),
      reason,
      checked,
      elapsedMs: Date.now() - start,
    });
    if (containers.some((x) => x.state === "unhealthy")) return result(false, "unhealthy", "unhealthy");
    if (!containers.some((x) => x.state === "starting")) return result(true);
    if (signal.aborted) return result(false, "starting", "interrupted");
    if (Date.now() - start >= timeoutMs) return result(false, "starting", "still starting");
    await new Promise((r) => setTimeout(r, pause));
  }
}
