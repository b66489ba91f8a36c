/** core/io/home.ts's existingSync: the same answer as existsSync on each path, from parent listings. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existingSync, existsSync } from "../../../core/io/home.ts";

Deno.test("existingSync() agrees with existsSync: files, directories, dangling links, missing and odd parents", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(join(dir, "a/wt1"), { recursive: true });
    await Deno.writeTextFile(join(dir, "a/file"), "x");
    await Deno.symlink(join(dir, "nowhere"), join(dir, "a/dangling"));
    const paths = [
      ...["wt1", "file", "dangling", "gone", "WT1"].map((n) => join(dir, "a", n)),
      join(dir, "missing-parent/wt"),
      join(dir, "a/file/below-a-file"),
      join(dir, "a/wt1/"),
      "/",
      dir,
    ];
    const expected = new Set(paths.filter(existsSync));
    assert.deepEqual(existingSync(paths), expected);
    assert.deepEqual(
      [...expected].sort(),
      [dir, join(dir, "a/dangling"), join(dir, "a/file"), join(dir, "a/wt1"), join(dir, "a/wt1/"), "/"]
        .sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
