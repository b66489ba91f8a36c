/**
 * How commands use the proxy process: `ensureProxy` starts it when some part needs it and it is not
 * running (detached, in its own session, stdio to nowhere — it logs to `<home>/proxy/proxy.log`);
 * `reconcileProxy` makes a running one catch up with the registry now, and returns what it then
 * runs. Neither ever fails a command: a proxy that cannot start is a warning, and the next command
 * tries again.
 */
import type { Context } from "../context.ts";
import { BUILD } from "#build";
import { messageOf } from "../errors.ts";
import { readRegistry } from "../slots/registry.ts";
import { askProxy } from "./control.ts";
import { join, resolve } from "../io/path.ts";
import { isCheckedOut } from "./checkouts.ts";
import { proxyPaths } from "./paths.ts";
import type { ProxyWorld } from "./part.ts";
import type { ProxyState } from "./state.ts";
import { sleep } from "../io/timers.ts";

const START_TIMEOUT_MS = 15_000;

/** The parts that would need a proxy for the registry as it is now (building parts has no side effects). */
export async function partsNeeding(ctx: Context): Promise<string[]> {
  const [{ PARTS }, { Activity }] = await Promise.all([import("./parts.ts"), import("./activity.ts")]);
  const world: ProxyWorld = { registry: await readRegistry(ctx.home), config: await ctx.globalConfig() };
  const activity = new Activity(proxyPaths(ctx.home).activity);
  const env = { home: ctx.home, ctx, log: () => {}, activity, keep: () => false }; // builds parts, runs none
  return PARTS.map((make) => make(env)).filter((p) => p.needed(world)).map((p) => p.name);
}

/** True when `path` is its project's checked-out worktree (its canonical ports wait for the proxy). */
export async function checkedOutNow(ctx: Context, path: string): Promise<boolean> {
  return isCheckedOut(await readRegistry(ctx.home), path);
}

/** Asks a running proxy to reconcile now; undefined when none runs. */
export async function reconcileProxy(
  ctx: Context,
  op: "reconcile" | "status" = "reconcile",
): Promise<ProxyState | undefined> {
  try {
    const reply = await askProxy(proxyPaths(ctx.home).socket, { op });
    return reply?.ok ? reply.state : undefined;
  } catch (e) {
    ctx.log.warn(`kinfra proxy: ${messageOf(e)} (see \`kinfra proxy status\`).`);
    return undefined;
  }
}

/**
 * Makes sure the proxy runs when something needs it. With `wait`, returns once it has reconciled
 * with the registry (checkout needs its ports open before it reports); without, it only starts it.
 */
export async function ensureProxy(
  ctx: Context,
  options: {
    wait?: boolean;
    /** Without `wait`: the proxy's answer to a status question the caller asked already. */
    asked?: Promise<ProxyState | undefined>;
  } = {},
): Promise<ProxyState | undefined> {
  // Waiting callers need it caught up with what they just wrote; the others only need it alive.
  const running = options.asked && !options.wait
    ? await options.asked
    : await reconcileProxy(ctx, options.wait ? "reconcile" : "status");
  if (running && running.build === buildId()) return running;
  // One from another kinfra build (an upgrade): replaced, so the code serving is this one.
  if (running) await (await import("./stop.ts")).stopProxy(ctx);
  if (!(await partsNeeding(ctx)).length) return undefined;
  try {
    await spawnProxy(ctx);
  } catch (e) {
    ctx.log.warn(`Could not start the kinfra proxy: ${messageOf(e)}`);
    return undefined;
  }
  if (!options.wait) return undefined;
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline;) {
    await sleep(50);
    const state = await reconcileProxy(ctx);
    if (state) return state;
  }
  ctx.log.warn(
    `The kinfra proxy did not start within ${START_TIMEOUT_MS / 1000}s; see ${proxyPaths(ctx.home).log}.`,
  );
  return undefined;
}

/** This kinfra's build, as the proxy process records it (`state.build`). */
export const buildId = () => `${BUILD.version} ${BUILD.commit}`;

/** Starts `kinfra proxy run` for this home, detached: it outlives this command. */
async function spawnProxy(ctx: Context): Promise<void> {
  const { startDetachedKinfra } = await import("../hooks/external.ts");
  // Absolute: the process runs in its own directory, where a relative KINFRA_HOME means another place.
  const root = resolve(Deno.cwd(), ctx.home.root);
  const dir = join(root, "proxy");
  await Deno.mkdir(dir, { recursive: true });
  const pid = startDetachedKinfra(root, ["proxy", "run"], dir);
  ctx.log.debug(`started the kinfra proxy (pid ${pid})`);
}
