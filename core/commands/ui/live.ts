/**
 * Keeps the board current for everyone looking at it, from one place: it is rebuilt when the
 * registry changes (every impl, up, down, done writes it), when the runtime reports a change of this
 * home's containers (the plugins' `watch`: the docker plugin follows `docker events`), and when a
 * health endpoint's answer changes (probed every 2 s, no Docker call). Every 15 s it is rebuilt
 * anyway, for what sends no events (an agent-deck session finishing; `KINFRA_UI_REFRESH` seconds),
 * and what the sandboxes use (memory, CPU) is measured on the same period. Browsers never cause a poll.
 */
import type { Context } from "../../context.ts";
import { makeContext } from "../../make_context.ts";
import { messageOf } from "../../errors.ts";
import { ensureHome } from "../../io/home.ts";
import { probe } from "../../io/probe.ts";
import { type Board, board } from "./model.ts";
import { measureUsage } from "../../sandbox/usage.ts";
import type { SandboxUsage } from "../../hooks/plugin_api.ts";

const SETTLE_MS = 100;
const HEALTH_MS = 2000;
/** How often the board is rebuilt without any event, in seconds (`KINFRA_UI_REFRESH`, default 15). */
const fullRefreshMs = (ctx: Context) => {
  const seconds = Number(ctx.env.get("KINFRA_UI_REFRESH") ?? 15);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 15) * 1000;
};

/**
 * Calls `publish` with the board now and whenever it changes, until `signal` aborts. Each build uses
 * a fresh context, so an edited infra.toml or a new project shows without a restart.
 */
export async function follow(
  ctx: Context,
  signal: AbortSignal,
  publish: (board: Board) => void,
): Promise<void> {
  let last = "";
  let current: Board | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // What the sandboxes use: measured on its own timer (the engine's statistics take a second or
  // two), so a board is never held up by it; a new measurement that differs makes a new board.
  let usage = new Map<string, SandboxUsage>();
  const measure = async () => {
    if (signal.aborted) return;
    const next = (await measureUsage(ctx, { cpu: true })).sandboxes;
    if (JSON.stringify([...next]) !== JSON.stringify([...usage])) (usage = next, refresh());
  };
  const build = async () => {
    const fresh = makeContext({
      cwd: ctx.cwd,
      env: ctx.env,
      log: ctx.log,
      style: ctx.style,
      signal,
      builtins: () => ctx.builtins(),
    });
    try {
      const next = await board(fresh, usage);
      const text = JSON.stringify(next);
      current = next;
      if (text !== last && !signal.aborted) {
        last = text;
        publish(next);
      }
    } catch (e) {
      ctx.log.debug(`board: ${messageOf(e)}`);
    }
  };
  // Changes coming in bursts (compose starting five containers) make one rebuild, never two at once.
  const refresh = () => {
    if (signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (running) {
        again = true;
        return;
      }
      running = build().finally(() => {
        running = undefined;
        if (again) (again = false, refresh());
      });
    }, SETTLE_MS);
  };
  const healthChanged = async () => {
    const sandboxes = current?.projects.flatMap((p) => p.worktrees.map((w) => w.sandbox)) ?? [];
    const checks = await Promise.all(
      sandboxes.filter((s) => s?.health).map(async (s) =>
        (await probe(s!.health!.url, 1000)) !== s!.health!.state
      ),
    );
    if (checks.some(Boolean)) refresh();
  };

  await ensureHome(ctx.home);
  await build();
  if (signal.aborted) return; // Ctrl-C while the first board was being built
  const watcher = Deno.watchFs(ctx.home.root, { recursive: false });
  const timers = [
    setInterval(healthChanged, HEALTH_MS),
    setInterval(refresh, fullRefreshMs(ctx)),
    setInterval(() => measure().catch(() => {}), fullRefreshMs(ctx)),
  ];
  measure().catch(() => {});
  const close = () => {
    watcher.close();
    timers.forEach(clearInterval);
    clearTimeout(timer);
  };
  signal.addEventListener("abort", close, { once: true });
  const registryWatch = (async () => {
    for await (const event of watcher) {
      if (event.paths.some((p) => p.endsWith("registry.json"))) refresh();
    }
  })();
  await Promise.all([registryWatch, (await ctx.hooks()).watch(signal, refresh)]);
  await running;
}
