/** The registry's shape, checked on every read (core/slots/registry.ts refuses a file that is not). */

// The shape check is written out by hand: it runs on every command, and zod would double start-up time.
const SLOT_FIELDS = {
  slot_id: "number",
  project: "string",
  worktree_path: "string",
  slot_dir: "string",
  compose_file_copy: "string",
  ports: "object",
  claimed_at: "string",
  status: "string",
};
const WORKTREE_FIELDS = {
  path: "string",
  kind: "string",
  project: "string",
  project_root: "string",
  feature: "string",
  branch: "string",
  base: "string",
  created_at: "string",
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// The same fields again as plain property reads: this runs cold on every command, once per entry,
// and is several times faster than looking the fields up by name (~1 ms at 500 worktrees). Only
// when an entry fails it are the tables above walked, to name the field.
const slotOk = (e: Record<string, unknown>) =>
  typeof e.slot_id === "number" && typeof e.project === "string" && typeof e.worktree_path === "string" &&
  typeof e.slot_dir === "string" && typeof e.compose_file_copy === "string" && typeof e.ports === "object" &&
  e.ports !== null && typeof e.claimed_at === "string" && typeof e.status === "string";
const worktreeOk = (e: Record<string, unknown>) =>
  typeof e.path === "string" && typeof e.kind === "string" && typeof e.project === "string" &&
  typeof e.project_root === "string" && typeof e.feature === "string" && typeof e.branch === "string" &&
  typeof e.base === "string" && typeof e.created_at === "string";
const SECTIONS = [
  ["slots", slotOk, Object.entries(SLOT_FIELDS)],
  ["worktrees", worktreeOk, Object.entries(WORKTREE_FIELDS)],
] as const;

/** The first problem with a parsed registry document, as "key.path: problem", or undefined. */
export function shapeProblem(data: unknown): string | undefined {
  if (!isObject(data)) return "(top level): expected an object";
  if (data.version !== 1) return `version: expected 1, got ${JSON.stringify(data.version)}`;
  for (const [section, ok, fields] of SECTIONS) {
    const entries = data[section] ?? {};
    if (!isObject(entries)) return `${section}: expected an object`;
    for (const key in entries) {
      const entry = entries[key];
      if (!isObject(entry)) return `${section}.${key}: expected an object`;
      if (ok(entry)) continue;
      for (const [field, type] of fields) {
        const actual = entry[field] === null ? "null" : typeof entry[field]; // typeof null is "object"
        if (actual !== type) {
          const article = type === "object" ? "an" : "a";
          return `${section}.${key}.${field}: expected ${article} ${type}, got ${
            JSON.stringify(entry[field])
          }`;
        }
      }
    }
  }
  const checkouts = data.checkouts ?? {};
  if (!isObject(checkouts)) return "checkouts: expected an object";
  for (const key in checkouts) {
    if (typeof checkouts[key] !== "string") return `checkouts.${key}: expected a worktree path`;
  }
  return undefined;
}
