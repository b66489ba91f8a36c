/**
 * What an external plugin's `command` runs, resolved so that trust covers exactly it: every path in
 * the argv is taken from the plugin directory, never from the working directory (the worktree, whose
 * branch could carry a script of the same name). A path that resolves outside the plugin directory
 * is refused; absolute paths and bare program names (looked up on PATH) are the system's.
 */
import { isAbsolute, join, relative } from "../io/path.ts";
import { KinfraError } from "../errors.ts";

const isInside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
};

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a manifest's command against its plugin directory.
 *
 * @example
 * await resolveCommand("/p/.devops-ai/plugins/seed", ["sh", "bin/hook"], "/src/shop-impl-x-M1");
 * // ["sh", "/p/.devops-ai/plugins/seed/bin/hook"]
 */
export async function resolveCommand(dir: string, command: string[], cwd: string): Promise<string[]> {
  const root = await realPath(dir) ?? dir;
  const refuse = (arg: string, why: string) =>
    new KinfraError(`its command argument ${JSON.stringify(arg)} ${why}; it was not run.`, {
      hint: `Plugin commands may only run files inside ${dir} (or absolute system paths).`,
    });
  const resolved: string[] = [];
  for (const [i, arg] of command.entries()) {
    if (isAbsolute(arg) || arg.startsWith("-") || (i === 0 && !arg.includes("/"))) {
      resolved.push(arg);
      continue;
    }
    const inPlugin = await realPath(join(dir, arg));
    if (inPlugin) {
      if (!isInside(root, inPlugin)) {
        throw refuse(arg, `resolves to ${inPlugin}, outside the plugin directory`);
      }
      resolved.push(join(dir, arg));
    } else if (arg.includes("/") || await realPath(join(cwd, arg))) {
      throw refuse(arg, "is not a file of the plugin, but would be read from the working directory");
    } else resolved.push(arg);
  }
  return resolved;
}
