/** `kinfra spec <feature>`: a spec worktree on `spec/<feature>`, with `worktree.created` and `worktree.ready`. */
import type { Context } from "../context.ts";
import { messagesOf } from "../hooks/dispatch.ts";
import { validateName } from "../project/names.ts";
import type { CommandOutput } from "../io/output.ts";
import { Rollback } from "../hooks/rollback.ts";
import { createWorktree, discardWorktree, resolveBase } from "../project/worktrees.ts";
import { hookInput, saveState } from "../hooks/inputs.ts";

export interface SpecOptions {
  feature: string;
  base?: string;
  session?: boolean;
}

export async function spec(ctx: Context, options: SpecOptions): Promise<CommandOutput> {
  const feature = validateName("feature", options.feature);
  const project = await ctx.project();
  const base = await resolveBase(ctx, project, options.base);
  const hooks = await ctx.hooks(project);
  const entry = await createWorktree(ctx, project, { kind: "spec", feature }, base);

  // Nothing of the user's is in a fresh spec worktree yet, so a failing hook undoes all of it.
  const rollback = new Rollback(ctx.log);
  rollback.add("remove worktree", () => discardWorktree(ctx, project.gitRoot, entry));
  let input = hookInput(project, entry, { session: options.session });
  const messages: string[] = [];
  try {
    for (const event of ["worktree.created", "worktree.ready"] as const) {
      const done = await hooks.setup(event, input, rollback);
      messages.push(...messagesOf(done.replies));
      input = done.input;
    }
  } catch (e) {
    await rollback.run();
    throw e;
  }
  await saveState(ctx, entry.path, input);
  return {
    data: { kind: "spec", project: project.name, path: entry.path, branch: entry.branch, base, messages },
    text: [
      `${ctx.style.green("✓")} Spec worktree ready: ${ctx.style.bold(entry.path)}`,
      `  branch ${entry.branch} (from ${base})`,
      ...messages.map((m) => `  ${m}`),
      `  next: cd ${
        JSON.stringify(entry.path)
      } · kinfra impl ${feature}/M1 when the spec is done · kinfra done ${feature}`,
    ].join("\n"),
  };
}
