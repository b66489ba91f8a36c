/**
 * `kinfra agent-hook claude-code create|remove|install|uninstall`: kinfra as the worktree provider
 * of a coding-agent host. Claude Code runs `create` for `claude --worktree` (WorktreeCreate) with one
 * JSON object on stdin and takes the one line on stdout as the worktree's path; `remove`
 * (WorktreeRemove) tears it down with `done`'s guarantees. Progress goes to stderr; a failure is
 * one line on stderr and a non-zero exit, with nothing left half-made.
 */
import { basename, dirname, join } from "../../io/path.ts";
import type { Context } from "../../context.ts";
import { Exit, KinfraError, messageOf, usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { exists } from "../../io/home.ts";
import { hostProcess } from "../../io/host_process.ts";
import type { Project } from "../../project/project.ts";
import { type AgentRecord, readRegistry, updateRegistry } from "../../slots/registry.ts";
import { worktreeLayout } from "../../project/worktrees.ts";
import { installHooks, uninstallHooks } from "./claude_settings.ts";
import { hookEntries, hookTimeouts, writeWorktreeHooks } from "./claude_worktree.ts";

/** Reads exactly one JSON object from `stream`, without waiting for the end of it (hosts keep it open). */
export async function readOneObject(stream: ReadableStream<Uint8Array>, timeoutMs = 30_000) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let [depth, start, inString, escaped] = [0, -1, false, false];
  const timer = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const from = text.length;
      text += decoder.decode(value, { stream: true });
      for (let i = from; i < text.length; i++) {
        const c = text[i];
        if (inString) [escaped, inString] = [!escaped && c === "\\", escaped || c !== '"'];
        else if (c === '"') inString = true;
        else if (c === "{" || c === "[") {
          if (depth++ === 0 && start < 0) start = i;
        } else if ((c === "}" || c === "]") && --depth === 0) return parseObject(text.slice(start, i + 1));
      }
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  throw usageError(`stdin ended (or stayed silent ${timeoutMs / 1000} s) before one JSON object arrived.`);
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usageError(`stdin is not JSON: ${messageOf(e)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw usageError("stdin is not a JSON object.");
  }
  return value as Record<string, unknown>;
}

const field = (payload: Record<string, unknown>, ...names: string[]) => {
  for (const name of names) {
    if (typeof payload[name] === "string" && payload[name]) return payload[name] as string;
  }
  return undefined;
};

/** A host's proposed name as a kinfra feature name (letters, digits, '.', '_', '-'; 64 at most). */
export function featureName(proposed: string): string {
  const name = proposed.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/\.{2,}/g, ".").replace(
    /^[^A-Za-z0-9]+/,
    "",
  )
    .slice(0, 64).replace(/(\.lock|[.-])+$/, "");
  if (!name) throw usageError(`Cannot make a worktree name of ${JSON.stringify(proposed)}.`);
  return name;
}

/** The host's one-line failure: the message and its hint on one line of stderr, and the exit code. */
function failed(e: unknown): CommandOutput {
  const hint = e instanceof KinfraError && e.hint ? ` (${e.hint.replace(/\s*\n\s*/g, " ")})` : "";
  console.error(`kinfra: ${messageOf(e).replace(/\s*\n\s*/g, " ")}${hint}`);
  return {
    data: { error: messageOf(e) },
    text: "",
    exitCode: e instanceof KinfraError ? e.code : Exit.failed,
  };
}

async function useCwd(ctx: Context, cwd: string | undefined): Promise<void> {
  if (!cwd) return;
  try {
    ctx.cwd = await Deno.realPath(cwd);
  } catch {
    throw usageError(`The payload's cwd ${JSON.stringify(cwd)} is not a directory.`);
  }
}

/** What a host's payload says about its session (recorded with the worktree, shown by `worktrees`/`gc`). */
function agentRecord(payload: Record<string, unknown>, files: string[]): AgentRecord {
  const session_id = field(payload, "session_id");
  const transcript_path = field(payload, "transcript_path");
  const process = hostProcess();
  return {
    host: "claude-code",
    ...(session_id ? { session_id } : {}),
    ...(transcript_path ? { transcript_path } : {}),
    ...(process ? { process } : {}),
    files,
  };
}

/** Writes the hooks into the worktree and records the host with its registry entry. */
async function recordAgent(ctx: Context, project: Project, path: string, payload: Record<string, unknown>) {
  const health = project.config?.sandbox?.health?.timeout ?? 60;
  const files = await writeWorktreeHooks(ctx, path, hookEntries(ctx, hookTimeouts(health)));
  await updateRegistry(ctx.home, (reg) => {
    const entry = reg.worktrees[path];
    if (!entry) return;
    const kept = entry.agent?.files ?? [];
    entry.agent = agentRecord(payload, [...new Set([...kept, ...files])]);
  });
}

/**
 * `claude -w <name>` for a name kinfra made already: the same worktree again (its sandbox started
 * if it is stopped). An entry whose directory was removed behind kinfra's back is torn down first
 * (sandbox stopped, slot released, a branch with no commits of its own deleted) and made afresh.
 */
async function resume(ctx: Context, path: string): Promise<string | undefined> {
  const entry = (await readRegistry(ctx.home)).worktrees[path];
  if (!entry) return undefined;
  if (entry.state || !await exists(path)) {
    ctx.log.warn(
      `${path} is half-made, half-removed or gone; cleaning up what is left before making it again.`,
    );
    await (await import("../done.ts")).done(ctx, { name: path });
    return undefined;
  }
  ctx.log.step(`Resuming the kinfra worktree ${path}`);
  if (entry.kind === "impl" && (await ctx.project(entry.project_root)).config?.sandbox) {
    await (await import("../sandbox_cmds.ts")).up(ctx, { name: path });
  }
  return path;
}

export async function create(ctx: Context, stdin = Deno.stdin.readable): Promise<CommandOutput> {
  let made: string | undefined;
  try {
    const payload = await readOneObject(stdin);
    const proposed = field(payload, "name");
    if (!proposed) throw usageError('The payload has no "name" for the worktree.');
    await useCwd(ctx, field(payload, "cwd"));
    const project = await ctx.project();
    const agents = project.config?.agents;
    const kind = agents?.worktree ?? (project.config?.sandbox ? "impl" : "spec");
    const feature = featureName(proposed);
    const milestone = agents?.milestone ?? "M1";
    const target = worktreeLayout(project, { kind, feature, milestone }).path;
    let path = await resume(ctx, target);
    if (!path) {
      made = target;
      const output = kind === "impl"
        ? await (await import("../impl.ts")).impl(ctx, { target: `${feature}/${milestone}` })
        : await (await import("../spec.ts")).spec(ctx, { feature });
      path = (output.data as { path: string }).path;
    }
    await recordAgent(ctx, project, path, payload);
    return { data: { path, resumed: made === undefined }, text: path };
  } catch (e) {
    // The host gets no worktree: what this call made goes again (a sandbox failure keeps it otherwise).
    if (made && (await readRegistry(ctx.home)).worktrees[made]) {
      await (await import("../done.ts")).done(ctx, { name: made, force: true, deleteBranch: true }).catch(
        () => {},
      );
    }
    return failed(e);
  }
}

/** What a host user can do when a remove is refused: there is no --force to pass through a hook. */
function hookHint(e: unknown, name: string): unknown {
  if (!(e instanceof KinfraError) || e.code !== Exit.blocked) return e;
  const hint = /uncommitted/.test(e.message)
    ? `Commit or stash them, then run \`kinfra done ${name}\` (\`kinfra done ${name} --force\` discards them); ` +
      'or set `[agents] remove_dirty = "force"` in .devops-ai/infra.toml to let the agent\'s remove discard them.'
    : `Run \`kinfra done ${name}\` once that is settled (\`--force\` overrides).`;
  return new KinfraError(e.message, { code: e.code, hint, details: e.details, cause: e });
}

export async function remove(ctx: Context, stdin = Deno.stdin.readable): Promise<CommandOutput> {
  let path: string | undefined;
  try {
    const payload = await readOneObject(stdin);
    path = field(payload, "worktree_path");
    if (!path) throw usageError('The payload has no "worktree_path".');
    // Claude runs this hook inside the worktree it removes; kinfra works from the project beside it.
    await useCwd(ctx, field(payload, "cwd") ?? dirname(path));
    const entry = Object.values((await readRegistry(ctx.home)).worktrees).find((w) => w.path === path);
    const project = entry && await ctx.project(entry.project_root);
    const force = project?.config?.agents?.remove_dirty === "force";
    const output = await (await import("../done.ts")).done(ctx, { name: path, force });
    return { data: output.data, text: "", exitCode: output.exitCode };
  } catch (e) {
    return failed(path ? hookHint(e, basename(path)) : e);
  }
}

/** The settings file `install`/`uninstall` edit: the project's `.claude/settings.json` or the user's. */
async function settingsFile(ctx: Context, user?: boolean): Promise<string> {
  if (user) {
    const home = ctx.env.get("HOME");
    if (!home) throw usageError("HOME is not set, so there is no user settings file.");
    return join(home, ".claude", "settings.json");
  }
  return join((await ctx.project()).root, ".claude", "settings.json");
}

export async function install(
  ctx: Context,
  options: { user?: boolean; uninstall?: boolean },
): Promise<CommandOutput> {
  const file = await settingsFile(ctx, options.user);
  const before = await Deno.readTextFile(file).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  });
  const edit = options.uninstall ? uninstallHooks : installHooks;
  // One user-level install serves every project: its create timeout covers the longest health wait.
  const health = options.user ? undefined : (await ctx.project()).config?.sandbox?.health?.timeout ?? 60;
  const after = edit(before, file, hookEntries(ctx, hookTimeouts(health)));
  if (after !== before) {
    await Deno.mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, after);
  }
  const verb = options.uninstall ? "removed from" : "added to";
  return {
    data: { file, changed: after !== before, installed: !options.uninstall },
    text: after === before
      ? `Nothing to do: ${file} ${options.uninstall ? "has no kinfra hooks" : "has kinfra's hooks already"}.`
      : `${ctx.style.green("✓")} WorktreeCreate and WorktreeRemove hooks ${verb} ${file}` +
        (options.uninstall
          ? ""
          : "\n  `claude --worktree <name>` now gets a kinfra worktree (and its sandbox)."),
  };
}
