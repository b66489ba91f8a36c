/** The message sent to a new session: placeholders, and finding the milestone's file. */
import { type HookContext, join, relative } from "../../core/hooks/plugin_api.ts";

const SKIP = new Set([".git", "node_modules", "vendor", "dist", "build", ".venv"]);

/**
 * Finds a Markdown file describing the milestone: a name containing the milestone (e.g. `M1`),
 * preferring paths that also mention the feature; searched four levels deep.
 */
export async function findMilestoneFile(
  root: string,
  feature: string,
  milestone?: string,
): Promise<string | undefined> {
  if (!milestone) return undefined;
  const hits: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > 4) return;
    for await (const e of Deno.readDir(dir)) {
      if (SKIP.has(e.name)) continue;
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path, depth + 1);
      else if (
        e.name.toLowerCase().endsWith(".md") && e.name.toLowerCase().includes(milestone.toLowerCase())
      ) hits.push(path);
    }
  };
  await walk(root, 0).catch(() => {});
  const rel = hits.map((h) => relative(root, h)).sort();
  return rel.find((p) => p.toLowerCase().includes(feature.toLowerCase())) ?? rel[0];
}

/** Fills `{project}`, `{feature}`, `{milestone}`, `{worktree}`, `{branch}`, `{milestone_file}`, `{/milestone}`. */
export function renderMessage(
  template: string,
  ctx: HookContext<"worktree.ready">,
  milestoneFile?: string,
): string {
  const w = ctx.worktree!;
  const values: Record<string, string> = {
    project: ctx.project.name,
    feature: w.feature,
    milestone: w.milestone ?? "",
    "/milestone": w.milestone ? `/${w.milestone}` : "",
    worktree: w.path,
    branch: w.branch,
    milestone_file: milestoneFile ?? "(no milestone file found)",
  };
  return template.replace(/\{(\/?[a-z_]+)\}/g, (all, key: string) => values[key] ?? all);
}
