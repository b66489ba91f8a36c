/**
 * What `status` shows of a remote slot: its host, the tunnels and the code sync, as the proxy
 * process (its tunnels and sync parts) reports them. The proxy is started first when it is not
 * running: the tunnels are what make the ports answer here.
 */
import type { Context } from "../context.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { showEngine } from "../io/engine_address.ts";

type Part = Record<
  string,
  {
    state: string;
    error?: string;
    last_sync?: string | null;
    last_ms?: number | null;
    udp?: { state: string; ports: number[]; error?: string };
    traces?: { state: string; address: string; port: number; error?: string };
  }
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
  const shared = remote.shared &&
    (state?.parts.sync?.shared as Part | undefined)?.[`${remote.host}:${remote.shared.copy}`];
  const tunnels = remote.unreachable ? "host not answering" : tunnel?.state ?? "not running";
  const data = {
    host: remote.host,
    docker_host: remote.docker_host,
    copy: remote.copy ?? null,
    tunnels: {
      state: tunnels,
      error: tunnel?.error ?? null,
      // UDP ports go through a relay on the host (ssh forwards TCP only).
      udp: tunnel?.udp ? { state: tunnel.udp.state, ports: tunnel.udp.ports } : null,
    },
    sync: sync
      ? {
        state: sync.state,
        last_sync: sync.last_sync ?? null,
        last_ms: sync.last_ms ?? null,
        error: sync.error ?? null,
      }
      : null,
    // The project's shared mounts: one copy on the host for all its slots there.
    shared: remote.shared
      ? {
        state: shared?.state ?? "not running",
        copy: remote.shared.copy,
        paths: remote.shared.paths,
        last_sync: shared?.last_sync ?? null,
        error: shared?.error ?? null,
      }
      : null,
    // Its containers' traces, back to the collector here through ssh (null: off).
    traces: tunnel?.traces
      ? {
        state: tunnel.traces.state,
        endpoint: `${tunnel.traces.address}:${tunnel.traces.port}`,
        error: tunnel.traces.error ?? null,
      }
      : null,
    unreachable: remote.unreachable ?? null,
  };
  const lines = [
    `  host ${remote.host} (${showEngine(remote.docker_host)}) · tunnels ${tunnels}${
      tunnel?.error && tunnels !== "up" ? ` (${tunnel.error})` : ""
    }${tunnel?.udp ? ` · UDP ${tunnel.udp.ports.join(", ")} relayed (${tunnel.udp.state})` : ""}${
      tunnel?.traces ? ` · traces back here (${tunnel.traces.state})` : " · traces off"
    }`,
    ...(sync
      ? [
        `  code sync ${sync.state}${sync.last_sync ? ` · last ${sync.last_sync} (${sync.last_ms} ms)` : ""}${
          sync.error ? ` · ${sync.error}` : ""
        } → ${remote.host}:${remote.copy}`,
      ]
      : []),
    ...(remote.shared
      ? [
        `  shared mounts sync ${shared?.state ?? "not running"}${
          shared?.error ? ` · ${shared.error}` : ""
        } → ${remote.host}:${remote.shared.copy}`,
      ]
      : []),
  ];
  return { data, lines };
}
