/**
 * The adapter that runs an out-of-process plugin (docs/plugins.md, protocol 1) behind the same `Plugin`
 * interface as the built-ins: argv `command… <event>`, one JSON document on stdin, `KINFRA_*`
 * variables, stdout empty or one JSON document (≤ 1 MiB), exit 0 ok / 100 not applicable / else
 * an error with the tail of stderr, stderr shown prefixed `[name]`, and a timeout that sends
 * SIGTERM and then SIGKILL 5 s later to the plugin's whole process group.
 *
 * No plugin process outlives its run: when the plugin exits (or is killed), every process that
 * still carries the run's id — a background child, one that called `setsid` — is killed too
 * (sweep.ts), so a run is bounded by its timeout plus the grace period, with or without `setsid`.
 */
import { basename, fromFileUrl, join } from "../io/path.ts";
import { KinfraError } from "../errors.ts";
import { V8_FLAGS_ARG } from "../io/v8_flags.ts";
import { onPath } from "../io/exec.ts";
import type { EventMap, EventName, ExternalInput, HookContext, Plugin } from "./plugin_api.ts";
import { resolveCommand } from "./argv.ts";
import type { Manifest } from "./manifest.ts";
import { killRun } from "./sweep.ts";

const MAX_STDOUT = 1024 * 1024;
const KILL_GRACE_MS = 5000;

export interface ExternalPlugin {
  name: string;
  dir: string;
  manifest: Manifest;
}

/** A `Plugin` whose handlers run the plugin's command. */
export function externalPlugin(plugin: ExternalPlugin): Plugin {
  const hooks: Plugin["hooks"] = {};
  for (const event of plugin.manifest.events) {
    // deno-lint-ignore no-explicit-any
    (hooks as Record<string, any>)[event] = (ctx: HookContext) => invoke(plugin, event, ctx);
  }
  return {
    name: plugin.name,
    order: plugin.manifest.order,
    version: plugin.manifest.version,
    description: plugin.manifest.description,
    hooks,
  };
}

let setsid: Promise<boolean> | undefined;

async function invoke<E extends EventName>(
  plugin: ExternalPlugin,
  event: E,
  ctx: HookContext<E>,
): Promise<EventMap[E] | undefined> {
  const cwd = ctx.worktree?.path && await isDir(ctx.worktree.path)
    ? ctx.worktree.path
    : ctx.project?.root ?? ctx.home;
  // Paths in the argv come from the plugin directory, never from the worktree (see argv.ts).
  const [command, ...rest] = await resolveCommand(plugin.dir, plugin.manifest.command, cwd);
  // In its own process group (setsid) so a timeout can kill the children a script started too.
  const grouped = await (setsid ??= onPath("setsid"));
  const argv = grouped ? ["setsid", command, ...rest, event] : [command, ...rest, event];
  const runId = crypto.randomUUID();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      env: { ...pluginEnv(plugin, event, ctx), KINFRA_RUN_ID: runId },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new KinfraError(`cannot run ${command}: ${e instanceof Error ? e.message : e}`, {
      hint: `Check "command" in ${join(plugin.dir, "plugin.toml")} and that the file is executable.`,
    });
  }
  const input: ExternalInput = {
    api: 1,
    event,
    project: ctx.project,
    worktree: ctx.worktree,
    slot: ctx.slot,
    ports: ctx.ports,
    env: ctx.env,
    config: ctx.pluginConfig,
    flags: ctx.flags,
    state: ctx.state,
  };
  const writer = child.stdin.getWriter();
  writer.write(new TextEncoder().encode(JSON.stringify(input))).then(() => writer.close()).catch(() => {});

  const kill = (signal: Deno.Signal) => {
    try {
      Deno.kill(grouped ? -child.pid : child.pid, signal);
    } catch { /* already gone */ }
    if (signal === "SIGKILL") killRun(runId);
  };
  let killedFor: string | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  const stop = (why: string) => {
    if (killedFor) return;
    killedFor = why;
    kill("SIGTERM");
    grace = setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS);
  };
  const timeoutMs = plugin.manifest.timeouts[event] ?? plugin.manifest.timeout;
  const timer = setTimeout(() => stop(`timed out after ${timeoutMs / 1000}s`), timeoutMs);
  const onAbort = () => stop("interrupted");
  ctx.signal.addEventListener("abort", onAbort);

  const stderrTail: string[] = [];
  const output = Promise.all([
    readCapped(child.stdout, MAX_STDOUT, () => stop("printed more than 1 MiB on stdout")),
    forEachLine(child.stderr, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      ctx.log.info(line);
    }),
  ]);
  const status = await child.status;
  clearTimeout(timer);
  clearTimeout(grace);
  ctx.signal.removeEventListener("abort", onAbort);
  // Whatever the plugin left running dies with the run; that also closes pipes it held open.
  await killRun(runId);
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    output,
    new Promise<undefined>((r) => drainTimer = setTimeout(() => r(undefined), KILL_GRACE_MS)),
  ]);
  clearTimeout(drainTimer);
  if (!drained) {
    throw new KinfraError("exited, but a process it started still holds its output open.", {
      details: stderrTail,
      hint: "A plugin must not leave processes behind.",
    });
  }
  const [stdout] = drained;

  if (killedFor) throw new KinfraError(`${killedFor}; the plugin was stopped.`, { details: stderrTail });
  if (status.code === 100) return undefined;
  if (status.code !== 0) throw new KinfraError(`exited with code ${status.code}.`, { details: stderrTail });
  return parseReply(stdout, event);
}

function pluginEnv(plugin: ExternalPlugin, event: string, ctx: HookContext): Record<string, string> {
  return {
    ...Deno.env.toObject(),
    ...Object.fromEntries(Object.entries(ctx.ports).map(([k, v]) => [k, String(v)])),
    KINFRA_API: "1",
    KINFRA_EVENT: event,
    KINFRA_PLUGIN_NAME: plugin.name,
    KINFRA_PLUGIN_DIR: plugin.dir,
    KINFRA_PROJECT: ctx.project?.name ?? "",
    KINFRA_WORKTREE: ctx.worktree?.path ?? "",
    KINFRA_SLOT: ctx.slot ? String(ctx.slot.id) : "",
    KINFRA_BIN: kinfraBin(ctx.home),
  };
}

/**
 * A path that runs this very kinfra: the compiled binary itself, or — under `deno run` — a small
 * shim in `<home>/bin/kinfra` that runs the same main module, so a plugin can call `$KINFRA_BIN`.
 */
export function kinfraBin(home: string): string {
  const exe = Deno.execPath();
  if (!/^deno(\.exe)?$/.test(basename(exe)) || !Deno.mainModule.startsWith("file:")) return exe;
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const shim = join(home, "bin", "kinfra");
  const text = `#!/bin/sh\nexec ${quote(exe)} run -A --quiet ${V8_FLAGS_ARG} ${
    quote(fromFileUrl(Deno.mainModule))
  } "$@"\n`;
  try {
    if (Deno.readTextFileSync(shim) === text) return shim;
  } catch { /* not written yet */ }
  Deno.mkdirSync(join(home, "bin"), { recursive: true });
  Deno.writeTextFileSync(`${shim}.${Deno.pid}.tmp`, text, { mode: 0o755 });
  Deno.renameSync(`${shim}.${Deno.pid}.tmp`, shim);
  return shim;
}

/**
 * Starts `kinfra <args…>` for this home in the background, in a session of its own and with no
 * terminal, and returns its pid: for work that outlives the command (the proxy, a warm refill).
 */
export function startDetachedKinfra(home: string, args: string[], cwd: string): number {
  const child = new Deno.Command(kinfraBin(home), {
    args,
    cwd,
    env: { KINFRA_HOME: home, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child.pid;
}

/** Checks a reply's shape: stdout is data, and a plugin that sends nonsense gets told what is wrong. */
function parseReply<E extends EventName>(stdout: string, event: E): EventMap[E] | undefined {
  if (stdout.trim() === "") return undefined;
  let reply: unknown;
  try {
    reply = JSON.parse(stdout);
  } catch {
    throw new KinfraError(
      `printed something that is not JSON on stdout: ${JSON.stringify(stdout.trim().slice(0, 80))}`,
      {
        hint: "A plugin's stdout must be empty or one JSON document; write logs to stderr.",
      },
    );
  }
  const bad = (why: string) => new KinfraError(`replied with invalid JSON for ${event}: ${why}`);
  if (typeof reply !== "object" || reply === null || Array.isArray(reply)) throw bad("expected an object");
  if (deeperThan(reply, MAX_DEPTH)) throw bad(`it nests deeper than ${MAX_DEPTH} levels`);
  const r = reply as Record<string, unknown>;
  const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (
    r.env !== undefined &&
    (!isMap(r.env) || Object.values(r.env as object).some((v) => typeof v !== "string"))
  ) {
    throw bad('"env" must be an object of strings');
  }
  if (r.compose !== undefined && !isMap(r.compose)) throw bad('"compose" must be an object');
  if (r.status !== undefined && !isMap(r.status)) throw bad('"status" must be an object');
  if (r.state !== undefined && !isMap(r.state)) throw bad('"state" must be an object');
  for (const key of ["messages", "lines"]) {
    const list = r[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((m) => typeof m !== "string"))) {
      throw bad(`"${key}" must be an array of strings`);
    }
  }
  if (r.veto !== undefined && typeof r.veto !== "string") throw bad('"veto" must be a string');
  if (r.checks !== undefined && !Array.isArray(r.checks)) throw bad('"checks" must be an array');
  return r as EventMap[E];
}

const MAX_DEPTH = 32;

/** True when a JSON value nests deeper than `max` levels (checked without recursion). */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

async function readCapped(
  stream: ReadableStream<Uint8Array>,
  max: number,
  onOverflow: () => void,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > max) {
      onOverflow();
      continue; // keep draining so the child is not blocked on a full pipe
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(
    new Uint8Array(await new Blob(chunks.map((c) => new Uint8Array(c))).arrayBuffer()),
  );
}

async function forEachLine(stream: ReadableStream<Uint8Array>, fn: (line: string) => void): Promise<void> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (buffered + text).split("\n");
    buffered = lines.pop()!;
    lines.forEach(fn);
  }
  if (buffered) fn(buffered);
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
