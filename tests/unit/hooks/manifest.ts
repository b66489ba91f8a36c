/** core/hooks/manifest.ts: plugin.toml read, defaults filled, and one line saying what is wrong. */
import assert from "node:assert/strict";
import { EVENTS, type Manifest, parseManifest } from "../../../core/hooks/manifest.ts";
import type { EventName } from "../../../core/hooks/plugin_api.ts";

const BASE =
  'api = 1\nname = "seed"\nversion = "1.0.0"\ncommand = ["./bin/hook"]\nevents = ["sandbox.ready"]\n';
const manifest = (extra = "", text = BASE) => parseManifest(text + extra, "seed");
const ok = (extra = "") => manifest(extra) as Manifest;

Deno.test("parseManifest() reads a minimal manifest and fills the defaults", () => {
  assert.deepEqual(ok(), {
    api: 1,
    name: "seed",
    version: "1.0.0",
    description: "",
    command: ["./bin/hook"],
    events: ["sandbox.ready"],
    order: 50,
    timeout: 30_000,
    timeouts: {},
  });
});

Deno.test("parseManifest() reads timeouts as seconds or duration strings, in milliseconds", () => {
  const m = ok('timeout = 5\n[timeouts]\n"sandbox.ready" = "2m"\n');
  assert.deepEqual([m.timeout, m.timeouts], [5000, { "sandbox.ready": 120_000 }]);
});

Deno.test("parseManifest() refuses a timeout above one hour", () => {
  assert.equal(
    manifest('timeout = "61m"\n'),
    'plugin.toml: timeout: must be a duration such as 30, "500ms", "30s" or "2m" (at most 1 hour)',
  );
});

Deno.test("parseManifest() accepts exactly one hour", () => {
  assert.equal(ok('timeout = "60m"\n').timeout, 3_600_000);
});

Deno.test("parseManifest() refuses an unreadable duration", () => {
  assert.match(manifest('timeout = "3x"\n') as string, /^plugin\.toml: timeout: must be a duration/);
});

Deno.test("parseManifest() refuses a protocol other than 1", () => {
  assert.equal(
    manifest("", BASE.replace("api = 1", "api = 2")),
    "plugin.toml: api: must be 1 (the only plugin protocol)",
  );
});

Deno.test("parseManifest() refuses a name other than the directory's", () => {
  assert.equal(
    parseManifest(BASE, "other"),
    'plugin.toml: name "seed" must equal its directory name "other"',
  );
});

Deno.test("parseManifest() refuses a name with capitals, stating the rule", () => {
  assert.equal(
    parseManifest(BASE.replace('"seed"', '"Seed"'), "Seed"),
    "plugin.toml: name: must match ^[a-z][a-z0-9-]{0,63}$",
  );
});

Deno.test("parseManifest() refuses an unknown event, listing the events", () => {
  const reason = manifest("", BASE.replace("sandbox.ready", "sandbox.readdy")) as string;
  assert.equal(reason, `plugin.toml: events.0: must be one of: ${EVENTS.join(", ")}`);
});

Deno.test("parseManifest() refuses an empty event list", () => {
  assert.equal(
    manifest("", BASE.replace('["sandbox.ready"]', "[]")),
    "plugin.toml: events: must list at least one event",
  );
});

Deno.test("parseManifest() refuses an empty command, with an example", () => {
  assert.equal(
    manifest("", BASE.replace('["./bin/hook"]', "[]")),
    'plugin.toml: command: must name the program to run, e.g. ["./bin/hook"]',
  );
});

Deno.test("parseManifest() refuses an order outside 0–100", () => {
  assert.equal(manifest("order = 101\n"), "plugin.toml: order: must be 0–100");
  assert.equal(manifest("order = -1\n"), "plugin.toml: order: must be 0–100");
});

Deno.test("parseManifest() refuses an unknown key, naming it", () => {
  assert.equal(manifest("evnets = []\n"), 'plugin.toml: unknown key "evnets"');
});

Deno.test("parseManifest() refuses a missing field, naming it", () => {
  assert.match(manifest("", BASE.replace('version = "1.0.0"\n', "")) as string, /^plugin\.toml: version: /);
});

Deno.test("parseManifest() reports a TOML syntax error with its line and column", () => {
  assert.match(manifest("", "api = \n") as string, /^plugin\.toml:1:\d+: TOML syntax error$/);
});

/** Every event of EventMap: the type makes this list complete (a missing or unknown key does not compile). */
const EVERY_EVENT: Record<EventName, true> = {
  "worktree.created": true,
  "slot.claimed": true,
  "sandbox.prepare": true,
  "sandbox.start": true,
  "sandbox.ready": true,
  "worktree.ready": true,
  "worktree.removing": true,
  "sandbox.stop": true,
  "slot.released": true,
  "worktree.removed": true,
  "sandbox.purge": true,
  status: true,
  doctor: true,
  "runtime.scan": true,
  "sandbox.routes": true,
  "snapshot.save": true,
  "snapshot.list": true,
  "snapshot.remove": true,
  "sandbox.logs": true,
  "sandbox.restart": true,
};

Deno.test("EVENTS, which manifests may name, is every event of the plugin API once", () => {
  assert.deepEqual(EVENTS.toSorted(), Object.keys(EVERY_EVENT).sort());
});
