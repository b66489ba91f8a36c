/** The ssh tunnels of a remote slot: which ports, and the `ssh -N` argv forwarding them. */
import { expandPorts } from "../slots/ports.ts";
import type { SlotEntry } from "../slots/registry.ts";
import type { Host } from "./hosts.ts";
import { sshArgs } from "./ssh.ts";

/**
 * The TCP ports a slot's tunnels forward, each once (a range's `VAR_END` is also inside `VAR`'s
 * range, and ssh refuses to listen twice on one port); UDP goes through the relay (udpTunnelPorts).
 */
export function tunnelPorts(slot: Pick<SlotEntry, "ports" | "widths" | "udp">): number[] {
  const udp = new Set(slot.udp ?? []);
  const tcp = expandPorts(slot.ports, slot.widths).filter((p) => !udp.has(p.name.replace(/_END$/, "")));
  return [...new Set(tcp.map((p) => p.port))];
}

/**
 * The UDP ports a slot's relay carries (core/remote/udp_relay.ts): those of its UDP-only variables
 * and of those published over both protocols, each once.
 */
export function udpTunnelPorts(slot: Pick<SlotEntry, "ports" | "widths" | "udp" | "also_udp">): number[] {
  const udp = new Set([...slot.udp ?? [], ...slot.also_udp ?? []]);
  const ports = expandPorts(slot.ports, slot.widths).filter((p) => udp.has(p.name.replace(/_END$/, "")));
  return [...new Set(ports.map((p) => p.port))];
}

/** `ssh -N` argv forwarding each port of 127.0.0.1 here to 127.0.0.1 on the host. */
export function tunnelArgs(host: Host, ports: number[]): string[] {
  return [
    "-N",
    "-o",
    "ExitOnForwardFailure=yes",
    ...ports.flatMap((p) => ["-L", `127.0.0.1:${p}:127.0.0.1:${p}`]),
    ...sshArgs(host),
  ];
}
