/**
 * A remote slot's way back to the collector on this machine, kept up by the tunnels part: the
 * host's forwarder started over ssh with the collector's OTLP port forwarded to it
 * (core/remote/otlp_relay.ts), started again when it ends. "up" once the forwarder listens.
 */
import { messageOf } from "../errors.ts";
import type { Host } from "../remote/hosts.ts";
import { otlpRelayArgs, otlpSocket } from "../remote/otlp_relay.ts";
import { relayFailure } from "../remote/udp_relay.ts";

export class OtlpTunnel {
  state: "starting" | "up" | "down" = "starting";
  since = new Date().toISOString();
  error?: string;
  private child?: Deno.ChildProcess;
  private retryAt = 0;

  constructor(
    readonly slot: number,
    readonly address: string,
    readonly port: number,
    private readonly log: (m: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the forwarder when none runs and its retry time has come. */
  async tend(host: () => Promise<Host>, collector: number): Promise<void> {
    if (this.child || Date.now() < this.retryAt) return;
    try {
      this.start(await host(), collector);
    } catch (e) {
      this.fail(messageOf(e), 5000);
    }
  }

  private start(host: Host, collector: number): void {
    const child = new Deno.Command("ssh", {
      args: otlpRelayArgs(host, collector, otlpSocket(host, this.slot), this.address, this.port),
      stdin: "piped", // kept open: the forwarder exits when it closes
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    Object.assign(this, { state: "starting", since: new Date().toISOString(), error: undefined });
    const stderr = new Response(child.stderr).text().catch(() => "");
    (async () => {
      for await (const chunk of child.stdout) {
        if (
          this.child === child && this.state !== "up" && new TextDecoder().decode(chunk).includes("ready")
        ) {
          Object.assign(this, { state: "up", since: new Date().toISOString() });
        }
      }
    })().catch(() => {});
    child.status.then(async (status) => {
      if (this.child !== child) return; // closed on purpose
      this.child = undefined;
      this.fail(relayFailure(host, status.code, await stderr, "it carries the sandbox's traces back"), 2000);
    });
    this.log(
      `tunnels: traces of slot ${this.slot} → ${host.name} ${this.address}:${this.port} → 127.0.0.1:${collector}`,
    );
  }

  private fail(error: string, retryMs: number) {
    Object.assign(this, {
      state: "down",
      since: new Date().toISOString(),
      error,
      retryAt: Date.now() + retryMs,
    });
    this.log(`tunnels: traces of slot ${this.slot}: ${error}`);
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    try {
      child?.kill("SIGTERM");
    } catch { /* already gone */ }
  }
}
