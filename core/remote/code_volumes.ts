/**
 * Which directories of the worktree a sandbox on a tcp:// host needs over there, and the volume
 * holding each: the code mounts of `[sandbox.mounts] code` and the compose file's own bind mounts
 * of worktree paths (as written, before Compose resolves them). A volume is mounted whole (engines
 * before 26 have no sub-path), so each directory gets its own; a bind of a single file cannot be a
 * volume, and is refused with the way out.
 */
import { basename, dirname, join, normalize } from "../io/path.ts";
import { sha256Hex } from "../io/hash.ts";
import { usageError } from "../errors.ts";
import { parseMount } from "../project/config/mounts.ts";
import type { ComposeSources } from "../compose/file.ts";

/** The name a worktree's copy goes by on a tcp:// host; its volumes start with it. */
export async function volumeCopyName(homeId: string, worktree: string): Promise<string> {
  const dir = basename(worktree).replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40);
  return `kinfra-code-${homeId.slice(0, 8)}-${dir}-${(await sha256Hex(worktree)).slice(0, 8)}`;
}

/** A worktree-relative path in one spelling: no "./", no trailing "/", "." for the root. */
export const sourceKey = (path: string) => normalize(path).replace(/(.)\/+$/, "$1").replace(/^\.\/$/, ".");

/** The worktree-relative directories (`.` for the root) that code mounts and compose binds use. */
export function codeSources(codeMounts: string[], compose: ComposeSources): string[] {
  const found = new Set<string>();
  for (const spec of codeMounts) {
    const m = parseMount(spec);
    if (typeof m !== "string") found.add(sourceKey(m.host));
  }
  for (const [file, value] of Object.entries(compose.values)) {
    const services = (value.services ?? {}) as Record<string, { volumes?: unknown[] } | null>;
    for (const body of Object.values(services)) {
      for (const v of body?.volumes ?? []) {
        const source = typeof v === "string"
          ? v.split(":").length > 1 ? v.split(":")[0] : undefined
          : (v as { type?: string; source?: unknown })?.type === "bind"
          ? (v as { source?: unknown }).source
          : undefined;
        // A named volume, an absolute or ~ path, or a value from the environment: not the worktree's.
        if (typeof source !== "string" || !/^\.\.?(\/|$)/.test(source) || source.includes("$")) continue;
        const rel = sourceKey(join(dirname(file), source));
        if (rel !== ".." && !rel.startsWith("../")) found.add(rel);
      }
    }
  }
  return [...found].sort();
}

/** Each source's volume; a source that is a file here is refused (a volume is a directory). */
export async function codeVolumes(
  copy: string,
  worktree: string,
  sources: string[],
  host: string,
): Promise<Record<string, string>> {
  const volumes: Record<string, string> = {};
  for (const source of sources) {
    const info = await Deno.stat(join(worktree, source)).catch(() => undefined);
    if (info && !info.isDirectory) {
      throw usageError(
        `The sandbox mounts the file "${source}" of the worktree; on host "${host}" (tcp://) the code is fed into volumes, which hold directories only.`,
        "Mount its directory instead, or run the sandbox on an ssh:// host (`kinfra hosts add`).",
      );
    }
    volumes[source] = `${copy}-${(await sha256Hex(source)).slice(0, 8)}`;
  }
  return volumes;
}
