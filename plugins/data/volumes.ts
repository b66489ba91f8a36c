/**
 * Docker volumes as per-slot data: which named volumes of a slot are its own, snapshots (volumes
 * labelled with the home id and the snapshot's name), and copying between volumes in a helper
 * container, so nothing passes through the host's disk. Every call is the docker CLI.
 */
import {
  compareText,
  type Exec,
  HOME_LABEL,
  KinfraError,
  type Logger,
  SLOT_LABEL,
  type Snapshot,
  tail,
} from "../../core/hooks/plugin_api.ts";

export const SNAPSHOT_LABEL = "dev.kinfra.snapshot";
const META = {
  volume: `${SNAPSHOT_LABEL}.volume`,
  bytes: `${SNAPSHOT_LABEL}.bytes`,
  source: `${SNAPSHOT_LABEL}.source`,
  project: `${SNAPSHOT_LABEL}.project`,
  created: `${SNAPSHOT_LABEL}.created`,
};

/** What the helpers need from a hook context. */
export interface Docker {
  exec: Exec;
  log: Logger;
  homeId: string;
  signal: AbortSignal;
  global: { data: { helper_image: string } };
}

export async function docker(d: Docker, args: string[]): Promise<string> {
  const result = await d.exec("docker", args);
  if (!result.success) {
    const command = args.slice(0, 2).filter((a) => !a.startsWith("-")).join(" ");
    throw new KinfraError(`docker ${command} failed: ${tail(result.stderr, 3).join(" ")}`);
  }
  return result.stdout.trim();
}

const lines = (text: string) => text.split("\n").filter(Boolean);

/** A named volume of a slot: its key in the compose file and the name Docker knows it by. */
export interface SlotVolume {
  key: string;
  name: string;
}

/**
 * The slot's own named volumes — `<compose project>_<key>` — limited to `only` when given. External
 * volumes and ones with a fixed `name:` (the same in every slot) are not the slot's; `skipped` says so.
 */
export function slotVolumes(
  model: Record<string, unknown> | undefined,
  project: string,
  only?: string[],
): { volumes: SlotVolume[]; skipped: string[] } {
  const declared = Object.entries(
    (model?.volumes ?? {}) as Record<string, { name?: string; external?: unknown } | null>,
  );
  const unknown = (only ?? []).filter((key) => !declared.some(([k]) => k === key));
  if (unknown.length) {
    throw new KinfraError(
      `[sandbox.data] volumes names ${
        unknown.map((k) => `"${k}"`).join(", ")
      }, not a named volume of the compose file.`,
      { code: 2, hint: `Named volumes: ${declared.map(([k]) => k).join(", ") || "none"}.` },
    );
  }
  const volumes: SlotVolume[] = [];
  const skipped: string[] = [];
  for (const [key, body] of declared) {
    if (only && !only.includes(key)) continue;
    const own = `${project}_${key}`;
    if (body?.external) skipped.push(`volume ${key} is external: not the sandbox's, left alone`);
    else if (body?.name && body.name !== own) {
      skipped.push(`volume ${key} has a fixed name (${body.name}), shared by every slot: left alone`);
    } else volumes.push({ key, name: own });
  }
  return { volumes, skipped };
}

/** Which of `names` exist on the engine. */
export async function existing(d: Docker, names: string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  const all = new Set(lines(await docker(d, ["volume", "ls", "-q"])));
  return new Set(names.filter((n) => all.has(n)));
}

/** A snapshot volume's name: unique per home, snapshot and volume key. */
export const snapshotVolume = (homeId: string, snapshot: string, key: string) =>
  `kinfra-snapshot-${homeId}-${snapshot}-${key}`;

/** This home's snapshots (volumes carrying its id and a snapshot label), by name. */
export async function listSnapshots(d: Docker): Promise<Snapshot[]> {
  const names = lines(
    await docker(d, [
      ...["volume", "ls", "-q", "--filter", `label=${HOME_LABEL}=${d.homeId}`],
      ...["--filter", `label=${SNAPSHOT_LABEL}`],
    ]),
  );
  if (!names.length) return [];
  const inspected = JSON.parse(await docker(d, ["volume", "inspect", ...names])) as {
    Labels: Record<string, string> | null;
  }[];
  const byName = new Map<string, Snapshot>();
  for (const { Labels: l } of inspected) {
    if (!l || l[HOME_LABEL] !== d.homeId) continue;
    const snapshot = byName.get(l[SNAPSHOT_LABEL]) ?? {
      name: l[SNAPSHOT_LABEL],
      volumes: [],
      bytes: 0,
      source: l[META.source] ?? "",
      project: l[META.project] ?? "",
      created: l[META.created] ?? "",
    };
    snapshot.volumes.push(l[META.volume]);
    snapshot.bytes += Number(l[META.bytes] ?? 0);
    byName.set(snapshot.name, snapshot);
  }
  return [...byName.values()].sort((a, b) => compareText(a.name, b.name));
}

/** Creates a volume with labels; it must not exist yet (somebody else's data is never written over). */
export async function createVolume(d: Docker, name: string, labels: Record<string, string>): Promise<void> {
  if ((await existing(d, [name])).size) {
    throw new KinfraError(`Volume ${name} already exists; kinfra does not write over it.`, {
      hint: "Remove it (`docker volume rm " + name + "`) if it is leftover data, or use another name.",
    });
  }
  await docker(d, [
    "volume",
    "create",
    ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    name,
  ]);
}

export async function removeVolumes(d: Docker, names: string[]): Promise<void> {
  if (names.length) await d.exec("docker", ["volume", "rm", "-f", ...names]);
}

/** Labels of a slot volume kinfra creates before compose would: compose's own, and this home's. */
export function slotVolumeLabels(
  d: Docker,
  project: string,
  key: string,
  slot: string,
): Record<string, string> {
  return {
    "com.docker.compose.project": project,
    "com.docker.compose.volume": key,
    [HOME_LABEL]: d.homeId,
    [SLOT_LABEL]: slot,
  };
}

export function snapshotLabels(
  d: Docker,
  snapshot: Omit<Snapshot, "volumes" | "bytes">,
  key: string,
  bytes: number,
): Record<string, string> {
  return {
    [HOME_LABEL]: d.homeId,
    [SNAPSHOT_LABEL]: snapshot.name,
    [META.volume]: key,
    [META.bytes]: String(bytes),
    [META.source]: snapshot.source,
    [META.project]: snapshot.project,
    [META.created]: snapshot.created,
  };
}

/**
 * Runs `script` in a helper container with `mounts` (`volume:/path[:ro]`) and returns its stdout.
 * Says what it is doing when that takes over a second; Ctrl-C removes the container.
 */
async function helper(d: Docker, what: string, mounts: string[], script: string): Promise<string> {
  const name = `kinfra-data-${crypto.randomUUID().slice(0, 8)}`;
  const started = performance.now();
  const slow = setTimeout(() => d.log.info(`${what}…`), 1000);
  const kill = () => d.exec("docker", ["rm", "-f", name]).catch(() => {});
  d.signal.addEventListener("abort", kill);
  try {
    const out = await docker(d, [
      ...["run", "--rm", "--name", name, "--label", `${HOME_LABEL}=${d.homeId}`, "--network", "none"],
      ...mounts.flatMap((m) => ["-v", m]),
      ...["--entrypoint", "sh", d.global.data.helper_image, "-c", `set -e; ${script}`],
    ]);
    if (d.signal.aborted) throw new KinfraError(`${what}: interrupted`, { code: 130 });
    return out;
  } catch (e) {
    await kill();
    throw e;
  } finally {
    clearTimeout(slow);
    d.signal.removeEventListener("abort", kill);
    const seconds = (performance.now() - started) / 1000;
    if (seconds >= 1) d.log.info(`${what}: ${seconds.toFixed(1)} s`);
  }
}

/** Bytes in each volume, in order. */
export async function sizes(d: Docker, volumes: string[]): Promise<number[]> {
  const mounts = volumes.map((v, i) => `${v}:/v/${i}:ro`);
  const out = await helper(
    d,
    "Measuring",
    mounts,
    volumes.map((_, i) => `du -sk /v/${i} | cut -f1`).join("; "),
  );
  return lines(out).map((kb) => Number(kb) * 1024);
}

/** Copies each `[from, to]` volume's whole content (owners, modes, times kept), streaming in the helper. */
export async function copyVolumes(d: Docker, what: string, pairs: [string, string][]): Promise<void> {
  const mounts = pairs.flatMap(([from, to], i) => [`${from}:/from/${i}:ro`, `${to}:/to/${i}`]);
  await helper(d, what, mounts, pairs.map((_, i) => `cp -a /from/${i}/. /to/${i}/`).join("; "));
}

/**
 * Runs `fn` with the containers of `project` that use any of `volumes` stopped (a consistent copy:
 * nothing writes meanwhile), then starts them again, whatever `fn` did. Returns their service names.
 */
export async function withStopped<T>(
  d: Docker,
  project: string,
  volumes: string[],
  fn: () => Promise<T>,
): Promise<{ result: T; stopped: string[] }> {
  const ids = new Set<string>();
  for (const volume of volumes) {
    const filters = [
      "--filter",
      `label=com.docker.compose.project=${project}`,
      "--filter",
      `volume=${volume}`,
    ];
    for (const id of lines(await docker(d, ["ps", "-q", ...filters]))) ids.add(id);
  }
  if (!ids.size) return { result: await fn(), stopped: [] };
  const format = '{{index .Config.Labels "com.docker.compose.service"}}';
  const stopped = lines(await docker(d, ["inspect", "--format", format, ...ids])).sort();
  await docker(d, ["stop", ...ids]);
  try {
    return { result: await fn(), stopped };
  } finally {
    await docker(d, ["start", ...ids]);
  }
}
