/**
 * The trust store (`<home>/trust.json`): a plugin from a project directory runs only after
 * `kinfra plugins trust <name>` recorded the sha256 of its files; any change to them makes it
 * untrusted again (like `direnv allow`). Every file of the plugin directory is hashed, not only
 * the command: a script may source its neighbours.
 */
import { join } from "../io/path.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { KinfraError } from "../errors.ts";
import { sha256Hex } from "../io/hash.ts";
import { withLock } from "../io/lock.ts";
import { ensureHome, type HomePaths } from "../io/home.ts";
import { compareText } from "../text/compare.ts";

interface TrustStore {
  version: 1;
  plugins: Record<string, { name: string; sha256: string; trusted_at: string }>;
}

/**
 * sha256 over everything the plugin directory holds, as it would execute: each file's relative path
 * and content, in sorted order (`.git` skipped). Symlinks are followed — to a file or a directory,
 * inside the plugin or outside it — and their targets hashed with where they point, so editing a
 * linked file, or re-pointing the link, makes the plugin untrusted again.
 */
export async function hashPluginDir(dir: string): Promise<string> {
  const parts: BlobPart[] = [];
  const enc = new TextEncoder();
  const seen = new Set<string>();
  const walk = async (d: string, shown: string) => {
    const real = await Deno.realPath(d);
    if (seen.has(real)) return; // a link cycle
    seen.add(real);
    const entries = (await Array.fromAsync(Deno.readDir(d))).sort((a, b) => compareText(a.name, b.name));
    for (const e of entries) {
      if (e.name === ".git") continue;
      const path = join(d, e.name);
      const name = shown ? `${shown}/${e.name}` : e.name;
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch {
        parts.push(enc.encode(`${name}\0dangling ${await Deno.readLink(path).catch(() => "")}\0`));
        continue;
      }
      if (e.isSymlink) parts.push(enc.encode(`${name}\0-> ${await Deno.realPath(path)}\0`));
      if (info.isDirectory) await walk(path, name);
      else if (info.isFile) {
        const content = await Deno.readFile(path);
        parts.push(enc.encode(`${name}\0${content.length}\0`), content);
      }
    }
  };
  await walk(dir, "");
  return await sha256Hex(await new Blob(parts).arrayBuffer());
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
