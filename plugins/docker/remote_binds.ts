/** The compose file's own bind mounts of worktree files, pointed at a remote host's copy of the worktree. */
import { KinfraError, normalize } from "../../core/hooks/plugin_api.ts";

type Mapping = Record<string, unknown>;

/**
 * On a remote host the worktree is not at its local path: the compose file's own bind mounts of
 * worktree files are pointed at the host's copy (same target, so Compose's merge replaces them) —
 * a directory there (ssh hosts), or for tcp:// hosts the volume of that worktree directory, which
 * `copy` gives for a worktree-relative path ("." for the root).
 */
export function remapBinds(
  doc: Mapping,
  services: Record<string, Mapping>,
  worktree: string,
  copy: string | ((rel: string) => string),
) {
  for (const [name, body] of Object.entries((doc.services ?? {}) as Record<string, Mapping | null>)) {
    for (const v of (body?.volumes ?? []) as (Mapping | string)[]) {
      const bind = bindOf(v);
      if (!bind || (bind.source !== worktree && !bind.source.startsWith(`${worktree}/`))) continue;
      const own = (services[name].volumes as string[] | undefined) ?? [];
      if (own.some((o) => o.split(":")[1] === bind.target)) continue;
      services[name].volumes = [
        ...own,
        `${
          typeof copy === "string"
            ? copy + bind.source.slice(worktree.length)
            : copy(bind.source.slice(worktree.length + 1) || ".")
        }:${bind.target}${bind.readOnly ? ":ro" : ""}`,
      ];
    }
  }
}

/**
 * A bind mount of the resolved model: long syntax (Compose v2's `config`) or `/abs/src:/target[:mode]`
 * (Compose v1's), with an absolute source; undefined for volumes and anything else.
 */
function bindOf(v: Mapping | string): { source: string; target: string; readOnly: boolean } | undefined {
  if (typeof v === "string") {
    const [source, target, mode] = v.split(":");
    return source?.startsWith("/") && target
      ? { source, target, readOnly: /\bro\b/.test(mode ?? "") }
      : undefined;
  }
  if (v.type !== "bind" || typeof v.source !== "string" || typeof v.target !== "string") return undefined;
  return { source: v.source, target: v.target, readOnly: v.read_only === true };
}

/** The volume holding a worktree directory on a tcp:// host; a directory kinfra did not plan for is an error. */
export function codeVolume(volumes: Record<string, string>, rel: string, what: string): string {
  const key = normalize(rel).replace(/(.)\/+$/, "$1").replace(/^\.\/$/, ".");
  const volume = volumes[key];
  if (!volume) {
    throw new KinfraError(
      `The mount of "${what}" has no copy on the remote host: only the worktree directories named in [sandbox.mounts] code and the compose file's own bind mounts (./…) are fed there.`,
      { hint: "Name the directory in [sandbox.mounts] code, or bind it with a ./ path in the compose file." },
    );
  }
  return volume;
}
