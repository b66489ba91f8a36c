/**
 * What trust covers in a plugin directory (core/hooks/trust.ts hashPluginDir) and which files its
 * command may run (core/hooks/argv.ts resolveCommand), on real temp directories.
 */
import assert from "node:assert/strict";
import { resolveCommand } from "../../../core/hooks/argv.ts";
import { hashPluginDir } from "../../../core/hooks/trust.ts";
import { join } from "../../../core/io/path.ts";
import { writeFiles } from "../_files.ts";
import { kinfraErrorOf } from "../_usage.ts";

/** Runs `fn` in a temp dir holding `plugin/` (with `files`) and `cwd/`. */
async function withPlugin(
  files: Record<string, string>,
  fn: (plugin: string, cwd: string, root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await writeFiles(join(root, "plugin"), files);
    await Deno.mkdir(join(root, "cwd"));
    await fn(join(root, "plugin"), join(root, "cwd"), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const PLUGIN = { "plugin.toml": "api = 1\n", "bin/hook": "#!/bin/sh\n. ./lib.sh\n", "bin/lib.sh": "x=1\n" };

Deno.test("hashPluginDir() is the same for the same files", () =>
  withPlugin(PLUGIN, async (plugin) => {
    assert.equal(await hashPluginDir(plugin), await hashPluginDir(plugin));
    assert.match(await hashPluginDir(plugin), /^[0-9a-f]{64}$/);
  }));

Deno.test("hashPluginDir() changes when a file the command sources changes", () =>
  withPlugin(PLUGIN, async (plugin) => {
    const before = await hashPluginDir(plugin);
    await Deno.writeTextFile(join(plugin, "bin/lib.sh"), "x=2\n");
    assert.notEqual(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() changes when a file is renamed, its content the same", () =>
  withPlugin(PLUGIN, async (plugin) => {
    const before = await hashPluginDir(plugin);
    await Deno.rename(join(plugin, "bin/lib.sh"), join(plugin, "bin/lib2.sh"));
    assert.notEqual(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() changes when a file is added", () =>
  withPlugin(PLUGIN, async (plugin) => {
    const before = await hashPluginDir(plugin);
    await Deno.writeTextFile(join(plugin, "extra"), "");
    assert.notEqual(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() ignores the plugin's .git directory", () =>
  withPlugin(PLUGIN, async (plugin) => {
    const before = await hashPluginDir(plugin);
    await writeFiles(plugin, { ".git/HEAD": "ref: refs/heads/main\n" });
    assert.equal(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() follows a symlink out of the plugin: editing its target changes the hash", () =>
  withPlugin(PLUGIN, async (plugin, _, root) => {
    await Deno.writeTextFile(join(root, "shared.sh"), "a\n");
    await Deno.symlink(join(root, "shared.sh"), join(plugin, "bin/shared.sh"));
    const before = await hashPluginDir(plugin);
    await Deno.writeTextFile(join(root, "shared.sh"), "b\n");
    assert.notEqual(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() changes when a symlink is re-pointed at an identical file", () =>
  withPlugin(PLUGIN, async (plugin, _, root) => {
    await writeFiles(root, { "one.sh": "same\n", "two.sh": "same\n" });
    await Deno.symlink(join(root, "one.sh"), join(plugin, "link.sh"));
    const before = await hashPluginDir(plugin);
    await Deno.remove(join(plugin, "link.sh"));
    await Deno.symlink(join(root, "two.sh"), join(plugin, "link.sh"));
    assert.notEqual(await hashPluginDir(plugin), before);
  }));

Deno.test("hashPluginDir() survives a symlink cycle and a dangling link", () =>
  withPlugin(PLUGIN, async (plugin) => {
    await Deno.symlink(plugin, join(plugin, "bin/loop"));
    await Deno.symlink(join(plugin, "missing"), join(plugin, "dangling"));
    assert.match(await hashPluginDir(plugin), /^[0-9a-f]{64}$/);
  }));

Deno.test("resolveCommand() takes a relative path from the plugin directory, never the working directory", () =>
  withPlugin(PLUGIN, async (plugin, cwd) => {
    await writeFiles(cwd, { "bin/hook": "#!/bin/sh\necho evil\n" });
    assert.deepEqual(await resolveCommand(plugin, ["bin/hook"], cwd), [join(plugin, "bin/hook")]);
  }));

Deno.test("resolveCommand() leaves a bare program name to PATH and an absolute path as it is", () =>
  withPlugin(PLUGIN, async (plugin, cwd) => {
    assert.deepEqual(await resolveCommand(plugin, ["sh", "bin/hook"], cwd), ["sh", join(plugin, "bin/hook")]);
    assert.deepEqual(await resolveCommand(plugin, ["/bin/sh", "-e", "bin/hook"], cwd), [
      "/bin/sh",
      "-e",
      join(plugin, "bin/hook"),
    ]);
  }));

Deno.test("resolveCommand() keeps a plain word argument that is no file anywhere", () =>
  withPlugin(PLUGIN, async (plugin, cwd) => {
    assert.deepEqual(await resolveCommand(plugin, ["sh", "bin/hook", "verbose"], cwd), [
      "sh",
      join(plugin, "bin/hook"),
      "verbose",
    ]);
  }));

Deno.test("resolveCommand() refuses an argument only the working directory has", () =>
  withPlugin(PLUGIN, async (plugin, cwd) => {
    await writeFiles(cwd, { "run.sh": "echo evil\n" });
    const e = await kinfraErrorOf(() => resolveCommand(plugin, ["sh", "run.sh"], cwd));
    assert.equal(
      e.message,
      'its command argument "run.sh" is not a file of the plugin, but would be read from the working directory; it was not run.',
    );
    assert.equal(e.hint, `Plugin commands may only run files inside ${plugin} (or absolute system paths).`);
  }));

Deno.test("resolveCommand() refuses a missing path with a slash, which would be looked up in the cwd", () =>
  withPlugin(PLUGIN, async (plugin, cwd) => {
    const e = await kinfraErrorOf(() => resolveCommand(plugin, ["bin/nothing"], cwd));
    assert.match(e.message, /^its command argument "bin\/nothing" is not a file of the plugin/);
  }));

Deno.test("resolveCommand() refuses a path that resolves outside the plugin directory", () =>
  withPlugin(PLUGIN, async (plugin, cwd, root) => {
    await writeFiles(root, { "outside.sh": "echo\n" });
    const e = await kinfraErrorOf(() => resolveCommand(plugin, ["sh", "../outside.sh"], cwd));
    assert.equal(
      e.message,
      `its command argument "../outside.sh" resolves to ${
        join(root, "outside.sh")
      }, outside the plugin directory; it was not run.`,
    );
  }));

Deno.test("resolveCommand() refuses a symlink inside the plugin that points outside it", () =>
  withPlugin(PLUGIN, async (plugin, cwd, root) => {
    await writeFiles(root, { "outside.sh": "echo\n" });
    await Deno.symlink(join(root, "outside.sh"), join(plugin, "bin/link.sh"));
    const e = await kinfraErrorOf(() => resolveCommand(plugin, ["bin/link.sh"], cwd));
    assert.match(e.message, /resolves to .*outside\.sh, outside the plugin directory/);
  }));
