/**
 * `kinfra checkout [name]` / `--none`: which worktree of a project owns the project's canonical
 * ports (its `[sandbox.ports]` bases) on 127.0.0.1. The choice is a registry entry; the proxy
 * process does the forwarding, and this command returns once it has. A canonical port some other
 * process holds, or one the OS will not let us bind, is refused before anything changes.
 */
import type { Context } from "../context.ts";
import { Exit, KinfraError, usageError } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";
import { findWorktree } from "../project/find_worktree.ts";
import { type CanonicalPort, canonicalPorts, checkoutsOf } from "../proxy/checkouts.ts";
import { ensureProxy, reconcileProxy } from "../proxy/ensure.ts";
import { label, sandboxUrls } from "../proxy/names.ts";
import type { ProxyState } from "../proxy/state.ts";
import {
  readRegistry,
  type Registry,
  type SlotEntry,
  updateRegistry,
  type WorktreeEntry,
} from "../slots/registry.ts";
import { portSpans } from "../slots/ports.ts";
import { refusals } from "./checkout_checks.ts";

/** The canonical ports of a worktree: from its live slot, else from infra.toml's bases (TCP). */
async function portsFor(ctx: Context, entry: WorktreeEntry, slot?: SlotEntry): Promise<CanonicalPort[]> {
  if (slot) return canonicalPorts(slot);
  const sandbox = (await ctx.project(entry.project_root)).config?.sandbox;
  return Object.entries(portSpans(sandbox?.ports ?? {})).flatMap(([variable, { base, width }]) =>
    Array.from(
      { length: width },
      (_, i) => ({ variable, port: base + i, target: 0, protocol: "tcp" as const }),
    )
  );
}

function portLines(ports: CanonicalPort[], live: boolean): string[] {
  return ports.map((p) =>
    `  ${p.variable} 127.0.0.1:${p.port}${p.protocol === "udp" ? "/udp" : ""}${live ? ` → ${p.target}` : ""}`
  );
}

export async function checkout(
  ctx: Context,
  options: { name?: string; none?: boolean },
): Promise<CommandOutput> {
  if (options.none) return await release(ctx, options.name);
  if (options.name === undefined) {
    // In the project's own checkout (no worktree to check out here): say what is checked out.
    const top = (await ctx.git.locate(ctx.cwd).catch(() => undefined))?.top;
    const registry = await readRegistry(ctx.home);
    if (top && !registry.worktrees[top]) return await show(ctx, registry);
  }
  const entry = await findWorktree(ctx, options.name);
  const project = await ctx.project(entry.project_root);
  if (entry.kind !== "impl" || !project.config?.sandbox) {
    throw usageError(
      `${entry.path} has no sandbox to check out: ${
        entry.kind !== "impl" ? "it is a spec worktree" : "infra.toml has no [sandbox]"
      }.`,
    );
  }
  const registry = await readRegistry(ctx.home);
  const slot = checkoutsOf({ ...registry, checkouts: { [entry.project]: entry.path } })[0]?.slot;
  const ports = await portsFor(ctx, entry, slot);
  const problems = await refusals(ctx, registry, entry, ports);
  if (problems) throw problems;

  const previous = registry.checkouts?.[entry.project];
  const started = performance.now();
  await updateRegistry(ctx.home, (reg) => {
    reg.checkouts ??= {};
    for (const [p, path] of Object.entries(reg.checkouts)) if (!reg.worktrees[path]) delete reg.checkouts[p];
    reg.checkouts[entry.project] = entry.path;
  });
  const state = slot ? await ensureProxy(ctx, { wait: true }) : await reconcileProxy(ctx);
  const switchMs = performance.now() - started;
  const failed = slot && openProblems(state, entry.project);
  if (failed) {
    // Someone took a port between the check and the bind: put things back as they were.
    await updateRegistry(ctx.home, (reg) => {
      if (previous) reg.checkouts![entry.project] = previous;
      else delete reg.checkouts?.[entry.project];
    });
    await reconcileProxy(ctx);
    throw new KinfraError(`Cannot check out ${entry.path}: ${failed[0]}.`, {
      code: Exit.blocked,
      details: failed.slice(1),
      hint: "Nothing was changed. Stop that process (or change its port), then run this again.",
    });
  }
  const name = entry.path.split("/").pop()!;
  const routerPort = (await ctx.globalConfig()).proxy.port;
  const { url } = slot ? sandboxUrls(slot, entry, routerPort) : { url: null };
  const projectUrl = `http://${label(entry.project)}.localhost:${routerPort}/`;
  return {
    data: {
      project: entry.project,
      name,
      path: entry.path,
      checked_out: true,
      previous: previous && previous !== entry.path ? previous : null,
      live: Boolean(slot),
      ports,
      url,
      project_url: url ? projectUrl : null,
      switch_ms: Math.round(switchMs * 10) / 10,
    },
    text: [
      `${ctx.style.green("✓")} ${entry.project}: canonical ports lead to ${name}` +
      (slot ? ` (slot ${slot.slot_id})` : " — its sandbox is down: they open when `kinfra up` starts it"),
      ...portLines(ports, Boolean(slot)),
      ...(url
        ? [`  ${url}`, `  ${projectUrl} (${entry.project}'s checked-out sandbox, whichever it is)`]
        : []),
    ].join("\n"),
  };
}

/** The checkout's open failures the proxy reported for `project`, or undefined when every port opened. */
function openProblems(state: ProxyState | undefined, project: string): string[] | undefined {
  if (!state) return ["the kinfra proxy did not start (see `kinfra proxy status`)"];
  const checkouts = state.parts.checkout?.checkouts as Record<string, { problems?: string[] }> | undefined;
  const problems = checkouts?.[project]?.problems ?? [];
  return problems.length ? problems : undefined;
}

/** `--none`: the project's canonical ports are released. */
async function release(ctx: Context, name?: string): Promise<CommandOutput> {
  const projectName = name ? (await findWorktree(ctx, name)).project : (await ctx.project()).name;
  const path = await updateRegistry(ctx.home, (reg) => {
    const was = reg.checkouts?.[projectName];
    if (was !== undefined) delete reg.checkouts![projectName];
    return was;
  });
  if (path) await reconcileProxy(ctx);
  return {
    data: { project: projectName, released: path ?? null, checked_out: false },
    text: path
      ? `${ctx.style.green("✓")} ${projectName}: canonical ports released (were ${path.split("/").pop()})`
      : `${projectName} has no checkout.`,
  };
}

/** `kinfra checkout` in the project's main checkout: which worktree has the canonical ports. */
async function show(ctx: Context, registry: Registry): Promise<CommandOutput> {
  const project = await ctx.project();
  const current = checkoutsOf(registry).find((c) => c.project === project.name);
  const ports = current?.slot ? canonicalPorts(current.slot) : [];
  const name = current?.worktree.path.split("/").pop() ?? null;
  return {
    data: {
      project: project.name,
      checked_out: name,
      path: current?.worktree.path ?? null,
      live: Boolean(current?.slot),
      ports,
    },
    text: current
      ? [
        `${project.name}: canonical ports lead to ${name}${
          current.slot ? "" : " (its sandbox is down: released)"
        }`,
        ...portLines(ports, true),
      ].join("\n")
      : `${project.name} has no checkout. \`kinfra checkout <name>\` leads its canonical ports to a worktree's sandbox.`,
  };
}
