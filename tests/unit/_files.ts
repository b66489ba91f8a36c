/** Shared by the unit tests: writing a tree of files (without node:path, which costs every test file its start-up). */
import { dirname, join } from "../../core/io/path.ts";

/** Writes each `path: content` of `files` under `root`, creating directories as needed. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, content);
  }
}
