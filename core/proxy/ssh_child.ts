/**
 * The lifecycle shared by what the tunnels part keeps up over an `ssh` child of its own
 * (udp_tunnel.ts, otlp_tunnel.ts): started when none runs and its retry time has come, "starting"
 * until the subclass sees it work, "down" with the reason when it ends by itself (then started
 * again after a delay, so a host that refuses is not hammered), stopped on purpose by close().
 */
import { messageOf } from "../errors.ts";

export abstract class SshChild {
  state: "starting" | "up" | "down" = "starting";
  since = new Date().toISOString();
  error?: string;
  protected child?: Deno.ChildProcess;
  private retryAt = 0;

  constructor(protected readonly log: (m: string) => void) {}

  /** What its log lines name, e.g. "UDP 5353". */
  protected abstract get label(): string;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs `start` when no child runs and the retry time has come; a throw marks it down for 5 s. */
  protected async tendWith(start: () => void | Promise<void>): Promise<void> {
    if (this.child || Date.now() < this.retryAt) return;
    try {
      await start();
    } catch (e) {
      this.fail(messageOf(e), 5000);
    }
  }

  /**
   * Spawns `ssh <args>` with all three streams piped (stdin kept open: the far side exits when it
   * closes) as the current child, marked starting; gives it with its stderr, read to the end.
   */
  protected spawn(args: string[]): { child: Deno.ChildProcess; stderr: Promise<string> } {
    const child = new Deno.Command("ssh", { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    this.child = child;
    Object.assign(this, { state: "starting", since: new Date().toISOString(), error: undefined });
    return { child, stderr: new Response(child.stderr).text().catch(() => "") };
  }

  /** Marks it up, when `child` is still the current one. */
  protected up(child: Deno.ChildProcess): void {
    if (this.child !== child) return;
    Object.assign(this, { state: "up", since: new Date().toISOString() });
  }

  /**
   * Once `child` ends: `ended()` always, then, unless it was stopped or replaced on purpose, down
   * with the reason `why` gives for its exit code, and started again after `retryMs`.
   */
  protected watch(
    child: Deno.ChildProcess,
    why: (code: number) => Promise<string>,
    retryMs: number,
    ended = () => {},
  ): void {
    child.status.then(async (status) => {
      ended();
      if (this.child !== child) return; // closed on purpose
      this.child = undefined;
      this.fail(await why(status.code), retryMs);
    });
  }

  private fail(error: string, retryMs: number) {
    Object.assign(this, {
      state: "down",
      since: new Date().toISOString(),
      error,
      retryAt: Date.now() + retryMs,
    });
    this.log(`tunnels: ${this.label}: ${error}`);
  }

  /** Stops the current child, if any, on purpose (its end is not a failure). */
  close(): void {
    const child = this.child;
    this.child = undefined;
    try {
      child?.kill("SIGTERM");
    } catch { /* already gone */ }
  }
}
