/** core/slots/registry.ts: the registry's text read and its shape checked; a corrupt file is never replaced. */
import { worktreeEntry } from "../_entries.ts";
import assert from "node:assert/strict";
import { parseRegistry, readRegistry, updateRegistry } from "../../../core/slots/registry.ts";
import { homePaths } from "../../../core/io/home.ts";
import { writeFileAtomic } from "../../../core/io/atomic.ts";
import { kinfraErrorOf } from "../_usage.ts";

const SLOT = {
  slot_id: 1,
  project: "shop",
  worktree_path: "/w/a",
  slot_dir: "/s/shop-1",
  compose_file_copy: "/s/shop-1/docker-compose.yml",
  ports: { WEB: 8081 },
  claimed_at: "2026-01-01T00:00:00Z",
  status: "running",
};
const WORKTREE = worktreeEntry();

/** The reason parseRegistry gives for `doc` (after "is corrupt: "). */
async function problem(doc: unknown): Promise<string> {
  const e = await kinfraErrorOf(() => parseRegistry(JSON.stringify(doc), "/h/registry.json"));
  return e.message.replace('The registry "/h/registry.json" is corrupt: ', "");
}

Deno.test("parseRegistry() reads a well-formed registry as it is", () => {
  const doc = { version: 1, slots: { "1": SLOT }, worktrees: { "/w/a": WORKTREE } };
  assert.deepEqual(parseRegistry(JSON.stringify(doc), "r.json"), doc);
});

Deno.test("parseRegistry() fills in missing slots and worktrees sections", () => {
  assert.deepEqual(parseRegistry('{"version":1}', "r.json"), { version: 1, slots: {}, worktrees: {} });
});

Deno.test("parseRegistry() keeps fields it does not check, such as plugin state", () => {
  const entry = { ...WORKTREE, plugin_state: { "agent-deck": { session: "s1" } } };
  const registry = parseRegistry(JSON.stringify({ version: 1, worktrees: { "/w/a": entry } }), "r.json");
  assert.deepEqual(registry.worktrees["/w/a"].plugin_state, { "agent-deck": { session: "s1" } });
});

Deno.test("parseRegistry() calls text that is not JSON corrupt, with JSON's reason", async () => {
  const e = await kinfraErrorOf(() => parseRegistry("{", "/h/registry.json"));
  assert.match(e.message, /^The registry "\/h\/registry\.json" is corrupt: .*JSON/);
});

Deno.test("parseRegistry()'s refusal says it will not overwrite the file, and how to move it aside", async () => {
  const e = await kinfraErrorOf(() => parseRegistry("[]", "/h/registry.json"));
  assert.equal(e.code, 1);
  assert.equal(
    e.hint,
    'kinfra will not overwrite it. Repair it by hand, or move it aside (mv "/h/registry.json" ' +
      '"/h/registry.json.bak") and run `kinfra gc` to clean up what it described.',
  );
});

Deno.test("parseRegistry() refuses a top level that is not an object", async () => {
  assert.equal(await problem([]), "(top level): expected an object");
  assert.equal(await problem(null), "(top level): expected an object");
});

Deno.test("parseRegistry() refuses a version other than 1, quoting it", async () => {
  assert.equal(await problem({ version: 2 }), "version: expected 1, got 2");
  assert.equal(await problem({}), "version: expected 1, got undefined");
});

Deno.test("parseRegistry() refuses a section that is not an object", async () => {
  assert.equal(await problem({ version: 1, slots: [] }), "slots: expected an object");
  assert.equal(await problem({ version: 1, worktrees: "x" }), "worktrees: expected an object");
});

Deno.test("parseRegistry() refuses an entry that is not an object, naming its key", async () => {
  assert.equal(await problem({ version: 1, slots: { "1": 5 } }), "slots.1: expected an object");
});

Deno.test("parseRegistry() refuses a slot field of the wrong type, naming the path and the value", async () => {
  const slot = { ...SLOT, slot_id: "1" };
  assert.equal(
    await problem({ version: 1, slots: { "1": slot } }),
    'slots.1.slot_id: expected a number, got "1"',
  );
});

Deno.test("parseRegistry() refuses a slot missing a required field", async () => {
  const { status: _, ...slot } = SLOT;
  assert.equal(
    await problem({ version: 1, slots: { "1": slot } }),
    "slots.1.status: expected a string, got undefined",
  );
});

Deno.test("parseRegistry() refuses a worktree missing a required field", async () => {
  const { branch: _, ...entry } = WORKTREE;
  assert.equal(
    await problem({ version: 1, worktrees: { "/w/a": entry } }),
    "worktrees./w/a.branch: expected a string, got undefined",
  );
});

Deno.test("parseRegistry() refuses every required field missing or of another type, in slots and worktrees", async () => {
  const required = [
    { section: "slots", key: "1", entry: SLOT as Record<string, unknown>, fields: Object.keys(SLOT) },
    {
      section: "worktrees",
      key: "/w/a",
      entry: WORKTREE as Record<string, unknown>,
      fields: ["path", "kind", "project", "project_root", "feature", "branch", "base", "created_at"],
    },
  ];
  for (const { section, key, entry, fields } of required) {
    for (const field of fields) {
      const { [field]: _, ...missing } = entry;
      const wrong = { ...entry, [field]: typeof entry[field] === "number" ? "1" : 1 };
      const doc = (e: unknown) => ({ version: 1, [section]: { [key]: e } });
      assert.match(
        await problem(doc(missing)),
        new RegExp(`^${section}\\.${key}\\.${field}: .*got undefined$`),
      );
      assert.match(await problem(doc(wrong)), new RegExp(`^${section}\\.${key}\\.${field}: expected`));
    }
  }
});

Deno.test("parseRegistry() refuses ports that are not an object, with the right article", async () => {
  const slot = { ...SLOT, ports: 8081 };
  assert.equal(
    await problem({ version: 1, slots: { "1": slot } }),
    "slots.1.ports: expected an object, got 8081",
  );
});

Deno.test("parseRegistry() refuses ports that are null (every reader would crash on them)", async () => {
  const slot = { ...SLOT, ports: null };
  assert.equal(
    await problem({ version: 1, slots: { "1": slot } }),
    "slots.1.ports: expected an object, got null",
  );
});

Deno.test("readRegistry() shares one parse while the file is unchanged, and sees every new version", async () => {
  const root = await Deno.makeTempDir();
  try {
    const home = homePaths(new Map([["KINFRA_HOME", root]]));
    const doc = (path: string) => ({ version: 1, slots: {}, worktrees: { [path]: { ...WORKTREE, path } } });
    await updateRegistry(home, (r) => void Object.assign(r, doc("/w/a")));
    const first = await readRegistry(home);
    assert.equal(await readRegistry(home), first, "unchanged: the same frozen object");
    assert.ok(Object.isFrozen(first.worktrees));
    // Another process's write: the same size, at once (the same millisecond), by atomic rename.
    await writeFileAtomic(home.registry, JSON.stringify(doc("/w/b"), null, 2) + "\n");
    assert.deepEqual(Object.keys((await readRegistry(home)).worktrees), ["/w/b"]);
    // A hand edit in place (the same inode).
    await Deno.writeTextFile(home.registry, JSON.stringify(doc("/w/cc")));
    assert.deepEqual(Object.keys((await readRegistry(home)).worktrees), ["/w/cc"]);
    await Deno.remove(home.registry);
    assert.deepEqual(await readRegistry(home), { version: 1, slots: {}, worktrees: {} });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
