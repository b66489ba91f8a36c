/**
 * What `status` shows of a remote slot: its host, the tunnels and the code sync, from its agent's
 * state file. An agent that died is started again first: the tunnels are what make the ports
 * answer here.
 */
import type { Context } from "../context.ts";
import type { SlotEntry } from "../slots/registry.ts";
import { readAgentState } from "./agent.ts";
import { ensureAgent } from "./remote_slot.ts";

export async function remoteStatus(ctx: Context, slot: SlotEntry) {
  await ensureAgent(ctx, slot);
  const state = await readAgentState(slot);
  const remote = slot.remote!;
  const tunnel = remote.unreachable ? "host not answering" : state?.tunnel.state ?? "unknown";
  const sync = state?.sync;
  const data = {
    host: remote.host,
    docker_host: remote.docker_host,
    copy: remote.copy ?? null,
    tunnels: { state: tunnel, ports: state?.tunnel.ports ?? [], error: state?.tunnel.error ?? null },
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
    `  host ${remote.host} (${remote.docker_host}) · tunnels ${tunnel}${
      state?.tunnel.error && tunnel !== "up" ? ` (${state.tunnel.error})` : ""
    }`,
    ...(sync
      ? [
        `  code sync ${sync.state}${sync.last_sync ? ` · last ${sync.last_sync} (${sync.last_ms} ms)` : ""}${
          sync.error ? ` · ${sync.error}` : ""
        } → ${remote.host}:${sync.copy}`,
      ]
      : []),
  ];
  return { data, lines };
}
