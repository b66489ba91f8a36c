/**
 * `kinfra skill install [--user|--project]`: installs the kworktree Claude Code skill into
 * `~/.claude/skills/kworktree/` or `<project>/.claude/skills/kworktree/`. A different existing file
 * is not overwritten without `--force`.
 */
import { join } from "../io/path.ts";
import skill from "../../templates/skill/kworktree/SKILL.md" with { type: "text" };
import { writeFileAtomic } from "../io/atomic.ts";
import type { Context } from "../context.ts";
import { blockedError, usageError } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";

export interface SkillOptions {
  user?: boolean;
  project?: boolean;
  force?: boolean;
}

export async function install(ctx: Context, options: SkillOptions): Promise<CommandOutput> {
  if (options.user && options.project) throw usageError("Choose one of --user and --project.");
  const base = options.project ? (await ctx.project()).root : ctx.env.get("HOME");
  if (!base) throw usageError("HOME is not set; use --project or set HOME.");
  const path = join(base, ".claude", "skills", "kworktree", "SKILL.md");
  const current = await Deno.readTextFile(path).catch(() => undefined);
  if (current !== undefined && current !== skill && !options.force) {
    throw blockedError(
      `${path} exists and differs from kinfra's skill; nothing was written.`,
      "Pass --force to replace it.",
    );
  }
  if (current !== skill) await writeFileAtomic(path, skill);
  return {
    data: { path, scope: options.project ? "project" : "user", changed: current !== skill },
    text: `${ctx.style.green("✓")} kworktree skill ${
      current === skill ? "already up to date" : "installed"
    }: ${path}`,
  };
}
