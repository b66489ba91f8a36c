/**
 * Comments and docs point at what a reader can open (README sections, docs/ pages), never at
 * sections of a product contract or gap numbers that are not in the repository.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), "../.."));
const UNOPENABLE = /\bSPEC §\d|\bGAP-\d+/;

/** Every line of the shipped sources and docs that cites the contract by section or gap number. */
export async function unopenableRefs(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (/\.(ts|md|sh|tmpl|html)$/.test(entry.name) || dir.endsWith("bin")) {
        (await Deno.readTextFile(join(ROOT, path))).split("\n").forEach((line, i) => {
          if (UNOPENABLE.test(line)) {
            found.push(`${relative(ROOT, join(ROOT, path))}:${i + 1}: ${line.trim()}`);
          }
        });
      }
    }
  };
  for (const dir of ["core", "plugins", "docs", "templates", "scripts", "tests/fixtures/bin"]) {
    await walk(dir);
  }
  for (const file of ["README.md", "main.ts"]) {
    if (UNOPENABLE.test(await Deno.readTextFile(join(ROOT, file)))) found.push(file);
  }
  return found;
}

Deno.test("no source file or doc cites SPEC sections or GAP numbers", async () => {
  assert.deepEqual(await unopenableRefs(), []);
});

Deno.test("the citation check recognises both forms", () => {
  assert.ok(UNOPENABLE.test("Slot allocation (SPEC §6)."));
  assert.ok(UNOPENABLE.test("a warning, GAP-17)"));
  assert.ok(!UNOPENABLE.test('see docs/plugins.md, "Events"'));
});
