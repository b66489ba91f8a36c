/**
 * core/compose/scan.ts's cache: a compose text read before comes from `<home>/cache`, not from the YAML
 * parser (so `impl` of an unchanged project never loads it); a new text is parsed; what does not parse,
 * or would not come back from JSON as it was, is never kept.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { scanCompose } from "../../../core/compose/scan.ts";
import { kinfraErrorOf } from "../_usage.ts";

const TEXT = `services:\n  web:\n    image: x\n    ports:\n      - "\${WEB_PORT:-8080}:80"\n` +
  `  db:\n    image: y\n    ports:\n      - published: "5432"\n        target: 5432\n`;

async function withCache(body: (dir: string, files: () => Promise<string[]>) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir, async () => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const scan = (text: string, cache: string) => scanCompose("/nonexistent", "compose.yml", text, cache);
/** A scan's ports as data (as JSON has them), each with what its render gives for a new host part. */
const shown = async (text: string, cache: string): Promise<{ where: string; render: string }[]> =>
  JSON.parse(
    JSON.stringify((await scan(text, cache)).ports.map((p) => ({ ...p, render: p.render("9000") }))),
  );

Deno.test("scanCompose() gives the same ports from its cache as from the parser, renders included", async () => {
  await withCache(async (dir, files) => {
    const parsed = await shown(TEXT, dir);
    assert.equal((await files()).length, 1);
    assert.deepEqual(await shown(TEXT, dir), parsed);
    assert.deepEqual(parsed.map((p) => [p.where, p.render]), [
      ["services.web.ports[0]", '"9000:80"'],
      ["services.db.ports[0]", '"9000"'],
    ]);
  });
});

Deno.test("scanCompose() reads a text seen before from the cache, and parses a changed one", async () => {
  await withCache(async (dir, files) => {
    await scan(TEXT, dir);
    const [entry] = await files();
    const cached = JSON.parse(await Deno.readTextFile(join(dir, entry)));
    cached.ports[0].where = "from the cache";
    await Deno.writeTextFile(join(dir, entry), JSON.stringify(cached));
    assert.equal((await scan(TEXT, dir)).ports[0].where, "from the cache");
    const changed = TEXT.replace(":-8080}:80", ":-8081}:81");
    assert.equal((await scan(changed, dir)).ports[0].text, "${WEB_PORT:-8081}:81");
    assert.equal((await files()).length, 2);
  });
});

Deno.test("scanCompose() keeps nothing of a file that does not parse, or that JSON would change", async () => {
  await withCache(async (dir, files) => {
    for (let i = 0; i < 2; i++) {
      const e = await kinfraErrorOf(() => scan("services:\n  web: [\n", dir));
      assert.equal(e.code, 2);
      assert.match(e.message, /YAML syntax error/);
    }
    const infinite = `services:\n  web:\n    image: x\n    cpus: .inf\n`;
    const services = (await scan(infinite, dir)).values["compose.yml"].services as Record<
      string,
      { cpus: number }
    >;
    assert.equal(services.web.cpus, Infinity);
    assert.deepEqual(await files(), []);
  });
});
