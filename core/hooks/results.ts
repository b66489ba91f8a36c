/** What plugin handlers return, event by event (see EventMap in plugin_api.ts). */

/** A compose document fragment; the core merges all fragments into one override file. */
export type ComposeFragment = Record<string, unknown>;

export interface SetupResult {
  messages?: string[];
  /** Kept in the registry with the worktree and handed back as `state` in later events. */
  state?: Record<string, unknown>;
}

/** Setup events up to `sandbox.prepare` may add variables: they still reach `.env.sandbox` and compose. */
export interface EnvResult extends SetupResult {
  env?: Record<string, string>;
}

/** Only `sandbox.prepare` adds to the override file. */
export interface PrepareResult extends EnvResult {
  compose?: ComposeFragment;
}

export interface TeardownResult {
  messages?: string[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it, shown when `ok` is false. */
  hint?: string;
  /** A warning is reported but does not fail `doctor`. */
  severity?: "error" | "warning";
}

/** A saved copy of a sandbox's named volumes. */
export interface Snapshot {
  name: string;
  /** The compose volume keys it holds (`db`, `cache`). */
  volumes: string[];
  /** Bytes of data, as measured when it was saved. */
  bytes: number;
  /** Where it came from: the worktree path and its compose project. */
  source: string;
  project: string;
  /** ISO 8601. */
  created: string;
}

/**
 * `runtime.scan`: which sandboxes the runtime holds (`ours`, `foreign`); asked with `flags.usage`,
 * what this home's use instead (`sandboxes`, by compose project) and the runtime's memory.
 */
export interface RuntimeScan {
  ours?: string[];
  foreign?: string[];
  /** The memory the runtime has (the Docker engine's MemTotal), in bytes (`flags.usage`). */
  memory_total?: number;
  /** What this home's sandboxes use, by compose project (`flags.usage`). */
  sandboxes?: Record<string, SandboxUsage>;
}

/**
 * `sandbox.routes`, asked when a sandbox is ready: extra names for the router of `kinfra proxy`.
 * `{ routes: { docs: 8123 } }` makes `http://docs.<feature>-<milestone>.<project>.localhost:<router
 * port>/` lead to 127.0.0.1:8123. Names are DNS labels (a–z, 0–9, `-`); ports 1–65535, on loopback.
 */
export interface RoutesResult {
  routes?: Record<string, number>;
}

/** What one sandbox uses now (`runtime.scan` with `flags.usage`). */
export interface SandboxUsage {
  /** Bytes of memory its running containers hold (reclaimable page cache not counted). */
  memory: number;
  /** Percent of one CPU over a short sample; null when not sampled (`flags.cpu` false). */
  cpu: number | null;
  /** CPU time its running containers have used so far, in nanoseconds (for averages over longer windows). */
  cpu_time: number;
  /** Running containers. */
  containers: number;
}

/** The flags of the capacity features (docs/capacity.md); part of HookFlags. */
export interface CapacityFlags {
  /** `runtime.scan`: what this home's sandboxes use instead of whose they are; `cpu`: CPU too (slower). */
  usage?: boolean;
  cpu?: boolean;
  /**
   * A warm sandbox (`kinfra warm`): `start` while its code-free services start (`worktree.path` is
   * the slot directory), `take` when `impl` adopts one (only `services` are to be started).
   */
  warm?: "start" | "take";
  /** `sandbox.start`/`sandbox.ready`: only these services (the rest run already or wait). */
  services?: string[];
}

/**
 * A remote Docker host's sandbox (`slot.remote`): its name, engine address (a DOCKER_HOST, or
 * `tcp+tls://…`; `exec` already sets DOCKER_*), its code there — a directory (`code_root`, ssh) or,
 * tcp://, a volume per mounted worktree directory (`code_volumes`, by worktree-relative path, "."
 * for the root; declared external, kinfra feeds them) — the copy of the project root's
 * `shared` mounts (instead of the project root), and where its traces go.
 */
export interface SlotRemote {
  host: string;
  docker_host: string;
  code_root?: string;
  code_volumes?: Record<string, string>;
  shared_root?: string;
  /**
   * Where its containers send traces to reach the collector on this machine, through ssh
   * (`http://host.docker.internal:<port>`; needs `host.docker.internal:host-gateway`). Unset: off.
   */
  otlp_endpoint?: string;
}
