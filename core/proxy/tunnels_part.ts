/**
 * The tunnels part: a remote slot's ports answer on 127.0.0.1 here, through one carrier per slot
 * (tunnel_carriers.ts: an `ssh -N -L …` child for an ssh host, a TCP relay in this process for a
 * tcp:// host). Started when the slot appears, stopped when it goes, started again when it ends
 * (each tick: tcp_tunnel.ts). Its UDP ports (ssh hosts) go through a relay of their own
 * (udp_tunnel.ts), since ssh forwards TCP only. A slot whose host stopped answering during teardown
 * is left alone until the next command settles it. `status()` says, per slot, whether its tunnels are up (TCP and UDP).
 */
import type { SlotEntry } from "../slots/registry.ts";
import { getHost } from "../remote/hosts.ts";
import { tunnelPorts, udpTunnelPorts } from "../remote/tunnels.ts";
import type { PartEnv, ProxyPart, ProxyWorld } from "./part.ts";
import { UdpTunnel } from "./udp_tunnel.ts";
import { OtlpTunnel } from "./otlp_tunnel.ts";
import { TcpTunnel } from "./tcp_tunnel.ts";

interface Tunnel {
  slot: SlotEntry;
  /** Its TCP ports' carrier (state and since of the slot's tunnels as a whole, too). */
  tcp: TcpTunnel;
  /** Its UDP ports' relay, when it has any. */
  udp?: UdpTunnel;
  /** The way back for its traces, when they are on (not part of "up": traces are best effort). */
  otlp?: OtlpTunnel;
}

/** The slot's tunnels as one state: up when TCP and UDP both are, down when either is. */
function overall(t: Tunnel): { state: TcpTunnel["state"]; error?: string } {
  const tcp = tunnelPorts(t.slot).length
    ? { state: t.tcp.state, error: t.tcp.error }
    : { state: "up" as const };
  const udp = t.udp ?? { state: "up" as const, error: undefined };
  if (tcp.state === "down" || udp.state === "down") {
    return { state: "down", error: [tcp.error, udp.error && `UDP: ${udp.error}`].filter(Boolean).join("; ") };
  }
  return { state: tcp.state === "up" && udp.state === "up" ? "up" : "starting" };
}

const key = (slot: SlotEntry) => `${slot.slot_id}:${slot.claimed_at}`;
const remoteSlots = (world: ProxyWorld) =>
  Object.values(world.registry.slots).filter((s) => s.remote && !s.remote.unreachable);

export function tunnelsPart(env: PartEnv): ProxyPart {
  const tunnels = new Map<string, Tunnel>();
  /** The collector's OTLP port here (the global config's `[observability] otlp_grpc_port`). */
  let collector = 4317;

  const stop = (t: Tunnel) => {
    t.tcp.close();
    t.udp?.close();
    t.otlp?.close();
  };

  /** Starts what is missing or dead (when its retry time has come); marks listening ones up. */
  const tend = async () => {
    for (const t of tunnels.values()) {
      await t.udp?.tend(() => getHost(env.home, t.slot.remote!.host));
      await t.otlp?.tend(() => getHost(env.home, t.slot.remote!.host), collector);
      await t.tcp.tend(() => getHost(env.home, t.slot.remote!.host));
    }
  };

  return {
    name: "tunnels",
    needed: (world) => remoteSlots(world).length > 0,
    async reconcile(world) {
      collector = world.config.observability.otlp_grpc_port;
      const wanted = new Map(remoteSlots(world).map((s) => [key(s), s]));
      for (const [k, t] of tunnels) {
        if (wanted.has(k)) continue;
        stop(t);
        tunnels.delete(k);
        env.log(`tunnels: slot ${t.slot.slot_id} closed`);
      }
      for (const [k, slot] of wanted) {
        const udp = udpTunnelPorts(slot);
        if (!tunnels.has(k) && (tunnelPorts(slot).length || udp.length)) {
          tunnels.set(k, {
            slot,
            tcp: new TcpTunnel(slot.slot_id, tunnelPorts(slot), env.log),
            ...(udp.length && { udp: new UdpTunnel(udp, env.log) }),
          });
        }
        // Where its traces go is recorded once the slot is claimed: it may come after the tunnels.
        const t = tunnels.get(k);
        const otlp = slot.remote!.otlp;
        if (t && otlp && !t.otlp) t.otlp = new OtlpTunnel(slot.slot_id, otlp.address, otlp.port, env.log);
      }
      await tend();
    },
    intervalMs: 250,
    tick: () => tend(),
    status: () => {
      const slots = Object.fromEntries(
        [...tunnels.values()].map((t) => [String(t.slot.slot_id), {
          host: t.slot.remote!.host,
          ports: tunnelPorts(t.slot),
          ...overall(t),
          since: t.tcp.since,
          ...(t.tcp.pid ? { pid: t.tcp.pid } : {}),
          ...(t.otlp && {
            traces: {
              address: t.otlp.address,
              port: t.otlp.port,
              state: t.otlp.state,
              ...(t.otlp.error ? { error: t.otlp.error } : {}),
            },
          }),
          ...(t.udp && {
            udp: {
              ports: t.udp.ports,
              state: t.udp.state,
              since: t.udp.since,
              ...(t.udp.error ? { error: t.udp.error } : {}),
              ...(t.udp.pid ? { pid: t.udp.pid } : {}),
            },
          }),
        }]),
      );
      const down = [...tunnels.values()].filter((t) => overall(t).state === "down");
      return {
        slots,
        summary: [
          `${tunnels.size} remote slot(s)`,
          ...[...tunnels.values()].map((t) =>
            `slot ${t.slot.slot_id} → ${t.slot.remote!.host}: ${overall(t).state} (${
              [...tunnelPorts(t.slot), ...(t.udp?.ports ?? []).map((p) => `${p}/udp`)].join(", ")
            })`
          ),
        ],
        ...(down.length
          ? {
            problems: down.map((t) =>
              `slot ${t.slot.slot_id}'s tunnels to ${t.slot.remote!.host}: ${overall(t).error}`
            ),
          }
          : {}),
      };
    },
    close() {
      for (const t of tunnels.values()) stop(t);
      tunnels.clear();
      return Promise.resolve();
    },
  };
}
