/**
 * `kinfra agent-hook claude-code install|uninstall`: kinfra's WorktreeCreate/WorktreeRemove hooks in
 * a Claude Code settings file (the project's or, with `--user`, the user's). The hooks themselves
 * are claude_create.ts and claude_remove.ts.
 */
import { dirname, join } from "../../io/path.ts";
import type { Context } from "../../context.ts";
import { usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { installHooks, uninstallHooks } from "./claude_settings.ts";
import { hookEntries, hookTimeouts } from "./claude_worktree.ts";

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
