/**
 * A remote slot's copy kept in volumes (tcp:// hosts): one pass of the engine-API sync for the
 * slot (the start's first copy and the proxy's sync part both run it) and its removal at `done`.
 */
import type { Exec } from "../io/exec.ts";
import { engineEndpointOf } from "../io/engine_api.ts";
import { KinfraError } from "../errors.ts";
import type { RemoteSlot } from "../slots/registry.ts";
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
