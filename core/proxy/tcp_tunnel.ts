/**
 * A remote slot's TCP ports, kept up by the tunnels part through the carrier of its host's
 * transport (tunnel_carriers.ts), started again when it ends. "up" once its first port listens here.
 */
import { messageOf } from "../errors.ts";
import type { Host } from "../remote/hosts.ts";
import { type Carrier, carrierFor } from "./tunnel_carriers.ts";
import { Supervised } from "./supervised.ts";

async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

export class TcpTunnel extends Supervised<Carrier> {
  constructor(readonly slot: number, readonly ports: number[], log: (m: string) => void) {
    super(log);
  }

  protected get label(): string {
    return `slot ${this.slot}`;
  }

  /** Starts the carrier when none runs and its retry time has come; marks it up once it listens. */
  async tend(host: () => Promise<Host>): Promise<void> {
    if (!this.ports.length) return;
    if (this.due) await this.start(host).catch((e) => this.down(messageOf(e), 5000));
    const carrier = this.running;
    if (carrier && this.state === "starting" && await listening(this.ports[0])) this.up(carrier);
  }

  private async start(host: () => Promise<Host>): Promise<void> {
    const h = await host();
    const carrier = carrierFor(h, this.ports);
    this.begin(carrier);
    this.log(`tunnels: slot ${this.slot} → ${h.name} (${this.ports.join(", ")})`);
    carrier.ended.then((why) => {
      if (this.ended(carrier)) this.fail(why, 1000); // else replaced or closed on purpose
    });
  }

  protected halt(carrier: Carrier): void {
    carrier.stop();
  }
}
