/**
 * The code of a sandbox on a tcp:// (or TLS) host, fed through the engine API alone — no ssh, no
 * rsync, no tool on the host, no image pulled. Each code directory of the worktree has a volume of
 * its own there (engines before 26 cannot mount a volume's sub-directory), and a pass:
 *  1. lists the worktree as git sees it (`git ls-files --cached --others --exclude-standard`: the
 *     ignore rules, .git left out) and compares size, mtime and mode with what the last pass sent
 *     (a manifest kept in the home, so a restarted proxy knows what is over there);
 *  2. creates — never starts — a holder container with the volumes mounted, from a one-layer empty
 *     image kinfra imports on first use (`POST /images/create?fromSrc=-`: an upload, not a pull);
 *  3. deletes what went away (first: a file that became a directory goes before the new one comes): the engine's tar extraction removes a path before writing an entry
 *     over it, so an entry for the path that is a hard link to nothing removes it and then fails;
 *     the path must then answer 404 (`HEAD …/archive`), which is checked, so a future engine that
 *     stops removing it is an error, never a stale file. One request per top-most deleted path;
 *  4. uploads what changed as one tar (`PUT /containers/{id}/archive`, in ~32 MB batches);
 *  5. removes the holder.
 */
import type { Exec } from "../io/exec.ts";
import { join } from "../io/path.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type EngineEndpoint, engineMessage, engineRequest } from "../io/engine_api.ts";
import { KinfraError } from "../errors.ts";
import { tar, type TarEntry } from "./tar.ts";

/** The holder's image: one empty layer, imported (never pulled) on first use. */
export const HOLDER_IMAGE = "kinfra/code-holder:1";
/** The label on a copy's volumes and holders: the copy's name (`RemoteSlot.copy`). */
export const CODE_LABEL = "dev.kinfra.code";
const BATCH_BYTES = 32 << 20;

type Manifest = Record<string, Record<string, string>>;

export interface SyncResult {
  uploaded: number;
  deleted: number;
}

const q = encodeURIComponent;

async function call(
  endpoint: EngineEndpoint,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
) {
  const raw = body instanceof Uint8Array;
  const answer = await engineRequest(endpoint, method, path, {
    ...(body === undefined ? {} : {
      body: raw ? body : new TextEncoder().encode(JSON.stringify(body)),
      contentType: raw ? "application/x-tar" : "application/json",
    }),
    signal,
  });
  return answer;
}

async function ok(
  endpoint: EngineEndpoint,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
) {
  const answer = await call(endpoint, method, path, body, signal);
  if (answer.status >= 300) {
    throw new KinfraError(`The engine refused ${method} ${path.split("?")[0]}: ${engineMessage(answer)}`);
  }
  return answer;
}

/** The files of the worktree the sync carries, as git lists them (tracked and unignored). */
async function listed(exec: Exec, worktree: string): Promise<string[]> {
  const r = await exec("git", [
    "-C",
    worktree,
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ]);
  if (!r.success) throw new KinfraError(`Cannot list the files of ${worktree}: ${r.stderr.trim()}`);
  return [...new Set(r.stdout.split("\0").filter(Boolean))];
}

const signature = (i: Deno.FileInfo) =>
  `${i.isSymlink ? "l" : "f"}:${i.size}:${i.mtime?.getTime() ?? 0}:${(i.mode ?? 0o644) & 0o7777}`;

/** Where a copy's manifest lives here. */
export const manifestPath = (homeRoot: string, copy: string) => join(homeRoot, "sync", `${copy}.json`);

async function ensureImage(endpoint: EngineEndpoint, signal?: AbortSignal) {
  if ((await call(endpoint, "GET", `/images/${q(HOLDER_IMAGE)}/json`, undefined, signal)).status === 200) {
    return;
  }
  const [repo, tag] = HOLDER_IMAGE.split(":");
  const answer = await ok(
    endpoint,
    "POST",
    `/images/create?fromSrc=-&repo=${q(repo)}&tag=${q(tag)}`,
    tar([]),
    signal,
  );
  if (/"error"/.test(answer.text())) {
    throw new KinfraError(`Importing ${HOLDER_IMAGE} failed: ${answer.text()}`);
  }
}

/**
 * One pass: `volumes` maps each worktree-relative directory ("." for all of it) to its volume.
 * `labels` go on the volumes and the holder (the home, the copy), so `done` and `gc` find them.
 */
export async function syncVolumes(
  exec: Exec,
  endpoint: EngineEndpoint,
  options: {
    worktree: string;
    volumes: Record<string, string>;
    manifest: string;
    labels: Record<string, string>;
    signal?: AbortSignal;
  },
): Promise<SyncResult> {
  const { worktree, volumes, signal } = options;
  const before: Manifest = JSON.parse(await Deno.readTextFile(options.manifest).catch(() => "{}"));
  // A volume removed over there (by hand, a prune) is made and filled again, whatever the manifest says.
  for (const volume of Object.values(volumes)) {
    if (!before[volume]) continue;
    const answer = await call(endpoint, "GET", `/volumes/${q(volume)}`, undefined, signal);
    if (answer.status === 404) delete before[volume];
  }
  const after: Manifest = {};
  const files = await listed(exec, worktree);
  const upload: { volume: number; rel: string; path: string; info: Deno.FileInfo }[] = [];
  const gone: { volume: number; rel: string }[] = [];
  const units = Object.entries(volumes);
  await Promise.all(units.map(async ([source, volume], i) => {
    const prefix = source === "." ? "" : `${source}/`;
    const mine = after[volume] = {} as Record<string, string>;
    const old = before[volume] ?? {};
    await Promise.all(
      files.filter((f) => f.startsWith(prefix)).map(async (f) => {
        const info = await Deno.lstat(join(worktree, f)).catch(() => undefined);
        if (!info || info.isDirectory) return; // deleted since it was listed, or a submodule
        const rel = f.slice(prefix.length);
        mine[rel] = signature(info);
        if (old[rel] !== mine[rel]) upload.push({ volume: i, rel, path: join(worktree, f), info });
      }),
    );
    for (const rel of Object.keys(old)) {
      if (!(rel in mine)) gone.push({ volume: i, rel: await topMissing(worktree, prefix, rel) });
    }
  }));
  const deletions = [...new Map(gone.map((g) => [`${g.volume}/${g.rel}`, g])).values()];
  if (!upload.length && !deletions.length && units.every(([, v]) => before[v])) {
    return { uploaded: 0, deleted: 0 };
  }

  await ensureImage(endpoint, signal);
  for (const [, volume] of units) {
    if (!before[volume]) {
      await ok(endpoint, "POST", "/volumes/create", { Name: volume, Labels: options.labels }, signal);
    }
  }
  const created = await ok(
    endpoint,
    "POST",
    `/containers/create?name=${q(`${units[0][1]}-holder-${crypto.randomUUID().slice(0, 8)}`)}`,
    {
      Image: HOLDER_IMAGE,
      Cmd: ["/kinfra-code-holder"],
      Labels: options.labels,
      HostConfig: { Binds: units.map(([, v], i) => `${v}:/u/${i}`) },
    },
    signal,
  );
  const id = created.json<{ Id: string }>().Id;
  try {
    // Deletions first: a file that became a directory (or the reverse) is removed, then written anew.
    for (const d of deletions) await remove(endpoint, id, `u/${d.volume}/${d.rel}`, signal);
    for (const batch of await batches(upload)) {
      await ok(endpoint, "PUT", `/containers/${id}/archive?path=/`, tar(batch), signal);
    }
  } finally {
    await call(endpoint, "DELETE", `/containers/${id}?force=1&v=0`).catch(() => {});
  }
  await Deno.mkdir(join(options.manifest, ".."), { recursive: true });
  await writeFileAtomic(options.manifest, JSON.stringify(after));
  return { uploaded: upload.length, deleted: deletions.length };
}

/** The highest ancestor of a deleted path (below its unit) that is gone here too: one deletion for a whole tree. */
async function topMissing(worktree: string, prefix: string, rel: string): Promise<string> {
  const parts = rel.split("/");
  for (let n = 1; n < parts.length; n++) {
    const dir = parts.slice(0, n).join("/");
    if (!await Deno.lstat(join(worktree, prefix + dir)).then(() => true, () => false)) return dir;
  }
  return rel;
}

/** The tar entries of the files to send, read now, in batches of about 32 MB. */
async function batches(
  upload: { volume: number; rel: string; path: string; info: Deno.FileInfo }[],
): Promise<TarEntry[][]> {
  const out: TarEntry[][] = [];
  let current: TarEntry[] = [], size = 0;
  for (const u of upload) {
    const name = `u/${u.volume}/${u.rel}`;
    const mtime = (u.info.mtime?.getTime() ?? 0) / 1000;
    const entry: TarEntry | undefined = u.info.isSymlink
      ? { name, type: "symlink", link: await Deno.readLink(u.path).catch(() => ""), mtime }
      : await Deno.readFile(u.path).then(
        (data) => ({ name, type: "file" as const, data, mode: u.info.mode ?? 0o644, mtime }),
        () => undefined, // gone meanwhile: the next pass deletes it
      );
    if (!entry) continue;
    current.push(entry);
    size += entry.data?.length ?? 0;
    if (size > BATCH_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
  }
  if (current.length) out.push(current);
  return out;
}

/** Removes `path` (relative to the holder's root) from its volume, and checks that it is gone. */
async function remove(endpoint: EngineEndpoint, id: string, path: string, signal?: AbortSignal) {
  const marker = tar([{ name: path, type: "hardlink", link: `u/.kinfra-deleted-${crypto.randomUUID()}` }]);
  await call(endpoint, "PUT", `/containers/${id}/archive?path=/`, marker, signal);
  const left = await call(
    endpoint,
    "HEAD",
    `/containers/${id}/archive?path=${q(`/${path}`)}`,
    undefined,
    signal,
  );
  if (left.status !== 404) {
    throw new KinfraError(
      `Could not delete ${path.replace(/^u\/\d+\//, "")} from the copy (the engine answered ${left.status}).`,
    );
  }
}

/** Removes a copy's volumes and any holder a killed pass left (`done`). */
export async function removeVolumes(endpoint: EngineEndpoint, copy: string, homeRoot: string): Promise<void> {
  const filter = q(JSON.stringify({ label: [`${CODE_LABEL}=${copy}`] }));
  const holders = await ok(endpoint, "GET", `/containers/json?all=1&filters=${filter}`);
  for (const c of holders.json<{ Id: string }[]>()) {
    await ok(endpoint, "DELETE", `/containers/${c.Id}?force=1`);
  }
  const volumes = await ok(endpoint, "GET", `/volumes?filters=${filter}`);
  for (const v of volumes.json<{ Volumes: { Name: string }[] | null }>().Volumes ?? []) {
    await ok(endpoint, "DELETE", `/volumes/${q(v.Name)}`);
  }
  await Deno.remove(manifestPath(homeRoot, copy)).catch(() => {});
}
