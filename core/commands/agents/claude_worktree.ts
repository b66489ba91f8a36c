/**
 * What a worktree kinfra makes for Claude Code carries with it. Claude reloads its settings from
 * the new worktree, so kinfra's WorktreeRemove hook must be there too, whatever level `install`
 * wrote it at (a project-level install is an untracked file of the main checkout, which the new
 * worktree does not have): `create` writes the hooks into the worktree's own
 * `.claude/settings.local.json` (Claude's per-user, never-committed settings file), git-ignored there
 * so the worktree stays clean. Also here: the hook entries and their timeouts.
 */
import { join } from "../../io/path.ts";
import type { Context } from "../../context.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { kinfraBin } from "../../hooks/external.ts";
import { type HookEntry, installHooks } from "./claude_settings.ts";

export const SETTINGS_FILE = ".claude/settings.local.json";
const IGNORE_FILE = ".claude/.gitignore";

/**
 * Seconds Claude Code waits for the hooks (its default, 600, is below what a sandbox may need):
 * `create` gets 600 for image pulls and builds and `compose up`, plus the health wait — the
 * project's, or the largest allowed (3600) when one install serves every project (`--user`).
 */
export function hookTimeouts(healthTimeout = 3600): Record<string, number> {
  return { create: 600 + healthTimeout, remove: 600 };
}

/** The hook entries of this kinfra: its own absolute path (the binary, or the home's shim). */
export const hookEntries =
  (ctx: Context, timeouts: Record<string, number>) => (action: string): HookEntry => ({
    command: `${kinfraBin(ctx.home.root)} agent-hook claude-code ${action}`,
    timeout: timeouts[action],
  });

/**
 * Writes kinfra's hooks into the worktree's `.claude/settings.local.json` (added to what is there,
 * say a copy `[worktree] copy` made) and, unless git ignores that file already, a `.claude/.gitignore`
 * that ignores it and itself. Returns the files kinfra is responsible for: `done` removes them and
 * never counts them as work. That is the settings file only when kinfra made it (now, or as a copy:
 * `owned`); one that was there already is the user's, and stays work. A settings file the project
 * tracks is left alone (with a warning).
 */
export async function writeWorktreeHooks(
  ctx: Context,
  worktree: string,
  hooks: (action: string) => HookEntry,
  owned: string[] = [],
): Promise<string[]> {
  const git = (...args: string[]) => ctx.exec("git", ["-C", worktree, ...args]);
  if ((await git("ls-files", "--error-unmatch", "--", SETTINGS_FILE)).success) {
    ctx.log.warn(
      `${SETTINGS_FILE} is tracked in this project, so kinfra did not add its hooks there; ` +
        "install them with `kinfra agent-hook claude-code install --user` for Claude's exit to reach kinfra.",
    );
    return [];
  }
  const file = join(worktree, SETTINGS_FILE);
  const before = await Deno.readTextFile(file).catch(() => undefined);
  const after = installHooks(before ?? "", file, hooks);
  await Deno.mkdir(join(worktree, ".claude"), { recursive: true });
  if (after !== before) await writeFileAtomic(file, after);
  const files = before === undefined || owned.includes(SETTINGS_FILE) ? [SETTINGS_FILE] : [];
  const ignored = (await git("check-ignore", "-q", "--", SETTINGS_FILE)).success;
  const ignoreFile = join(worktree, IGNORE_FILE);
  if (files.length && !ignored && !await Deno.lstat(ignoreFile).then(() => true, () => false)) {
    await writeFileAtomic(
      ignoreFile,
      "# Written by kinfra: Claude Code's settings for this worktree are not part of its work.\n" +
        "/.gitignore\n/settings.local.json\n",
    );
    files.push(IGNORE_FILE);
  }
  return files;
}
