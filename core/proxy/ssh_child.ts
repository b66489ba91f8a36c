/**
 * What the tunnels part keeps up over an `ssh` child of its own (udp_tunnel.ts, otlp_tunnel.ts):
 * the supervised lifecycle (supervised.ts) with the child spawned, watched and killed here.
 */
import { messageOf } from "../errors.ts";
import { Supervised } from "./supervised.ts";

export abstract class SshChild extends Supervised<Deno.ChildProcess> {
  /** Runs `start` when no child runs and the retry time has come; a throw marks it down for 5 s. */
  protected async tendWith(start: () => void | Promise<void>): Promise<void> {
    if (!this.due) return;
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
    this.begin(child);
    return { child, stderr: new Response(child.stderr).text().catch(() => "") };
  }

  /**
   * Once `child` ends: `always()`, then, unless it was stopped or replaced on purpose, down with the
   * reason `why` gives for its exit code, and started again after `retryMs`.
   */
  protected watch(
    child: Deno.ChildProcess,
    why: (code: number) => Promise<string>,
    retryMs: number,
    always = () => {},
  ): void {
    child.status.then(async (status) => {
      always();
      if (this.ended(child)) this.fail(await why(status.code), retryMs);
    });
  }

  protected halt(child: Deno.ChildProcess): void {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
}
