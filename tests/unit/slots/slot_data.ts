/**
 * A slot's files and data: the slot directory's files and `.env.sandbox` (core/slots/slot_files.ts),
 * the compose argv the docker plugin builds from them, and which named volumes are a slot's own and
 * how the data plugin labels them (plugins/data/volumes.ts).
 */
import assert from "node:assert/strict";
import { parseEnv, renderEnv, SLOT_FILES, slotFiles, slotName } from "../../../core/slots/slot_files.ts";
import { slotArgs, slotCopies } from "../../../plugins/docker/containers.ts";
import { filters } from "../../../plugins/docker/engine.ts";
import {
  slotVolumeLabels,
  slotVolumes,
  SNAPSHOT_LABEL,
  snapshotLabels,
  snapshotVolume,
} from "../../../plugins/data/volumes.ts";
import { HOME_LABEL, SLOT_LABEL } from "../../../core/hooks/plugin_api.ts";
import { kinfraErrorOf } from "../_usage.ts";

Deno.test("slotName() is <project>-<n>", () => {
  assert.equal(slotName("shop", 2), "shop-2");
});

Deno.test("slotFiles() names the compose copy, the override and .env.sandbox inside the slot directory", () => {
  assert.deepEqual(slotFiles("/h/slots/shop-2"), {
    compose: `/h/slots/shop-2/${SLOT_FILES.compose}`,
    override: "/h/slots/shop-2/docker-compose.override.yml",
    env: "/h/slots/shop-2/.env.sandbox",
  });
});

Deno.test("renderEnv() writes one KEY=value line per variable, in order", () => {
  assert.equal(
    renderEnv({ COMPOSE_PROJECT_NAME: "shop-slot-2", WEB: "8082" }),
    "COMPOSE_PROJECT_NAME=shop-slot-2\nWEB=8082\n",
  );
});

Deno.test("renderEnv() turns a line break in a value into a space, so no line is added", () => {
  assert.equal(renderEnv({ A: "one\r\ntwo" }), "A=one  two\n");
});

Deno.test("parseEnv() reads back what renderEnv() wrote, '=' in values included", () => {
  const env = { COMPOSE_PROJECT_NAME: "shop-slot-2", URL: "postgres://u:p@db/x?a=b", EMPTY: "" };
  assert.deepEqual(parseEnv(renderEnv(env)), env);
});

Deno.test("parseEnv() skips lines without '='", () => {
  assert.deepEqual(parseEnv("# comment\nA=1\n\nnoise\n"), { A: "1" });
});

Deno.test("slotCopies() points teardown at the slot directory's own files and --env-file", () => {
  assert.deepEqual(slotCopies("/h/slots/shop-2", "shop-slot-2"), {
    composeFile: "/h/slots/shop-2/docker-compose.yml",
    override: "/h/slots/shop-2/docker-compose.override.yml",
    envFile: "/h/slots/shop-2/.env.sandbox",
    project: "shop-slot-2",
  });
});

Deno.test("slotArgs() builds compose's -f file -f override --env-file env -p project args", () => {
  assert.deepEqual(slotArgs(slotCopies("/s", "p-slot-1"), ["down"]), [
    "-f",
    "/s/docker-compose.yml",
    "-f",
    "/s/docker-compose.override.yml",
    "--env-file",
    "/s/.env.sandbox",
    "-p",
    "p-slot-1",
    "down",
  ]);
});

Deno.test("slotArgs() leaves out --env-file when there is none (the worktree's own .env is read)", () => {
  const files = { composeFile: "/w/c.yml", override: "/s/o.yml", project: "p-slot-1" };
  assert.deepEqual(slotArgs(files, ["up", "-d"]), [
    "-f",
    "/w/c.yml",
    "-f",
    "/s/o.yml",
    "-p",
    "p-slot-1",
    "up",
    "-d",
  ]);
});

Deno.test("filters() encodes a label filter as the Engine API's query parameter", () => {
  assert.equal(
    filters({ label: ["com.docker.compose.project=a b"] }),
    "filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Da%20b%22%5D%7D",
  );
});

const MODEL = {
  volumes: {
    db: null,
    cache: {},
    shared: { external: true },
    fixed: { name: "everyone" },
    named: { name: "shop-slot-2_named" },
  },
};

Deno.test("slotVolumes() takes each plain named volume as <project>_<key>", () => {
  const { volumes } = slotVolumes(MODEL, "shop-slot-2");
  assert.deepEqual(volumes, [
    { key: "db", name: "shop-slot-2_db" },
    { key: "cache", name: "shop-slot-2_cache" },
    { key: "named", name: "shop-slot-2_named" },
  ]);
});

Deno.test("slotVolumes() leaves external and fixed-name volumes alone, saying why", () => {
  assert.deepEqual(slotVolumes(MODEL, "shop-slot-2").skipped, [
    "volume shared is external: not the sandbox's, left alone",
    "volume fixed has a fixed name (everyone), shared by every slot: left alone",
  ]);
});

Deno.test("slotVolumes() limits itself to the volumes [sandbox.data] names", () => {
  const { volumes, skipped } = slotVolumes(MODEL, "p", ["cache", "fixed"]);
  assert.deepEqual(volumes, [{ key: "cache", name: "p_cache" }]);
  assert.equal(skipped.length, 1);
});

Deno.test("slotVolumes() refuses a [sandbox.data] volume the compose file does not declare, listing those it does", async () => {
  const e = await kinfraErrorOf(() => slotVolumes(MODEL, "p", ["dbb", "db"]));
  assert.equal(e.code, 2);
  assert.equal(e.message, '[sandbox.data] volumes names "dbb", not a named volume of the compose file.');
  assert.equal(e.hint, "Named volumes: db, cache, shared, fixed, named.");
});

Deno.test("slotVolumes() of a model without volumes is empty", () => {
  assert.deepEqual(slotVolumes({}, "p"), { volumes: [], skipped: [] });
  assert.deepEqual(slotVolumes(undefined, "p"), { volumes: [], skipped: [] });
});

const D = { homeId: "0123456789abcdef" } as Parameters<typeof slotVolumeLabels>[0];

Deno.test("slotVolumeLabels() carries compose's labels, this home's id and the slot's name", () => {
  assert.deepEqual(slotVolumeLabels(D, "shop-slot-2", "db", slotName("shop", 2)), {
    "com.docker.compose.project": "shop-slot-2",
    "com.docker.compose.volume": "db",
    [HOME_LABEL]: "0123456789abcdef",
    [SLOT_LABEL]: "shop-2",
  });
});

Deno.test("snapshotVolume() is unique per home, snapshot and volume key", () => {
  assert.equal(
    snapshotVolume("0123456789abcdef", "clean", "db"),
    "kinfra-snapshot-0123456789abcdef-clean-db",
  );
});

Deno.test("snapshotLabels() record the snapshot's name, volume, size, source, project and time", () => {
  const snapshot = { name: "clean", source: "/w/a", project: "shop-slot-1", created: "2026-01-01T00:00:00Z" };
  assert.deepEqual(snapshotLabels(D, snapshot, "db", 2048), {
    [HOME_LABEL]: "0123456789abcdef",
    [SNAPSHOT_LABEL]: "clean",
    [`${SNAPSHOT_LABEL}.volume`]: "db",
    [`${SNAPSHOT_LABEL}.bytes`]: "2048",
    [`${SNAPSHOT_LABEL}.source`]: "/w/a",
    [`${SNAPSHOT_LABEL}.project`]: "shop-slot-1",
    [`${SNAPSHOT_LABEL}.created`]: "2026-01-01T00:00:00Z",
  });
});
