/**
 * The public plugin API. Built-in plugins (plugins/<name>/) import only this module, and the adapter
 * for out-of-process plugins implements the same `Plugin` interface, so the dispatcher cannot tell
 * them apart.
 *
 * @example
 * export default definePlugin({
 *   name: "hello",
 *   order: 50,
 *   hooks: { "worktree.ready": (ctx) => ({ messages: [`Hello from ${ctx.worktree.path}`] }) },
 * });
 */
import type { ComposeTool } from "../compose/tool.ts";
import type { GlobalConfig, InfraConfig } from "../project/config/schema.ts";
import type { Exec } from "../io/exec.ts";
import type { Logger } from "../io/output.ts";

export { type Exec, type ExecOptions, type ExecResult, onPath, tail } from "../io/exec.ts";
export type { Logger } from "../io/output.ts";
export { Exit, KinfraError } from "../errors.ts";
export { SLOT_FILES, slotFiles, slotName } from "../slots/slot_files.ts";
export { healthUrl } from "../slots/ports.ts";
export { type ComposeTool, runCompose } from "../compose/tool.ts";
export { composeTail } from "../compose/stderr.ts";
export { sha256Hex } from "../io/hash.ts";
export { formatBytes } from "../text/bytes.ts";
export { compareText } from "../text/compare.ts";
export { httpStatus, probe, sleep } from "../io/probe.ts";
/** The Docker Engine API over its socket, tcp:// or TLS; docker contexts as the CLI reads them. */
export * from "./engine_exports.ts";
/** POSIX path helpers with node:path's semantics, without Node's start-up cost. */
export { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "../io/path.ts";

/** The label every container, network and volume a plugin creates carries: this home's id (`homeId`). */
export const HOME_LABEL = "dev.kinfra.home";
/** The label naming the slot (`slotName(project, id)`: `<project>-<n>`) an object belongs to. */
export const SLOT_LABEL = "dev.kinfra.slot";

export { readSlotCompose } from "./read_slot_compose.ts";
export type { GlobalConfig, InfraConfig, SandboxConfig } from "../project/config/schema.ts";
export { parseMount } from "../project/config/mounts.ts";
export { parseDuration } from "../text/duration.ts";
export { observabilityNames } from "../project/config/defaults.ts";
import type {
  CapacityFlags,
  Check,
  EnvResult,
  PrepareResult,
  RoutesResult,
  RuntimeScan,
  SetupResult,
  SlotRemote,
  Snapshot,
  TeardownResult,
} from "./results.ts";
export type * from "./results.ts";

/** Every lifecycle event with the result its handlers may return (docs/plugins.md, "Events"). */
export interface EventMap {
  "worktree.created": EnvResult;
  "slot.claimed": EnvResult;
  "sandbox.prepare": PrepareResult;
  "sandbox.start": SetupResult;
  "sandbox.ready": SetupResult;
  "worktree.ready": SetupResult;
  "worktree.removing": TeardownResult & { veto?: string };
  "sandbox.stop": TeardownResult;
  "slot.released": TeardownResult;
  "worktree.removed": TeardownResult;
  /**
   * `status` is data for `--json`; `lines` is how it reads in `kinfra status` (default: key value
   * pairs); `running: false` says this plugin's part of the sandbox is gone or stopped, and `kinfra
   * up` then starts the sandbox again.
   */
  status: { status?: Record<string, unknown>; lines?: string[]; messages?: string[]; running?: boolean };
  doctor: { checks?: Check[] };
  /**
   * Which sandboxes (compose projects) the plugin's runtime holds: `ours` carry this home's label,
   * `foreign` do not (another kinfra home's, or not kinfra's at all). Slot claims avoid foreign
   * names; `gc` removes ours that no slot owns. Not tied to a project: `project` is null.
   */
  "runtime.scan": RuntimeScan;
  /**
   * Remove everything of the slot's sandbox that carries this home's label, volumes included — for
   * a stale slot or an orphan, whose worktree, slot directory and project may all be gone
   * (`worktree` and `project` are null). Never touch what lacks the label.
   */
  "sandbox.purge": TeardownResult;
  /**
   * `kinfra snapshot save`: copy the slot's data into the snapshot `flags.snapshot` (a slot event).
   * The plugin that keeps the data replies with what it saved.
   */
  "snapshot.save": { snapshot?: Snapshot; messages?: string[] };
  /** `kinfra snapshot list` (and `impl --seed`'s check): this home's snapshots. `project` is null. */
  "snapshot.list": { snapshots?: Snapshot[] };
  /** `kinfra snapshot rm`: remove the snapshot `flags.snapshot`; reply with what went. `project` is null. */
  "snapshot.remove": { removed?: string[]; messages?: string[] };
  /** `kinfra logs`: the last `flags.lines` lines of the slot's services (`flags.service`: only that one). */
  "sandbox.logs": { lines?: string[] };
  /** `kinfra restart`: restart the slot's services (`flags.service`: only that one) as they are. */
  "sandbox.restart": { messages?: string[] };
  /** Extra names for the router of `kinfra proxy` (docs/proxy.md), asked when a sandbox is ready. */
  "sandbox.routes": RoutesResult;
}

export type EventName = keyof EventMap;

export const SETUP_EVENTS = [
  "worktree.created",
  "slot.claimed",
  "sandbox.prepare",
  "sandbox.start",
  "sandbox.ready",
  "worktree.ready",
] as const satisfies readonly EventName[];
export const TEARDOWN_EVENTS = [
  "worktree.removing",
  "sandbox.stop",
  "slot.released",
  "worktree.removed",
  "sandbox.purge",
] as const satisfies readonly EventName[];
export const OBSERVATION_EVENTS = [
  "status",
  "doctor",
  "runtime.scan",
  "sandbox.routes",
] as const satisfies readonly EventName[];
/** Events a command runs for its own sake (`kinfra snapshot …`): the first failure is the command's. */
export const COMMAND_EVENTS = [
  "snapshot.save",
  "snapshot.list",
  "snapshot.remove",
  "sandbox.logs",
  "sandbox.restart",
] as const satisfies readonly EventName[];
export type SetupEvent = typeof SETUP_EVENTS[number];
export type TeardownEvent = typeof TEARDOWN_EVENTS[number];
export type ObservationEvent = typeof OBSERVATION_EVENTS[number];
export type CommandEvent = typeof COMMAND_EVENTS[number];
/** Events about the runtime as a whole, or a slot whose project may be gone: `project` is null. */
export const RUNTIME_EVENTS = [
  "runtime.scan",
  "sandbox.purge",
  "snapshot.list",
  "snapshot.remove",
] as const satisfies readonly EventName[];
export type RuntimeEvent = typeof RUNTIME_EVENTS[number];

/** The command-line choices that reach plugins (external ones too, in the stdin document). */
export interface HookFlags extends CapacityFlags {
  /** `spec`/`impl --session`: start an agent-deck session for the worktree. */
  session?: boolean;
  /** `impl`: false with `--no-sandbox`. */
  sandbox?: boolean;
  /** `done --force`: uncommitted work and vetoes are overridden. */
  force?: boolean;
  /** `done --delete-branch`: the branch goes even when unmerged. */
  deleteBranch?: boolean;
  /** `down`, `done --keep-volumes` (and `up` restarting vanished containers): named volumes are kept. */
  keepVolumes?: boolean;
  /** `impl --seed` (or `[sandbox.data] seed`): the snapshot a new slot's volumes start from. */
  seed?: string;
  /** `impl --from <worktree>`: the slot whose current data a new slot's volumes start from. */
  fork?: { worktree: string; compose_project: string };
  /** `kinfra snapshot save|rm <name>`: the snapshot. */
  snapshot?: string;
  /** `kinfra logs|restart --service`: the one service meant (default: all). */
  service?: string;
  /** `kinfra logs --tail`: how many lines per service. */
  lines?: number;
}

/** The data every handler receives; external plugins get exactly this as JSON on stdin. */
export interface HookInput {
  /** Set for every event but the runtime ones (RUNTIME_EVENTS). */
  project: { name: string; prefix: string; root: string } | null;
  worktree: {
    path: string;
    branch: string;
    kind: "spec" | "impl";
    feature: string;
    milestone?: string;
  } | null;
  slot: {
    id: number;
    dir: string;
    compose_project: string;
    /** Set when the sandbox runs on a remote Docker host (see SlotRemote). */
    remote?: SlotRemote;
  } | null;
  ports: Record<string, number>;
  /** Variables collected so far from core and earlier plugins. */
  env: Record<string, string>;
  flags: HookFlags;
  /** What each plugin kept with this worktree (setup replies' `state`), by plugin name. */
  state: Record<string, Record<string, unknown>>;
  /** The whole validated infra.toml, or null without one. */
  config: InfraConfig | null;
  /** The slot's resolved compose document (`compose config`), from `slot.claimed` on while it starts. */
  model?: Record<string, unknown>;
}

/**
 * The JSON document an out-of-process plugin reads on stdin (protocol 1): the input, with the event,
 * its own `[plugins.<name>]` table as `config` and its own `state`.
 */
export interface ExternalInput extends Omit<HookInput, "config" | "state" | "model"> {
  api: 1;
  event: EventName;
  config: Record<string, unknown>;
  state: Record<string, unknown>;
}

/** Events that always concern one slot of an impl worktree: their `slot` and `worktree` are set. */
export const SLOT_EVENTS = [
  "slot.claimed",
  "sandbox.prepare",
  "sandbox.start",
  "sandbox.ready",
  "sandbox.stop",
  "slot.released",
  "snapshot.save",
  "sandbox.logs",
  "sandbox.restart",
] as const satisfies readonly EventName[];
export type SlotEvent = typeof SLOT_EVENTS[number];

/** The events whose `env` still reaches `.env.sandbox` (it is written after `sandbox.prepare`). */
export const ENV_EVENTS = [
  "worktree.created",
  "slot.claimed",
  "sandbox.prepare",
] as const satisfies readonly EventName[];

/** What an event's payload guarantees beyond HookInput. */
export type EventInput<E extends EventName> =
  & (E extends RuntimeEvent ? unknown : { project: NonNullable<HookInput["project"]> })
  & (E extends SlotEvent ? {
      slot: NonNullable<HookInput["slot"]>;
      worktree: NonNullable<HookInput["worktree"]>;
    }
    : E extends "sandbox.purge" ? { slot: NonNullable<HookInput["slot"]> }
    : unknown);

/** What a handler gets: the input plus its own config table and the side-effect channels. */
export type HookContext<E extends EventName = EventName> = BaseContext<E> & EventInput<E>;

interface BaseContext<E extends EventName> extends Omit<HookInput, "state"> {
  event: E;
  /** What this plugin kept with the worktree in earlier events. */
  state: Record<string, unknown>;
  /** This plugin's `[plugins.<name>]` table from infra.toml (empty when absent). */
  pluginConfig: Record<string, unknown>;
  signal: AbortSignal;
  log: Logger;
  /** Runs a subprocess; for a slot on a remote host, docker and compose reach that host's engine. */
  exec: Exec;
  /** DOCKER_HOST of the engine this event is about (a remote slot's, or `runtime.scan` of a host); undefined: the local one. */
  dockerHost?: string;
  /** The state home (`$KINFRA_HOME`). */
  home: string;
  /** The state home's id: label every Docker object you create with `dev.kinfra.home=<homeId>`. */
  homeId: string;
  /** The compose command kinfra uses (v2 plugin or v1), resolved once. */
  compose: () => Promise<ComposeTool>;
  /** kinfra's global config (`<home>/config.toml`, with defaults). */
  global: GlobalConfig;
}

export type Handler<E extends EventName> = (
  ctx: HookContext<E>,
) => EventMap[E] | void | Promise<EventMap[E] | void>;

export interface Plugin {
  name: string;
  /** 0–100; setup runs ascending, teardown descending. Default 50. */
  order?: number;
  version?: string;
  description?: string;
  hooks: { [E in EventName]?: Handler<E> };
  /**
   * In-process plugins only: follow the runtime until `ctx.signal` aborts, calling `changed` whenever
   * something of this home's changes there. `kinfra ui` and `status --watch` refresh on it.
   */
  watch?: (ctx: WatchContext, changed: () => void) => Promise<void>;
}

/** What `watch` gets: the side-effect channels, no event. */
export type WatchContext = Pick<
  BaseContext<EventName>,
  "signal" | "log" | "exec" | "home" | "homeId" | "global"
>;

/** Identity helper that gives a plugin object its type. */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
