/**
 * A remote slot's copy kept in volumes (tcp:// hosts): one pass of the engine-API sync for the
 * slot (the start's first copy and the proxy's sync part both run it), its removal at `done`, and
 * `gc`'s removal of copies nothing names any more.
 */
import type { Exec } from "../io/exec.ts";
import { engineEndpointOf, engineRequest } from "../io/engine_api.ts";
import { KinfraError } from "../errors.ts";
import type { Registry, RemoteSlot } from "../slots/registry.ts";
import { CODE_LABEL, manifestPath, removeVolumes, type SyncResult, syncVolumes } from "./engine_sync.ts";

function endpointOf(remote: RemoteSlot) {
  const endpoint = engineEndpointOf(remote.docker_host);
  if (!endpoint) throw new KinfraError(`Host "${remote.host}" has no engine API kinfra can speak.`);
  return endpoint;
}

/** One pass for `remote`'s volumes; connection failures name the host. */
export async function syncSlotVolumes(
  exec: Exec,
  homeRoot: string,
  homeId: string,
  remote: RemoteSlot,
  worktree: string,
  signal?: AbortSignal,
): Promise<SyncResult> {
  try {
    return await syncVolumes(exec, endpointOf(remote), {
      worktree,
      volumes: remote.volumes!,
      manifest: manifestPath(homeRoot, remote.copy!),
      labels: { "dev.kinfra.home": homeId, [CODE_LABEL]: remote.copy! },
      signal,
    });
  } catch (e) {
    if (e instanceof KinfraError || signal?.aborted) throw e;
    throw new KinfraError(
      `Host "${remote.host}" does not answer: ${e instanceof Error ? e.message : e}`,
      { hint: `Check the machine and \`kinfra hosts test ${remote.host}\`.` },
    );
  }
}

/** `done`: the copy's volumes (and any holder left) removed from the host, its manifest from here. */
export async function removeSlotVolumes(homeRoot: string, remote: RemoteSlot): Promise<void> {
  await removeVolumes(endpointOf(remote), remote.copy!, homeRoot);
}

/**
 * `gc`: the copies in volumes on `host` that carry this home's label and that no slot or worktree of
 * the registry still names (a worktree removed without `done`, a `done` whose host did not answer)
 * — removed unless `dryRun`; their names are returned.
 */
export async function orphanCopies(
  home: { root: string },
  homeId: string,
  host: { docker_host: string },
  registry: Registry,
  dryRun: boolean,
): Promise<string[]> {
  const endpoint = engineEndpointOf(host.docker_host);
  if (!endpoint || "unix" in endpoint) return [];
  const label = (l: string) =>
    encodeURIComponent(JSON.stringify({ label: [`dev.kinfra.home=${homeId}`, l] }));
  const answer = await engineRequest(endpoint, "GET", `/volumes?filters=${label(CODE_LABEL)}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (answer.status !== 200) return [];
  const inUse = new Set([
    ...Object.values(registry.slots).map((s) => s.remote?.copy),
    ...Object.values(registry.worktrees).map((w) => (w.remote_copy as RemoteSlot | undefined)?.copy),
  ]);
  const copies = new Set(
    (answer.json<{ Volumes: { Labels: Record<string, string> | null }[] | null }>().Volumes ?? [])
      .map((v) => v.Labels?.[CODE_LABEL]).filter((c): c is string => !!c && !inUse.has(c)),
  );
  if (!dryRun) { for (const copy of copies) await removeVolumes(endpoint, copy, home.root); }
  return [...copies];
}
