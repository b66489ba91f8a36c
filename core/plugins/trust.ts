/**
 * The trust store (`<home>/trust.json`): a plugin from a project directory runs only after
 * `kinfra plugins trust <name>` recorded the sha256 of its files; any change to them makes it
 * untrusted again (like `direnv allow`). Every file of the plugin directory is hashed, not only
 * the command: a script may source its neighbours.
 */
import { join, relative } from "node:path";
import { writeFileAtomic } from "../atomic.ts";
import { KinfraError } from "../errors.ts";
import { withLock } from "../lock.ts";
import { ensureHome, type HomePaths } from "../paths.ts";

interface TrustStore {
  version: 1;
  plugins: Record<string, { name: string; sha256: string; trusted_at: string }>;
}

/** sha256 over every file's relative path and content, in sorted order (`.git` skipped). */
export async function hashPluginDir(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name === ".git") continue;
      const path = join(d, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.isFile) files.push(path);
    }
  };
  await walk(dir);
  const parts: BlobPart[] = [];
  const enc = new TextEncoder();
  for (const file of files.sort()) {
    const content = new Uint8Array(await Deno.readFile(file));
    parts.push(enc.encode(`${relative(dir, file)}\0${content.length}\0`), content);
  }
  const digest = await crypto.subtle.digest("SHA-256", await new Blob(parts).arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readStore(home: HomePaths): Promise<TrustStore> {
  try {
    const data = JSON.parse(await Deno.readTextFile(home.trust));
    if (data?.version !== 1 || typeof data.plugins !== "object") throw new Error("unexpected shape");
    return data;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { version: 1, plugins: {} };
    throw new KinfraError(
      `The trust store "${home.trust}" is unreadable: ${e instanceof Error ? e.message : e}`,
      {
        hint: "Move it aside and trust your plugins again with `kinfra plugins trust <name>`.",
      },
    );
  }
}

export type TrustState = "trusted" | "untrusted" | "changed";

/** Whether the plugin in `dir` is trusted as it is now. */
export async function trustState(home: HomePaths, dir: string): Promise<TrustState> {
  const entry = (await readStore(home)).plugins[dir];
  if (!entry) return "untrusted";
  return entry.sha256 === await hashPluginDir(dir) ? "trusted" : "changed";
}

/** Records (or, with `trusted = false`, removes) trust in the plugin in `dir`. */
export async function setTrust(
  home: HomePaths,
  dir: string,
  name: string,
  trusted: boolean,
  now: Date,
): Promise<string> {
  await ensureHome(home);
  const sha256 = await hashPluginDir(dir);
  await withLock(join(home.root, "trust.lock"), async () => {
    const store = await readStore(home);
    if (trusted) store.plugins[dir] = { name, sha256, trusted_at: now.toISOString() };
    else delete store.plugins[dir];
    await writeFileAtomic(home.trust, JSON.stringify(store, null, 2) + "\n");
  });
  return sha256;
}
