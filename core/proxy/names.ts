/**
 * Stable names of sandboxes (docs/proxy.md): the router answers
 * `http://<feature>-<milestone>.<project>.localhost:<router port>/` with the sandbox's primary HTTP
 * port (the health check's, else the first HTTP one), and `<port name>.<feature>-<milestone>.
 * <project>.localhost` with each other HTTP port — `<port name>` being the variable lower-cased,
 * without the project's prefix and the `_PORT` suffix, `_` as `-` (`SHOP_ADMIN_PORT` → `admin`).
 * Plugins' routes (`sandbox.routes`) take the same form; `<project>.localhost` is the project's
 * checked-out sandbox (`kinfra checkout`). Names follow the worktree, not the slot, so a URL stays
 * the same across `down`/`up`.
 */
import type { Registry, SlotEntry, WorktreeEntry } from "../slots/registry.ts";

/** Slots the router and the forwarders serve: running, or starting (the health gate is waiting). */
export const isLive = (slot: SlotEntry) => slot.status === "running" || slot.status === "starting";

/** A DNS label from a name: lower case, anything but a–z 0–9 as `-`. */
export const label = (name: string) => name.toLowerCase().replace(/[^a-z0-9-]/g, "-");

/** `<feature>-<milestone>.<project>.localhost` of an impl worktree. */
export function sandboxHost(worktree: Pick<WorktreeEntry, "feature" | "milestone" | "project">): string {
  return `${label(worktree.feature)}-${label(worktree.milestone ?? "")}.${label(worktree.project)}.localhost`;
}

/**
 * The short name of a port variable: `SHOP_ADMIN_PORT` in project `shop` → `admin`.
 *
 * @example
 * portLabel("SHOP_ADMIN_PORT", "shop"); // "admin"
 */
export function portLabel(variable: string, project: string): string {
  const prefix = `${project.toUpperCase().replace(/-/g, "_")}_`;
  let short = variable.startsWith(prefix) ? variable.slice(prefix.length) : variable;
  short = short.replace(/_PORT$/, "");
  return label(short || variable);
}

/** The variable a slot's name leads to: recorded at claim, else the first HTTP one, else the first TCP one. */
export function primaryVariable(slot: SlotEntry): string | undefined {
  if (slot.primary && slot.primary in slot.ports) return slot.primary;
  const tcp = Object.keys(slot.ports).filter((v) =>
    !slot.udp?.includes(v) && !v.endsWith("_END") && !slot.widths?.[v]
  );
  return tcp.find((v) => !slot.http || slot.http.includes(v)) ?? (slot.http ? undefined : tcp[0]);
}

/** The HTTP port variables of a slot (all TCP single ports for a slot from before kinfra recorded them). */
function httpVariables(slot: SlotEntry): string[] {
  return Object.keys(slot.ports).filter((v) =>
    !slot.udp?.includes(v) && !slot.widths?.[v] && !(v.endsWith("_END") && slot.widths?.[v.slice(0, -4)]) &&
    (!slot.http || slot.http.includes(v))
  );
}

export interface Route {
  host: string;
  port: number;
  /** The port variable, or `plugin:<name>` for a plugin's route. */
  variable: string;
  slot: SlotEntry;
  worktree: WorktreeEntry;
}

/**
 * Every name the router answers for this registry, host → route. Where two worktrees' names
 * collide (`a.b` and `a-b`), the one created first keeps it.
 */
export function routesOf(registry: Registry): Map<string, Route> {
  const routes = new Map<string, Route>();
  const slots = Object.values(registry.slots).filter(isLive);
  const byAge = slots.map((slot) => ({ slot, worktree: registry.worktrees[slot.worktree_path] }))
    .filter((s) => s.worktree?.kind === "impl")
    .sort((a, b) => a.worktree.created_at < b.worktree.created_at ? -1 : 1);
  for (const { slot, worktree } of byAge) {
    const base = sandboxHost(worktree);
    const add = (host: string, variable: string, port: number) => {
      if (!routes.has(host)) routes.set(host, { host, port, variable, slot, worktree });
    };
    const primary = primaryVariable(slot);
    if (primary) add(base, primary, slot.ports[primary]);
    for (const v of httpVariables(slot)) {
      add(`${portLabel(v, worktree.project)}.${base}`, v, slot.ports[v]);
      add(`${label(v)}.${base}`, v, slot.ports[v]);
    }
    for (const [name, port] of Object.entries(slot.routes ?? {})) {
      add(`${label(name)}.${base}`, `plugin:${name}`, port);
    }
  }
  // `<project>.localhost`: the project's checked-out sandbox (an OAuth callback registered once follows it).
  for (const [project, path] of Object.entries(registry.checkouts ?? {})) {
    const slot = slots.find((s) => s.worktree_path === path);
    const worktree = registry.worktrees[path];
    const primary = slot && primaryVariable(slot);
    if (!slot || !worktree || !primary) continue;
    const host = `${label(project)}.localhost`;
    if (!routes.has(host)) {
      routes.set(host, { host, port: slot.ports[primary], variable: primary, slot, worktree });
    }
  }
  return routes;
}

/** The URLs of one worktree's sandbox: its primary one and one per HTTP port variable. */
export function sandboxUrls(
  slot: SlotEntry,
  worktree: WorktreeEntry,
  routerPort: number,
): { url: string | null; urls: Record<string, string> } {
  const base = sandboxHost(worktree);
  const link = (host: string) => `http://${host}:${routerPort}/`;
  const primary = primaryVariable(slot);
  const urls = Object.fromEntries(
    httpVariables(slot).map((
      v,
    ) => [v, link(v === primary ? base : `${portLabel(v, worktree.project)}.${base}`)]),
  );
  for (const name of Object.keys(slot.routes ?? {})) urls[`plugin:${name}`] = link(`${label(name)}.${base}`);
  return { url: primary ? link(base) : null, urls };
}

/** The host a request names: the Host header without its port, lower case, no trailing dot. */
export function requestHost(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  const bare = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  return bare.replace(/\.$/, "");
}
