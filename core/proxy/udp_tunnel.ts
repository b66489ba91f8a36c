/**
 * A remote slot's UDP ports, kept up by the tunnels part: the host's relay started over ssh
 * (core/remote/udp_relay.ts), the sockets here bound to it (udp_relay.ts), both started again
 * when either ends. "up" once the relay said it runs.
 */
import { messageOf } from "../errors.ts";
import type { Host } from "../remote/hosts.ts";
import { relayFailure, udpRelayArgs } from "../remote/udp_relay.ts";
import { UdpRelay } from "./udp_relay.ts";

export class UdpTunnel {
  state: "starting" | "up" | "down" = "starting";
  since = new Date().toISOString();
  error?: string;
  private child?: Deno.ChildProcess;
  private relay?: UdpRelay;
  private retryAt = 0;

  constructor(readonly ports: number[], private readonly log: (m: string) => void) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the relay when none runs and its retry time has come. */
  async tend(host: () => Promise<Host>): Promise<void> {
    if (this.child || Date.now() < this.retryAt) return;
    try {
      await this.start(await host());
    } catch (e) {
      this.fail(messageOf(e), 5000);
    }
  }

  private async start(host: Host): Promise<void> {
    const child = new Deno.Command("ssh", {
      args: udpRelayArgs(host, this.ports),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    Object.assign(this, { state: "starting", since: new Date().toISOString(), error: undefined });
    const stderr = new Response(child.stderr).text().catch(() => "");
    let relay: UdpRelay;
    try {
      relay = await UdpRelay.open(this.ports, { readable: child.stdout, writable: child.stdin });
    } catch (e) {
      this.child = undefined;
      this.kill(child);
      throw new Error(`cannot listen on UDP here: ${messageOf(e)}`);
    }
    this.relay = relay;
    this.log(`tunnels: UDP ${this.ports.join(", ")} → ${host.name} (relay pid ${child.pid})`);
    relay.ready.then(() => {
      if (this.child !== child) return;
      Object.assign(this, { state: "up", since: new Date().toISOString() });
    }, () => {});
    child.status.then(async (status) => {
      relay.close();
      if (this.child !== child) return; // closed on purpose
      this.child = this.relay = undefined;
      this.fail(relayFailure(host, status.code, await stderr), 1000);
    });
  }

  private fail(error: string, retryMs: number) {
    Object.assign(this, {
      state: "down",
      since: new Date().toISOString(),
      error,
      retryAt: Date.now() + retryMs,
    });
    this.log(`tunnels: UDP ${this.ports.join(", ")}: ${error}`);
  }

  private kill(child: Deno.ChildProcess) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    this.relay?.close();
    this.relay = undefined;
    if (child) this.kill(child);
  }
}
