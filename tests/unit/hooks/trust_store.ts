/**
 * The trust store (core/hooks/trust.ts) in a temp home: a project plugin is trusted only as it was
 * when trusted; and the atomic write it (and the registry) relies on (core/io/atomic.ts).
 */
import assert from "node:assert/strict";
import { setTrust, trustState } from "../../../core/hooks/trust.ts";
import { writeFileAtomic } from "../../../core/io/atomic.ts";
import { homePaths } from "../../../core/io/home.ts";
import { join } from "../../../core/io/path.ts";
import { writeFiles } from "../_files.ts";
import { kinfraErrorOf } from "../_usage.ts";

const NOW = new Date("2026-03-04T05:06:07Z");

async function withHome(fn: (home: ReturnType<typeof homePaths>, plugin: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? join(dir, "home") : undefined });
    const plugin = join(dir, "project/.devops-ai/plugins/seed");
    await writeFiles(plugin, { "plugin.toml": "api = 1\n", "bin/hook": "#!/bin/sh\n" });
    await fn(home, plugin);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("trustState() of a plugin never trusted is untrusted", () =>
  withHome(async (home, plugin) => {
    assert.equal(await trustState(home, plugin), "untrusted");
  }));

Deno.test("setTrust() records the plugin's name, hash and time; it is then trusted", () =>
  withHome(async (home, plugin) => {
    const sha = await setTrust(home, plugin, "seed", true, NOW);
    assert.equal(await trustState(home, plugin), "trusted");
    const store = JSON.parse(await Deno.readTextFile(home.trust));
    assert.deepEqual(store, {
      version: 1,
      plugins: { [plugin]: { name: "seed", sha256: sha, trusted_at: NOW.toISOString() } },
    });
  }));

Deno.test("trustState() calls a trusted plugin whose files changed 'changed'", () =>
  withHome(async (home, plugin) => {
    await setTrust(home, plugin, "seed", true, NOW);
    await Deno.writeTextFile(join(plugin, "bin/hook"), "#!/bin/sh\nrm -rf ~\n");
    assert.equal(await trustState(home, plugin), "changed");
  }));

Deno.test("setTrust(…, false) takes trust back", () =>
  withHome(async (home, plugin) => {
    await setTrust(home, plugin, "seed", true, NOW);
    await setTrust(home, plugin, "seed", false, NOW);
    assert.equal(await trustState(home, plugin), "untrusted");
  }));

Deno.test("trust is by directory: a plugin of the same name elsewhere is not trusted", () =>
  withHome(async (home, plugin) => {
    await setTrust(home, plugin, "seed", true, NOW);
    const twin = plugin.replace("/project/", "/other/");
    await writeFiles(twin, { "plugin.toml": "api = 1\n", "bin/hook": "#!/bin/sh\n" });
    assert.equal(await trustState(home, twin), "untrusted");
  }));

Deno.test("trustState() refuses an unreadable trust store, saying how to start over", () =>
  withHome(async (home, plugin) => {
    await Deno.mkdir(home.root, { recursive: true });
    await Deno.writeTextFile(home.trust, '{"version": 2}');
    const e = await kinfraErrorOf(() => trustState(home, plugin));
    assert.match(e.message, /^The trust store ".*trust\.json" is unreadable: unexpected shape$/);
    assert.equal(e.hint, "Move it aside and trust your plugins again with `kinfra plugins trust <name>`.");
  }));

Deno.test("writeFileAtomic() creates the parent directory and replaces the file whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a/b/registry.json");
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, "two");
    assert.equal(await Deno.readTextFile(path), "two");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() leaves no temp file beside the target, even when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(join(dir, "ok.json"), "{}");
    await Deno.mkdir(join(dir, "taken"));
    await Deno.writeTextFile(join(dir, "taken/x"), "");
    await assert.rejects(() => writeFileAtomic(join(dir, "taken"), "{}")); // a directory cannot be replaced by a file
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, ["ok.json", "taken"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() gives a new file the mode asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(join(dir, "hook"), "#!/bin/sh\n", 0o700);
    assert.equal((await Deno.stat(join(dir, "hook"))).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
