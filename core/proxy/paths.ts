/** Where the proxy process keeps its files: `<home>/proxy/`. */
import { join } from "../io/path.ts";
import type { HomePaths } from "../io/home.ts";

export interface ProxyPaths {
  dir: string;
  /** Held (flock) by the running process for its whole life: at most one per home. */
  lock: string;
  /** `{pid, started_at, router_port, version, parts}`, written atomically on every change. */
  state: string;
  /** The process's stdout/stderr and its own log lines. */
  log: string;
  /** Per-slot traffic (see activity.ts). */
  activity: string;
  /** What the sandboxes use, measured every few seconds (see usage_part.ts). */
  usage: string;
  /** The control socket commands talk to (`reconcile`, `status`, `stop`). */
  socket: string;
}

export function proxyPaths(home: HomePaths): ProxyPaths {
  const dir = join(home.root, "proxy");
  return {
    dir,
    lock: join(dir, "lock"),
    state: join(dir, "state.json"),
    log: join(dir, "proxy.log"),
    activity: join(dir, "activity.json"),
    usage: join(dir, "usage.json"),
    socket: join(dir, "control.sock"),
  };
}
