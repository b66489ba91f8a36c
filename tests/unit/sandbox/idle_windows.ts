/** core/sandbox/idle_windows.ts: what "no idle_stop anywhere" is remembered against. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { configStamp } from "../../../core/sandbox/idle_windows.ts";

Deno.test("configStamp() changes when the global config or a running project's infra.toml does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const global = join(dir, "config.toml");
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    await Deno.mkdir(join(a, ".devops-ai"), { recursive: true });
    const toml = join(a, ".devops-ai", "infra.toml");
    await Deno.writeTextFile(toml, '[project]\nname = "a"\n');
    const seen = new Set<string>();
    const stamp = (roots = [a]) => {
      const s = configStamp(global, roots);
      assert.equal(configStamp(global, roots), s, "the same files give the same stamp");
      assert.ok(!seen.has(s), `a change left the stamp as it was: ${s}`);
      seen.add(s);
    };
    stamp();
    await Deno.writeTextFile(toml, '[project]\nname = "a"\n[sandbox]\nidle_stop = "5m"\n');
    stamp();
    // The same size, edited later: its mtime tells.
    await Deno.utime(toml, new Date(), new Date(Date.now() + 5000));
    stamp();
    await Deno.writeTextFile(global, '[slots]\nidle_stop = "1h"\n');
    stamp();
    stamp([a, b]); // another project's sandbox runs
    stamp([]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
