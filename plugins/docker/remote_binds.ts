/** The compose file's own bind mounts of worktree files, pointed at a remote host's copy of the worktree. */
type Mapping = Record<string, unknown>;

/**
 * On a remote host the worktree is not at its local path: the compose file's own bind mounts of
 * worktree files are pointed at the host's copy (same target, so Compose's merge replaces them).
 */
export function remapBinds(doc: Mapping, services: Record<string, Mapping>, worktree: string, copy: string) {
  for (const [name, body] of Object.entries((doc.services ?? {}) as Record<string, Mapping | null>)) {
    for (const v of (body?.volumes ?? []) as (Mapping | string)[]) {
      const bind = bindOf(v);
      if (!bind || (bind.source !== worktree && !bind.source.startsWith(`${worktree}/`))) continue;
      const own = (services[name].volumes as string[] | undefined) ?? [];
      if (own.some((o) => o.split(":")[1] === bind.target)) continue;
      services[name].volumes = [
        ...own,
        `${copy}${bind.source.slice(worktree.length)}:${bind.target}${bind.readOnly ? ":ro" : ""}`,
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
