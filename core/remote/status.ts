/**
 * What `status` shows of a remote slot: its host, the tunnels and the code sync, as the proxy
 * process (its tunnels and sync parts) reports them. The proxy is started first when it is not
 * running: the tunnels are what make the ports answer here.
 */
import type { Context } from "../context.ts";
import type { SlotEntry } from "../slots/registry.ts";

type Part = Record<
  string,
  { state: string; error?: string; last_sync?: string | null; last_ms?: number | null }
>;

export async function remoteStatus(ctx: Context, slot: SlotEntry) {
  const remote = slot.remote!;
  const { ensureProxy, reconcileProxy } = await import("../proxy/ensure.ts");
  const state = remote.unreachable
    ? undefined
    : await ensureProxy(ctx, { wait: true }) ?? await reconcileProxy(ctx, "status");
  const id = String(slot.slot_id);
  const tunnel = (state?.parts.tunnels?.slots as Part | undefined)?.[id];
  const sync = (state?.parts.sync?.slots as Part | undefined)?.[id];
  const tunnels = remote.unreachable ? "host not answering" : tunnel?.state ?? "not running";
  const data = {
    host: remote.host,
    docker_host: remote.docker_host,
    copy: remote.copy ?? null,
    tunnels: { state: tunnels, error: tunnel?.error ?? null },
    sync: sync
      ? {
        state: sync.state,
        last_sync: sync.last_sync ?? null,
        last_ms: sync.last_ms ?? null,
        error: sync.error ?? null,
      }
      : null,
    unreachable: remote.unreachable ?? null,
  };
  const lines = [
    `  host ${remote.host} (${remote.docker_host}) · tunnels ${tunnels}${
      tunnel?.error && tunnels !== "up" ? ` (${tunnel.error})` : ""
    }`,
    ...(sync
      ? [
        `  code sync ${sync.state}${sync.last_sync ? ` · last ${sync.last_sync} (${sync.last_ms} ms)` : ""}${
          sync.error ? ` · ${sync.error}` : ""
        } → ${remote.host}:${remote.copy}`,
      ]
      : []),
  ];
  return { data, lines };
}
