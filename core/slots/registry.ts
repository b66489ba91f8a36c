/**
 * The slot registry (README, "Where things live"; schema version 1) plus a `worktrees` section recording every worktree
 * kinfra creates. Reads are lock-free (writes are atomic); every change happens under the exclusive
 * lock on `registry.lock`.
 */
import { writeFileAtomicSync } from "../io/atomic.ts";
import { KinfraError } from "../errors.ts";
import { withLock } from "../io/lock.ts";
import { ensureHome, type HomePaths } from "../io/home.ts";
import type { HostProcess } from "../io/host_process.ts";
import { shapeProblem } from "./registry_parse.ts";

export type SlotStatus = "claiming" | "starting" | "running" | "stopping" | "stopped" | "failed";

export interface SlotEntry {
  slot_id: number;
  project: string;
  worktree_path: string;
  slot_dir: string;
  compose_file_copy: string;
  ports: Record<string, number>;
  /** Widths of the port ranges among `ports` (a range covers `ports[VAR]` … `ports[VAR_END]`). */
  widths?: Record<string, number>;
  /** Variables published over UDP only. */
  udp?: string[];
  /** Port variables that serve HTTP (status shows them as links). */
  http?: string[];
  /** Variables published over both TCP and UDP (`udp` lists the UDP-only ones). */
  also_udp?: string[];
  /** The port variable the sandbox's stable name leads to: the health check's, else the first HTTP one. */
  primary?: string;
  /** Extra router names from plugins (`sandbox.routes`): `<name>.<worktree>.<project>.localhost` → port. */
  routes?: Record<string, number>;
  claimed_at: string;
  status: SlotStatus;
  pid?: number;
  host?: string;
  /** Set when the sandbox runs on a remote Docker host (`kinfra hosts`) instead of the local engine. */
  remote?: RemoteSlot;
  /** Set while the slot is a warm sandbox (`kinfra warm`) no worktree has taken yet. */
  warm?: WarmSlot;
}

/** Where a remote slot's sandbox runs and what keeps it local-looking. */
export interface RemoteSlot {
  /** The host's name in `<home>/hosts.json`. */
  host: string;
  /** Its engine's address (a DOCKER_HOST, or tcp+tls://…), kept so teardown works after `hosts rm`. */
  docker_host: string;
  /** The worktree's copy on the host for the code mounts: a directory (ssh), or its volumes' name (tcp://). */
  copy?: string;
  /** The project's `shared` mounts (`paths` relative to `root`) and their copy on the host, one per project there. */
  shared?: { root: string; paths: string[]; copy: string };
  /** tcp:// hosts: each code directory of the worktree ("." for all of it) and the volume holding it. */
  volumes?: Record<string, string>;
  /** Where its containers' traces go on the host (the Docker bridge's gateway; core/remote/otlp_relay.ts). */
  otlp?: { address: string; port: number };
  /** Set when teardown could not reach the host: the slot stays reserved until it answers again. */
  unreachable?: string;
}

/** A warm sandbox: started from the base commit's compose file, only its services that mount no code. */
export interface WarmSlot {
  /** The project's root (main checkout). */
  root: string;
  /** The base ref and the commit it was at: `impl` takes a warm slot only for that commit. */
  base: string;
  base_commit: string;
  /** sha256 of infra.toml's [sandbox] table as it was: a changed config makes the slot unusable. */
  config_hash: string;
  /** The services running (those mounting no worktree code); `impl` starts the others. */
  services: string[];
  /** When it became ready (running, seeded, healthy). */
  ready_at?: string;
}

/** What a project's sandbox was measured to use once healthy (`[slots] memory` budget). */
export interface ProjectUsage {
  memory: number;
  cpu: number | null;
  measured_at: string;
  /** The compose project it was measured on. */
  compose_project: string;
  /** The runtime's memory then (the engine's MemTotal), for the default budget without asking again. */
  memory_total?: number;
}

/** Why and when kinfra stopped a sandbox on its own (`idle_stop`). */
export interface IdleStop {
  at: string;
  /** How long it had been unused, in milliseconds. */
  idle_ms: number;
  slot: number;
}

export interface WorktreeEntry {
  path: string;
  kind: "spec" | "impl";
  project: string;
  project_root: string;
  feature: string;
  milestone?: string;
  branch: string;
  base: string;
  created_at: string;
  /** Files copied in by `[worktree] copy`, with their sha256, so `done` does not count them as work. */
  copied?: Record<string, string>;
  /**
   * Set while kinfra creates or removes the worktree (with the pid and host doing it), cleared when
   * that finishes; left behind by a killed process, it tells `done` and `gc` to finish the job.
   */
  state?: "creating" | "removing";
  pid?: number;
  host?: string;
  /** The commit the branch was created at: an interrupted creation deletes the branch only if it is still there. */
  base_commit?: string;
  slot?: number;
  /** The slot this worktree last had: its kept volumes (`kinfra down`) are that slot's, so `up` goes back to it. */
  last_slot?: number;
  /** The coding-agent host this worktree was made for (`agent-hook`), and the files kinfra wrote for it. */
  agent?: AgentRecord;
  /** Plugins' `state`, by plugin name (e.g. the agent-deck session id). */
  plugin_state?: Record<string, Record<string, unknown>>;
  /** Set when `idle_stop` stopped its sandbox; `up` clears it. */
  idle_stopped?: IdleStop;
  [extra: string]: unknown;
}

export interface AgentRecord {
  host: "claude-code";
  session_id?: string;
  transcript_path?: string;
  /** The host's process (Claude Code), to tell whether its session has ended. */
  process?: HostProcess;
  /** Files kinfra wrote into the worktree for the host (its hook settings): never work, removed by `done`. */
  files: string[];
  /** Why the host's last WorktreeRemove was refused (Claude shows no reason; `worktrees` and `gc` do). */
  remove_refused?: string;
}

export interface Registry {
  version: 1;
  slots: Record<string, SlotEntry>;
  worktrees: Record<string, WorktreeEntry>;
  /** `kinfra checkout`: by project name, the worktree path whose sandbox has the canonical ports. */
  checkouts?: Record<string, string>;
  /** By project name: what its sandbox used once healthy, last time one was measured. */
  usage?: Record<string, ProjectUsage>;
  /** By project name: how many warm sandboxes `kinfra warm <n>` asked for. */
  warm?: Record<string, { count: number; root: string }>;
}

const empty = (): Registry => ({ version: 1, slots: {}, worktrees: {} });

/** Parses registry text; a corrupt file is an error, never silently replaced. */
export function parseRegistry(text: string, path: string): Registry {
  const corrupt = (why: string) =>
    new KinfraError(`The registry "${path}" is corrupt: ${why}`, {
      hint: `kinfra will not overwrite it. Repair it by hand, or move it aside ` +
        `(mv "${path}" "${path}.bak") and run \`kinfra gc\` to clean up what it described.`,
    });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
  const problem = shapeProblem(data);
  if (problem) throw corrupt(problem);
  const registry = data as Registry;
  registry.slots ??= {};
  registry.worktrees ??= {};
  return registry;
}

let last: { path: string; version: string; registry: Registry } | undefined;

/**
 * Which version of the file `info` describes. Every write is an atomic rename of a new file, so a new
 * version is a new inode; the size and the time are checked too. Undefined where the platform lacks them.
 */
const versionOf = (info: Deno.FileInfo) =>
  info.ino && info.mtime ? `${info.ino}:${info.size}:${info.mtime.getTime()}` : undefined;

/**
 * Reads the registry without locking; a missing file is an empty registry. The result is shared
 * by every reader in this process while the file is unchanged (a command reads it three or four
 * times; with 500 worktrees each read is ~200 KB): treat it as read-only; `updateRegistry` hands out
 * a private copy to change.
 */
// deno-lint-ignore require-await
export async function readRegistry(home: HomePaths): Promise<Registry> {
  const version = statVersion(home.registry);
  if (version && last?.path === home.registry && last.version === version) return last.registry;
  const text = readRegistryText(home);
  if (text === undefined) return empty();
  const registry = deepFreeze(parseRegistry(text, home.registry));
  // Stamped with the version seen before reading: if the file was replaced in between, the next
  // read sees a version that differs, and reads again.
  if (version) last = { path: home.registry, version, registry };
  return registry;
}

/** Frozen all the way down, so a reader that changed the shared copy would fail loudly. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const key in value) deepFreeze(value[key]);
    Object.freeze(value);
  }
  return value;
}

function statVersion(path: string): string | undefined {
  try {
    return versionOf(Deno.statSync(path));
  } catch {
    return undefined;
  }
}

/**
 * The registry's text; undefined when there is none. Synchronous, as its stat and writes are: one
 * small local file, read several times by every command (microseconds, not event-loop round trips).
 */
function readRegistryText(home: HomePaths): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(home.registry);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.IsADirectory) {
      throw new KinfraError(`The registry "${home.registry}" is a directory, not a file.`, {
        hint: `kinfra will not touch it. Move it aside (mv "${home.registry}" "${home.registry}.bak").`,
      });
    }
    throw e;
  }
  return text;
}

/**
 * Reads, changes and writes the registry under the exclusive lock. `change` mutates the registry
 * in place and may return a value; the file is written only if something changed.
 *
 * @example
 * await updateRegistry(home, (reg) => { reg.worktrees[path] = entry; });
 */
export async function updateRegistry<T>(
  home: HomePaths,
  change: (registry: Registry) => T | Promise<T>,
): Promise<T> {
  await ensureHome(home);
  return await withLock(home.registryLock, async () => {
    const text = readRegistryText(home);
    const registry = text === undefined ? empty() : parseRegistry(text, home.registry);
    const before = JSON.stringify(registry);
    const result = await change(registry);
    const after = JSON.stringify(registry, null, 2);
    if (JSON.stringify(registry) !== before) writeFileAtomicSync(home.registry, after + "\n");
    return result;
  });
}

/** This project's warm slots (`kinfra warm`). */
export const warmSlots = (registry: Registry, project: string) =>
  Object.values(registry.slots).filter((s) => s.warm && s.project === project);

/** The registry's slot for a worktree, if it has one (from `registry`, a read already made, if given). */
export async function slotOf(
  ctx: { home: HomePaths },
  worktreePath: string,
  registry?: Registry,
): Promise<SlotEntry | undefined> {
  registry ??= await readRegistry(ctx.home);
  const slot = Object.values(registry.slots).find((s) => s.worktree_path === worktreePath);
  return slot && structuredClone(slot); // the caller's own copy: the registry read is shared and frozen
}
