/**
 * The lifecycle of what the tunnels part keeps up (tcp_tunnel.ts; ssh_child.ts for the UDP and
 * traces tunnels): started when nothing runs and its retry time has come, "starting" until the
 * subclass sees it work, "down" with the reason when it ends by itself (then started again after a
 * delay, so a host that refuses is not hammered), stopped on purpose by close(). `H` is what runs:
 * a child process, a carrier.
 */
export abstract class Supervised<H extends { pid?: number }> {
  state: "starting" | "up" | "down" = "starting";
  since = new Date().toISOString();
  error?: string;
  protected running?: H;
  private retryAt = 0;

  constructor(protected readonly log: (m: string) => void) {}

  /** What its log lines name, e.g. "UDP 5353". */
  protected abstract get label(): string;

  /** Stops `h` (which may be gone already). */
  protected abstract halt(h: H): void;

  get pid(): number | undefined {
    return this.running?.pid;
  }

  /** Nothing runs and its retry time has come. */
  protected get due(): boolean {
    return !this.running && Date.now() >= this.retryAt;
  }

  /** `h` runs now, starting. */
  protected begin(h: H): void {
    this.running = h;
    Object.assign(this, { state: "starting", since: new Date().toISOString(), error: undefined });
  }

  /** Marks it up, when `h` is still what runs. */
  protected up(h: H): void {
    if (this.running !== h) return;
    Object.assign(this, { state: "up", since: new Date().toISOString() });
  }

  /** `h` ended: false when it was stopped or replaced on purpose, else it no longer runs. */
  protected ended(h: H): boolean {
    if (this.running !== h) return false;
    this.running = undefined;
    return true;
  }

  /** Down with `error`, tried again after `retryMs`. */
  protected down(error: string, retryMs: number): void {
    Object.assign(this, { state: "down", error, retryAt: Date.now() + retryMs });
  }

  /** Down since now, said in the log. */
  protected fail(error: string, retryMs: number): void {
    this.since = new Date().toISOString();
    this.down(error, retryMs);
    this.log(`tunnels: ${this.label}: ${error}`);
  }

  /** Stops what runs, if anything, on purpose (its end is not a failure). */
  close(): void {
    const h = this.running;
    this.running = undefined;
    if (h) this.halt(h);
  }
}
