/**
 * A sandbox's stable names and checkout as commands show them (`status`, `impl`, `up`, `worktrees`,
 * the dashboard): `url` (the primary name), `urls` (one per HTTP port variable), `checked_out`.
 */
import type { Context } from "../context.ts";
import { readRegistry, type SlotEntry, type WorktreeEntry } from "../slots/registry.ts";
import { canonicalPorts, isCheckedOut } from "./checkouts.ts";
import { sandboxUrls } from "./names.ts";

export interface SandboxView {
  url: string | null;
  urls: Record<string, string>;
  checked_out: boolean;
}

/** The view of a worktree (no slot: no URLs, still possibly checked out). */
export async function sandboxView(
  ctx: Context,
  entry: WorktreeEntry,
  slot: SlotEntry | undefined,
): Promise<SandboxView> {
  const registry = await readRegistry(ctx.home);
  const checked_out = isCheckedOut(registry, entry.path);
  if (!slot || entry.kind !== "impl") return { url: null, urls: {}, checked_out };
  return { ...sandboxUrls(slot, entry, (await ctx.globalConfig()).proxy.port), checked_out };
}

/** Text lines: the names, and the canonical ports when checked out. */
export function viewLines(view: SandboxView, slot: SlotEntry | undefined): string[] {
  const lines = view.url ? [`  url ${view.url}`] : [];
  for (const [variable, url] of Object.entries(view.urls)) {
    if (url !== view.url) lines.push(`  url ${url} (${variable})`);
  }
  if (view.checked_out) {
    const ports = slot ? canonicalPorts(slot) : [];
    lines.push(
      ports.length
        ? `  checked out: ${
          ports.map((p) => `127.0.0.1:${p.port}${p.protocol === "udp" ? "/udp" : ""} → ${p.target}`).join(
            ", ",
          )
        }`
        : "  checked out (its canonical ports open when the sandbox is up)",
    );
  }
  return lines;
}
