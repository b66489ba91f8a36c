/**
 * The extension point of kinfra's one on-demand background process (`kinfra proxy`, docs/proxy.md).
 *
 * The process is a set of *parts*. It has no state of its own: whenever it starts, the registry
 * changes (file watch plus a 1 s poll), the global config changes or a command asks
 * (`reconcileProxy`), it hands every part the current {@link ProxyWorld} and the part brings what it
 * runs in line with it. It exits once no part has been `needed` for a short grace, so a crash or a
 * `kill -9` loses nothing: the next command that needs it starts it again and the parts rebuild
 * everything from the registry.
 *
 * A part lives in its own file under `core/proxy/` and is listed in `core/proxy/parts.ts`:
 * - the router (`router_part.ts`): `<feature>-<milestone>.<project>.localhost:<port>` names;
 * - checkouts (`checkout_part.ts`): a project's canonical ports forwarded to one sandbox;
 * - tunnels (`tunnels_part.ts`): a remote slot's ports on 127.0.0.1 through `ssh -N -L` (issue 28);
 * - sync (`sync_part.ts`): a remote slot's worktree copied to its host as it changes (issue 28);
 * - idle (`idle_part.ts`): the idle check of `idle_stop` (issue 27) every few seconds, with the
 *   traffic `env.activity` has seen; never needed on its own.
 */
import type { Context } from "../context.ts";
import type { GlobalConfig } from "../project/config/schema.ts";
import type { HomePaths } from "../io/home.ts";
import type { Registry } from "../slots/registry.ts";
import type { Activity } from "./activity.ts";

/** What every part is given on each reconcile: the facts, freshly read. */
export interface ProxyWorld {
  /** The registry as it is now (read-only: a part never writes it). */
  registry: Registry;
  /** The global config (`<home>/config.toml` with defaults). */
  config: GlobalConfig;
}

/** What a part gets once, when the process builds it. */
export interface PartEnv {
  home: HomePaths;
  /** A command context for the home (project configs, plugins' hooks, exec) — no terminal. */
  ctx: Context;
  /** Writes a line to `<home>/proxy/proxy.log`. */
  log: (message: string) => void;
  /** Per-slot traffic, saved to `<home>/proxy/activity.json` (throttled, atomic). */
  activity: Activity;
  /**
   * False once the home is going (its registry, or this process's lock file, removed — as `rm -rf`
   * does): a part then writes nothing, since a file written into a directory being removed keeps it.
   */
  keep: () => boolean;
}

export interface ProxyPart {
  /** Short and unique: `router`, `checkout`, `idle`, `tunnels`. */
  readonly name: string;
  /** True while the part has work for this world; the process exits when no part is needed. */
  needed(world: ProxyWorld): boolean;
  /**
   * Brings what the part runs in line with `world`. Idempotent, called often; one bad slot must not
   * stop the others (record it in `status().problems`). A throw is logged and shown as the part's error.
   */
  reconcile(world: ProxyWorld): Promise<void>;
  /** Its state for `<home>/proxy/state.json`, `kinfra proxy status` and `doctor` (JSON-safe). */
  status(): PartStatus;
  /** Stops everything the part runs (the process is exiting). */
  close(): Promise<void>;
  /** For periodic parts: `tick` runs every `intervalMs` while the process lives. */
  intervalMs?: number;
  tick?(world: ProxyWorld): Promise<void>;
}

export interface PartStatus {
  /** Problems a user should see (a port held by another process, a route that failed). */
  problems?: string[];
  /** How `kinfra proxy status` shows it, a line each (default: its fields). */
  summary?: string[];
  [key: string]: unknown;
}

/** Builds a part. Building has no side effects (the CLI builds parts to ask `needed`). */
export type PartFactory = (env: PartEnv) => ProxyPart;
