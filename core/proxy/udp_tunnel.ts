/**
 * A remote slot's UDP ports, kept up by the tunnels part: the host's relay started over ssh
 * (core/remote/udp_relay.ts), the sockets here bound to it (udp_relay.ts), both started again
 * when either ends. "up" once the relay said it runs.
 */
import { messageOf } from "../errors.ts";
import type { Host } from "../remote/hosts.ts";
import { relayFailure, udpRelayArgs } from "../remote/udp_relay.ts";
import { SshChild } from "./ssh_child.ts";
import { UdpRelay } from "./udp_relay.ts";

export class UdpTunnel extends SshChild {
  private relay?: UdpRelay;

  constructor(readonly ports: number[], log: (m: string) => void) {
    super(log);
  }

  protected get label(): string {
    return `UDP ${this.ports.join(", ")}`;
  }

  /** Starts the relay when none runs and its retry time has come. */
  tend(host: () => Promise<Host>): Promise<void> {
    return this.tendWith(async () => this.start(await host()));
  }

  private async start(host: Host): Promise<void> {
    const { child, stderr } = this.spawn(udpRelayArgs(host, this.ports));
    let relay: UdpRelay;
    try {
      relay = await UdpRelay.open(this.ports, { readable: child.stdout, writable: child.stdin });
    } catch (e) {
      super.close();
      throw new Error(`cannot listen on UDP here: ${messageOf(e)}`);
    }
    this.relay = relay;
    this.log(`tunnels: UDP ${this.ports.join(", ")} → ${host.name} (relay pid ${child.pid})`);
    relay.ready.then(() => this.up(child), () => {});
    this.watch(
      child,
      async (code) => {
        this.relay = undefined;
        return relayFailure(host, code, await stderr);
      },
      1000,
      () => relay.close(),
    );
  }

  override close(): void {
    this.relay?.close();
    this.relay = undefined;
    super.close();
  }
}
