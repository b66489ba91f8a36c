/**
 * The router part: needed while any impl sandbox is live; listens on `[proxy] port` (127.0.0.1) and
 * routes each connection by its Host header (names.ts). A name that moves (`down` then `up` on
 * another slot) or goes away cuts the connections that led to the old port.
 */
import { messageOf } from "../errors.ts";
import { existsSync } from "../io/home.ts";
import { describeHolder, portHolder } from "./holder.ts";
import { isLive, type Route, routesOf } from "./names.ts";
import type { PartEnv, PartStatus, ProxyPart, ProxyWorld } from "./part.ts";
import { escapeHtml, routeKey, Router } from "./router.ts";

/** How long a lookup of the router port's holder is reused while the port stays held. */
const HOLDER_TTL_MS = 30_000;

export function routerPart(env: PartEnv): ProxyPart {
  let routes = new Map<string, Route>();
  let router: Router | undefined;
  let port: number | undefined;
  let problem: string | undefined;
  const makeRouter = () =>
    new Router({
      route: (host) => routes.get(host),
      page: (host) => livePage(host, routes, port ?? 0),
      traffic: (route, delta) => env.activity.record(route.slot, delta),
    });

  /**
   * The last answer to who holds the router port. Finding the holder reads every process's open
   * files: tens of ms in which this process answers no command (`done` waits for a pass), so a port
   * still held is described from that answer for half a minute before it is looked up again.
   */
  let lastHolder: { port: number; text: string; at: number } | undefined;
  const heldBy = async (wanted: number) => {
    if (lastHolder?.port === wanted && Date.now() - lastHolder.at < HOLDER_TTL_MS) return lastHolder.text;
    const holder = describeHolder(await portHolder(wanted), wanted, "tcp");
    const text =
      `router port ${wanted} is held by ${holder}; set another in the global config ([proxy] port)`;
    lastHolder = { port: wanted, text, at: Date.now() };
    return text;
  };
  const open = async (wanted: number) => {
    router?.close();
    router = undefined;
    port = wanted;
    const next = makeRouter();
    try {
      next.listen(wanted);
      router = next;
      problem = lastHolder = undefined;
      env.log(`router: listening on 127.0.0.1:${wanted}`);
    } catch (e) {
      problem = e instanceof Deno.errors.AddrInUse
        ? await heldBy(wanted)
        : `cannot listen on router port ${wanted}: ${messageOf(e)}`;
      env.log(`router: ${problem}`);
    }
  };

  return {
    name: "router",
    // A slot whose worktree is gone is stale (the next command repairs it): nothing to serve — and a
    // test's temp home removed around a live slot does not keep the process alive.
    needed: (world: ProxyWorld) =>
      Object.values(world.registry.slots).some((s) =>
        isLive(s) && world.registry.worktrees[s.worktree_path]?.kind === "impl" && existsSync(s.worktree_path)
      ),
    async reconcile(world) {
      routes = this.needed(world) ? routesOf(world.registry) : new Map();
      env.activity.keepOnly(Object.values(world.registry.slots));
      if (!this.needed(world)) {
        if (router) env.log("router: closed (no live sandbox)");
        router?.close();
        router = undefined;
        port = undefined;
        return;
      }
      // A failed bind is retried on every pass: the holder may have gone.
      if (!router || port !== world.config.proxy.port) await open(world.config.proxy.port);
      const live = new Set([...routes.values()].map(routeKey));
      const cut = router?.connections.cut((key) => live.has(key)) ?? 0;
      if (cut) env.log(`router: closed ${cut} connection(s) whose name went away or moved`);
    },
    status(): PartStatus {
      return {
        port: port ?? null,
        listening: Boolean(router),
        names: [...routes.values()].map((r) => ({ host: r.host, port: r.port, worktree: r.worktree.path })),
        connections: router?.connections.size ?? 0,
        summary: [
          router
            ? `127.0.0.1:${port}: ${routes.size} name(s), ${router.connections.size} open connection(s)`
            : "not listening",
        ],
        ...(problem ? { problems: [problem] } : {}),
      };
    },
    close() {
      router?.close();
      router = undefined;
      return Promise.resolve();
    },
  };
}

/** The page for a name no sandbox has: every live sandbox with its links. */
function livePage(host: string, routes: Map<string, Route>, port: number): string {
  const bySandbox = new Map<string, Route[]>();
  for (const r of routes.values()) {
    const list = bySandbox.get(r.worktree.path) ?? [];
    bySandbox.set(r.worktree.path, [...list, r]);
  }
  const items = [...bySandbox.values()].map((list) => {
    const main = list.reduce((a, b) => a.host.length <= b.host.length ? a : b);
    const others = list.filter((r) => r !== main)
      .filter((r, i, all) => all.findIndex((o) => o.variable === r.variable) === i);
    const link = (r: Route) => `<a href="http://${r.host}:${port}/">${escapeHtml(r.host)}</a>`;
    return `<li>${link(main)} <small>${escapeHtml(main.worktree.project)} · ${
      escapeHtml(main.worktree.path)
    } · slot ${main.slot.slot_id}</small>${
      others.length
        ? `<br><small>${others.map((r) => `${link(r)} (${escapeHtml(r.variable)})`).join(", ")}</small>`
        : ""
    }</li>`;
  });
  const unknown = host && host !== "localhost" && host !== "127.0.0.1"
    ? `<p class="bad">No live sandbox is called ${escapeHtml(host)}.</p>`
    : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>kinfra sandboxes</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}li{margin:.5em 0}.bad{color:#b00}small{color:#555}</style>
</head><body><h1>kinfra sandboxes</h1><!--status-->${unknown}
${
    items.length
      ? `<ul>${items.join("\n")}</ul>`
      : "<p>No sandbox is running. Start one with <code>kinfra impl &lt;feature&gt;/&lt;milestone&gt;</code>.</p>"
  }
<p><small>Names: <code>&lt;feature&gt;-&lt;milestone&gt;.&lt;project&gt;.localhost:${port}</code>; other ports: <code>&lt;port&gt;.&lt;feature&gt;-&lt;milestone&gt;.&lt;project&gt;.localhost:${port}</code>.</small></p>
</body></html>`;
}
