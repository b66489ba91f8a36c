/**
 * The proxy process itself (`kinfra proxy run`, which commands start detached on demand): holds
 * `<home>/proxy/lock` for its life, serves the control socket, and reconciles its parts with the
 * registry when it starts, when the registry or the global config changes (file watch plus a 1 s
 * poll) and when a command asks. It exits once no part has been needed for the grace period
 * (`KINFRA_PROXY_GRACE` seconds, default 5). See part.ts for the extension point.
 */
import { BUILD } from "#build";
import type { Context } from "../context.ts";
import { messageOf } from "../errors.ts";
import { replaceFileAtomic } from "../io/atomic.ts";
import type { CommandOutput } from "../io/output.ts";
import { ensureHome, existsSync } from "../io/home.ts";
import { Activity } from "./activity.ts";
import { type ControlReply, type ControlRequest, serveControl } from "./control.ts";
import { fileLog } from "./log.ts";
import type { ProxyPart } from "./part.ts";
import { PARTS } from "./parts.ts";
import { proxyPaths } from "./paths.ts";
import type { ProxyState } from "./state.ts";
import { WorldReader } from "./world.ts";

const LOCK_WAIT_MS = 3000;

/** Takes the lock, waiting a little for a process that is on its way out. False: another one runs. */
async function takeLock(path: string): Promise<Deno.FsFile | undefined> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  for (const deadline = Date.now() + LOCK_WAIT_MS; !await file.tryLock(true);) {
    if (Date.now() > deadline) {
      file.close();
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(JSON.stringify({ pid: Deno.pid, command: "kinfra proxy run" })));
  return file;
}

export async function runProxy(ctx: Context): Promise<CommandOutput> {
  const paths = proxyPaths(ctx.home);
  await ensureHome(ctx.home);
  await Deno.mkdir(paths.dir, { recursive: true });
  const lock = await takeLock(paths.lock);
  if (!lock) {
    return {
      data: { started: false },
      text: "A kinfra proxy already runs for this home (`kinfra proxy status`).",
    };
  }
  // Whoever removes or replaces the lock file (a home deleted around a live proxy, say) makes this
  // process unfindable: it then leaves, so a process kinfra started is always one it can find.
  const held = (await lock.stat()).ino;
  const lockKept = () => {
    try {
      return Deno.statSync(paths.lock).ino === held;
    } catch {
      return false;
    }
  };
  const log = fileLog(paths.log);
  // A fault in one connection must never take the process (and every forward) down.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log(`unhandled: ${messageOf(e.reason)}`);
  });
  const keep = () => lockKept() && existsSync(ctx.home.registry);
  const activity = new Activity(paths.activity, keep);
  await activity.load();
  const host = new ProxyHost(
    ctx,
    PARTS.map((make) => make({ home: ctx.home, ctx, log, activity, keep })),
    log,
    lockKept,
    keep,
  );
  await Deno.remove(paths.socket).catch(() => {}); // a dead process's socket: we hold the lock now
  const control = Deno.listen({ transport: "unix", path: paths.socket });
  serveControl(control, (r) => host.handle(r)).catch(() => {});
  log(`started (pid ${Deno.pid}, kinfra ${BUILD.version})`);
  const reason = await host.run();
  log(`stopping: ${reason}`);
  control.close();
  await Deno.remove(paths.socket).catch(() => {});
  await host.close();
  await activity.flush().catch(() => {});
  await Deno.remove(paths.state).catch(() => {});
  log("stopped");
  lock.close();
  return { data: { stopped: true, reason }, text: `kinfra proxy stopped: ${reason}.` };
}

class ProxyHost {
  private readonly world: WorldReader;
  private readonly errors: Record<string, string> = {};
  private readonly startedAt = new Date().toISOString();
  private chain: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  private exitTimer?: ReturnType<typeof setTimeout>;
  private exitsAt: string | null = null;
  private stopping = false;
  private finish!: (reason: string) => void;
  private readonly finished = new Promise<string>((resolve) => (this.finish = resolve));
  private readonly graceMs: number;
  private firstPassDone!: () => void;
  private readonly firstPass = new Promise<void>((resolve) => (this.firstPassDone = resolve));

  constructor(
    private readonly ctx: Context,
    private readonly parts: ProxyPart[],
    private readonly log: (m: string) => void,
    private readonly lockKept: () => boolean = () => true,
    /** False once its home is going (PartEnv.keep): nothing more is written into it. */
    private readonly keep: () => boolean = () => true,
  ) {
    this.world = new WorldReader(ctx.home, log);
    const grace = Number(ctx.env.get("KINFRA_PROXY_GRACE"));
    this.graceMs = Number.isFinite(grace) && grace >= 0 ? grace * 1000 : 5000;
  }

  /** Runs until stopped or no longer needed; returns why it stopped. */
  async run(): Promise<string> {
    const stop = (why: string) => () => this.stop(why);
    const onTerm = stop("SIGTERM");
    Deno.addSignalListener("SIGTERM", onTerm);
    this.ctx.signal.addEventListener("abort", stop("interrupted"));
    // The poll: a changed registry or config, or nothing needing it any more (a worktree removed by
    // hand) with no exit planned yet, makes a pass.
    const poll = async () => {
      if (!this.lockKept()) return this.stop("its lock file was removed or replaced");
      if (await this.world.changed() || (!this.exitTimer && !this.isNeeded())) await this.reconcile();
    };
    const timers = [setInterval(() => void poll().catch(() => {}), 1000)];
    for (const part of this.parts) {
      if (!part.tick || !part.intervalMs) continue;
      timers.push(setInterval(() => {
        const world = this.world.last;
        if (world && !this.stopping) {
          part.tick!(world).catch((e) => this.log(`${part.name}: tick failed: ${messageOf(e)}`));
        }
      }, part.intervalMs));
    }
    const watcher = this.watch();
    await this.reconcile().catch((e) => this.log(`first pass failed: ${messageOf(e)}`));
    this.firstPassDone();
    const reason = await this.finished;
    timers.forEach(clearInterval);
    watcher?.close();
    Deno.removeSignalListener("SIGTERM", onTerm);
    return reason;
  }

  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.exitTimer) clearTimeout(this.exitTimer);
    this.finish(reason);
  }

  /** The registry file changing wakes a reconcile at once (the poll catches what a watch misses). */
  private watch(): Deno.FsWatcher | undefined {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.ctx.home.root, { recursive: false });
    } catch {
      return undefined;
    }
    (async () => {
      for await (const event of watcher) {
        if (event.paths.some((p) => this.world.watches(p))) this.reconcile();
      }
    })().catch(() => {});
    return watcher;
  }

  /**
   * One pass of every part over the registry as it is now. Calls during a pass get the next pass
   * (which reads what they wrote); calls while one is queued share it.
   */
  reconcile(): Promise<void> {
    if (this.queued) return this.queued;
    const pass = this.chain.then(() => {
      this.queued = undefined;
      return this.pass();
    });
    this.queued = pass;
    this.chain = pass.catch(() => {});
    return pass;
  }

  private async pass(): Promise<void> {
    if (this.stopping) return;
    if (!existsSync(this.ctx.home.registry) || !existsSync(proxyPaths(this.ctx.home).dir)) {
      // No registry, nothing to serve: its home was removed (a test's temp home, say) or never had a
      // sandbox. Stop now, writing nothing — a write could create a directory being removed again.
      return this.stop("no registry in its home");
    }
    const world = await this.world.read();
    for (const part of this.parts) {
      try {
        await part.reconcile(world);
        delete this.errors[part.name];
      } catch (e) {
        this.errors[part.name] = messageOf(e);
        this.log(`${part.name}: ${messageOf(e)}`);
      }
    }
    const needed = this.parts.some((p) => safely(() => p.needed(world), false));
    if (needed && this.exitTimer) {
      clearTimeout(this.exitTimer);
      this.exitTimer = undefined;
      this.exitsAt = null;
    } else if (!needed && !this.exitTimer) {
      this.exitsAt = new Date(Date.now() + this.graceMs).toISOString();
      const timer: ReturnType<typeof setTimeout> = setTimeout(async () => {
        await this.reconcile(); // a last look: a pass that finds it needed clears the timer
        if (this.exitTimer === timer && !this.isNeeded()) this.stop("nothing needs it");
      }, this.graceMs);
      this.exitTimer = timer;
    }
    if (!this.keep()) return; // removed meanwhile: write nothing into a dying home
    await replaceFileAtomic(proxyPaths(this.ctx.home).state, JSON.stringify(this.state(), null, 2) + "\n")
      .catch((e) => this.log(`cannot write state.json: ${messageOf(e)}`));
  }

  private isNeeded(): boolean {
    const world = this.world.last;
    return Boolean(world) && this.parts.some((p) => safely(() => p.needed(world!), false));
  }

  state(): ProxyState {
    const world = this.world.last;
    return {
      pid: Deno.pid,
      started_at: this.startedAt,
      updated_at: new Date().toISOString(),
      router_port: world?.config.proxy.port ?? 0,
      version: BUILD.version,
      build: `${BUILD.version} ${BUILD.commit}`,
      home: this.ctx.home.root,
      needed: this.isNeeded(),
      exits_at: this.exitsAt,
      parts: Object.fromEntries(this.parts.map((p) => [p.name, {
        ...safely(() => p.status(), {}),
        needed: Boolean(world) && safely(() => p.needed(world!), false),
        ...(this.errors[p.name] ? { error: this.errors[p.name] } : {}),
      }])),
    };
  }

  async handle(request: ControlRequest): Promise<ControlReply> {
    if (this.stopping) return { ok: false, error: "exiting" };
    // Nobody hears "running" before the first pass opened what the registry asks for.
    await this.firstPass;
    if (request.op === "reconcile") await this.reconcile();
    if (request.op === "stop") {
      const state = this.state();
      setTimeout(() => this.stop("stopped by `kinfra proxy stop`"), 0);
      return { ok: true, state };
    }
    return { ok: true, state: this.state() };
  }

  async close(): Promise<void> {
    for (const part of this.parts) {
      await part.close().catch((e) => this.log(`${part.name}: close failed: ${messageOf(e)}`));
    }
  }
}

function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
