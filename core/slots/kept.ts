/**
 * A sandbox stopped for being idle (`idle_stop`) keeps its slot, so `kinfra up` brings it back
 * there: no other claim takes it meanwhile.
 */
import type { Registry } from "./registry.ts";

/** Why slot `id` is not for this claim (kept for an idle-stopped worktree), or undefined. */
export function keptForIdle(registry: Registry, id: number, preferred?: number): string | undefined {
  if (id === preferred) return undefined; // its own worktree coming back
  const owner = Object.values(registry.worktrees).find((w) => w.idle_stopped?.slot === id);
  return owner && `kept for ${owner.path}, stopped while idle (\`kinfra up\` brings it back)`;
}
