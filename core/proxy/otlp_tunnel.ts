/**
 * A remote slot's way back to the collector on this machine, kept up by the tunnels part: the
 * host's forwarder started over ssh with the collector's OTLP port forwarded to it
 * (core/remote/otlp_relay.ts), started again when it ends. "up" once the forwarder listens.
 */
import type { Host } from "../remote/hosts.ts";
import { otlpRelayArgs, otlpSocket } from "../remote/otlp_relay.ts";
import { relayFailure } from "../remote/udp_relay.ts";
import { SshChild } from "./ssh_child.ts";

export class OtlpTunnel extends SshChild {
  constructor(
    readonly slot: number,
    readonly address: string,
    readonly port: number,
    log: (m: string) => void,
  ) {
    super(log);
  }

  protected get label(): string {
    return `traces of slot ${this.slot}`;
  }

  /** Starts the forwarder when none runs and its retry time has come. */
  tend(host: () => Promise<Host>, collector: number): Promise<void> {
    return this.tendWith(async () => this.start(await host(), collector));
  }

  private start(host: Host, collector: number): void {
    const { child, stderr } = this.spawn(
      otlpRelayArgs(host, collector, otlpSocket(host, this.slot), this.address, this.port),
    );
    (async () => {
      for await (const chunk of child.stdout) {
        if (this.state !== "up" && new TextDecoder().decode(chunk).includes("ready")) this.up(child);
      }
    })().catch(() => {});
    this.watch(
      child,
      async (code) => relayFailure(host, code, await stderr, "it carries the sandbox's traces back"),
      2000,
    );
    this.log(
      `tunnels: traces of slot ${this.slot} → ${host.name} ${this.address}:${this.port} → 127.0.0.1:${collector}`,
    );
  }
}
