/**
 * `kinfra proxy status|start|stop|run`: find, explain, start and stop the one on-demand background
 * process of a home (docs/proxy.md). Commands start it themselves when something needs it; these
 * are for looking at it and for taking it down by hand.
 */
import type { Context } from "../context.ts";
import type { Check } from "../hooks/plugin_api.ts";
import { KinfraError } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";
import { readActivity } from "../proxy/activity.ts";
import { askProxy } from "../proxy/control.ts";
import { ensureProxy, partsNeeding } from "../proxy/ensure.ts";
import { stopProxy } from "../proxy/stop.ts";
import { proxyPaths } from "../proxy/paths.ts";
import type { ProxyState } from "../proxy/state.ts";

/** The text lines describing a running proxy (also used by `doctor`). */
export function describeProxy(state: ProxyState): string[] {
  const lines = [`pid ${state.pid}, since ${state.started_at}, router 127.0.0.1:${state.router_port}`];
  for (const [name, part] of Object.entries(state.parts)) {
    const summary = part.summary ?? [
      Object.entries(part).filter(([k]) => !["problems", "needed", "error"].includes(k))
        .map(([k, v]) =>
          `${k} ${Array.isArray(v) ? v.length : typeof v === "object" ? JSON.stringify(v) : v}`
        )
        .join(", "),
    ];
    lines.push(`  ${name}: ${part.needed ? "needed" : "idle"}${summary[0] ? ` · ${summary[0]}` : ""}`);
    for (const line of summary.slice(1)) lines.push(`    ${line}`);
    for (const p of [...part.problems ?? [], ...(part.error ? [part.error] : [])]) lines.push(`    ! ${p}`);
  }
  if (state.exits_at) lines.push(`  nothing needs it: exits at ${state.exits_at}`);
  return lines;
}

async function current(ctx: Context): Promise<ProxyState | undefined> {
  const reply = await askProxy(proxyPaths(ctx.home).socket, { op: "status" });
  return reply?.ok ? reply.state : undefined;
}

export async function status(ctx: Context): Promise<CommandOutput> {
  const paths = proxyPaths(ctx.home);
  const state = await current(ctx);
  if (state) {
    const activity = await readActivity(paths.activity);
    return {
      data: { running: true, ...state, activity: activity.slots, log: paths.log },
      text: [
        `kinfra proxy running: ${describeProxy(state)[0]}`,
        ...describeProxy(state).slice(1),
        `  log ${paths.log}`,
      ]
        .join("\n"),
    };
  }
  const needing = await partsNeeding(ctx);
  return {
    data: { running: false, needed_by: needing, log: paths.log },
    text: needing.length
      ? `kinfra proxy not running, though ${
        needing.join(" and ")
      } need(s) it; the next command that needs it ` +
        "starts it (or `kinfra proxy start`)."
      : "kinfra proxy not running (not needed: no live sandbox, no checkout).",
  };
}

export async function start(ctx: Context): Promise<CommandOutput> {
  const state = await ensureProxy(ctx, { wait: true });
  if (!state) {
    const needing = await partsNeeding(ctx);
    if (needing.length) {
      throw new KinfraError("The kinfra proxy did not start.", {
        hint: `See ${proxyPaths(ctx.home).log}, or run \`kinfra proxy run\` to see it in the foreground.`,
      });
    }
    return { data: { running: false, needed_by: [] }, text: "Nothing needs the kinfra proxy; not started." };
  }
  return {
    data: { running: true, ...state },
    text: ["kinfra proxy running:", ...describeProxy(state)].join("\n"),
  };
}

export async function stop(ctx: Context): Promise<CommandOutput> {
  const pid = await stopProxy(ctx);
  if (pid === undefined) return { data: { stopped: false }, text: "kinfra proxy is not running." };
  const needing = await partsNeeding(ctx);
  return {
    data: { stopped: true, pid, needed_by: needing },
    text: `kinfra proxy (pid ${pid}) stopped.` +
      (needing.length
        ? " Sandbox names and checkouts are down until a command needs them again (`kinfra proxy start`)."
        : ""),
  };
}

export async function run(ctx: Context): Promise<CommandOutput> {
  return await (await import("../proxy/host.ts")).runProxy(ctx);
}

/** `doctor`'s line about the proxy: running (pid, port, parts), not needed, or needed but down. */
export async function proxyCheck(ctx: Context): Promise<Check> {
  const name = "kinfra proxy";
  const state = await current(ctx).catch(() => undefined);
  if (state) {
    const problems = Object.entries(state.parts).flatMap(([part, s]) =>
      [...s.problems ?? [], ...(s.error ? [s.error] : [])].map((p) => `${part}: ${p}`)
    );
    const [first, ...rest] = describeProxy(state);
    return problems.length
      ? {
        name,
        ok: false,
        severity: "warning",
        detail: `${first}; ${problems.join("; ")}`,
        hint:
          "Free the port or change it ([proxy] port in the global config); `kinfra proxy status` for details.",
      }
      : { name, ok: true, detail: [first, ...rest.map((l) => l.trim())].join("; ") };
  }
  const needing = await partsNeeding(ctx).catch(() => []);
  return needing.length
    ? {
      name,
      ok: false,
      severity: "warning",
      detail: `not running, but ${needing.join(", ")} need(s) it`,
      hint: `\`kinfra proxy start\` (any command that needs it starts it); its log: ${
        proxyPaths(ctx.home).log
      }`,
    }
    : { name, ok: true, detail: "not running (not needed)" };
}
