/**
 * `kinfra status --watch [name]`: the dashboard's board in the terminal, redrawn whenever it changes
 * (the same live feed as `kinfra ui`), until Ctrl-C. Not on a terminal, or with `--json`, each change
 * is appended instead: a block of text, or one JSON line.
 */
import type { Context } from "../../context.ts";
import type { CommandOutput, Style } from "../../io/output.ts";
import { findWorktree } from "../../project/find_worktree.ts";
import { follow } from "./live.ts";
import type { Board, Row } from "./model.ts";

function since(iso: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

function rowLines(w: Row, style: Style, now: number): string[] {
  const sb = w.sandbox;
  const mark = w.stale ? style.yellow(` stale: ${w.stale} (kinfra gc)`) : "";
  const head = `  ${style.bold(w.name)} ${w.kind}${mark}`;
  const session = w.session ? `  agent ${w.session.state}` : "";
  if (!sb) return [`${head}  ${w.kind === "impl" ? "stopped" : "no sandbox"}${session}`];
  const state = sb.state === "up"
    ? style.green("up")
    : sb.state === "degraded" || sb.state === "failed"
    ? style.red(sb.state)
    : style.cyan(sb.state);
  const health = sb.health
    ? `  ${sb.health.state === "healthy" ? style.green("healthy") : style.red(sb.health.state)}`
    : "";
  const uptime = sb.state === "up" ? `  up ${since(sb.started_at, now)}` : "";
  return [
    `${head}  slot ${sb.slot} ${state}${health}${uptime}${session}`,
    `    ${sb.ports.map((p) => `${p.name}=${p.port}${p.note ?? ""}`).join("  ")}`,
    `    ${sb.containers.map((c) => `${c.service} ${c.state}`).join(" · ") || "no containers"}` +
    (sb.jaeger ? `  traces ${sb.jaeger}` : ""),
    ...w.problems.map((p) => style.yellow(`    ! ${p}`)),
  ];
}

/** The board as terminal text. */
export function boardText(board: Board, style: Style, now = Date.now()): string {
  const o = board.observability;
  const links = [o.jaeger && `jaeger ${o.jaeger}`, o.grafana && `grafana ${o.grafana}`].filter(Boolean).join(
    "  ",
  );
  return [
    `observability ${o.state}${links ? `  ${links}` : ""}`,
    ...(board.projects.length ? [] : ["No kinfra worktrees."]),
    ...board.projects.flatMap((p) => [
      "",
      `${style.bold(p.name)}  ${style.dim(p.root)}`,
      ...p.worktrees.flatMap((w) => rowLines(w, style, now)),
    ]),
  ].join("\n");
}

export async function watch(ctx: Context, options: { name?: string; json: boolean }): Promise<CommandOutput> {
  const only = options.name === undefined ? undefined : (await findWorktree(ctx, options.name)).path;
  const redraw = Deno.stdout.isTerminal() && !options.json;
  const encoder = new TextEncoder();
  const write = (text: string) => {
    const bytes = encoder.encode(text);
    for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
  };
  await follow(ctx, ctx.signal, (full) => {
    const board = only
      ? {
        ...full,
        projects: full.projects.map((p) => ({ ...p, worktrees: p.worktrees.filter((w) => w.path === only) }))
          .filter((p) => p.worktrees.length),
      }
      : full;
    if (options.json) return write(JSON.stringify(board) + "\n");
    const stamp = ctx.style.dim(`kinfra status --watch · ${new Date().toLocaleTimeString()} · Ctrl-C stops`);
    write((redraw ? "\x1b[H\x1b[2J" : "\n") + `${stamp}\n${boardText(board, ctx.style)}\n`);
  });
  return { data: {}, text: "", silent: true };
}
