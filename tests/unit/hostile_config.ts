/**
 * infra.toml files written to break kinfra — deep nesting, huge tables, odd Unicode, keys that
 * collide, values at every type boundary — are refused by the loader with a ConfigError (exit 2)
 * naming the key and what is wrong; the edge values that are fine stay accepted.
 */
import assert from "node:assert/strict";
import { parseInfraConfig } from "../../core/project/config/load.ts";
import { ConfigError } from "../../core/errors.ts";
import { HOSTILE } from "../hostile_config.ts";

for (const [what, text, said] of HOSTILE) {
  Deno.test(`infra.toml with ${what} is refused (exit 2) saying what is wrong`, () => {
    assert.throws(() => parseInfraConfig(text, "/p/.devops-ai/infra.toml", 20), (e) => {
      assert.ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
      assert.equal(e.code, 2);
      const all = [e.message, e.hint ?? "", ...e.details].join("\n");
      assert.match(all, said);
      assert.ok(e.details.length <= 11, `${e.details.length} detail lines`);
      return true;
    });
  });
}

Deno.test("edge values that are valid stay accepted: hex ports, width 1000, the highest base, a huge table, a BOM", () => {
  const head = `[project]\nname = "edge"\n`;
  const ok = (text: string) => parseInfraConfig(text, "i.toml", 20);
  assert.equal(ok(`${head}[sandbox.ports]\nWEB_PORT = 0x1F90\n`).sandbox?.ports.WEB_PORT, 8080);
  assert.deepEqual(ok(`${head}[sandbox.ports]\nR = { base = 1000, width = 1000 }\n`).sandbox?.ports.R, {
    base: 1000,
    width: 1000,
  });
  assert.equal(ok(`${head}[sandbox.ports]\nWEB_PORT = 65515\n`).sandbox?.ports.WEB_PORT, 65515);
  const many = Array.from({ length: 2000 }, (_, i) => `P${i}_PORT = ${1024 + i * 21}`).join("\n");
  assert.equal(Object.keys(ok(`${head}[sandbox.ports]\n${many}\n`).sandbox!.ports).length, 2000);
  assert.equal(ok(`\uFEFF${head}`).project.name, "edge");
  // A health check on a real key still works (the own-key check did not break it).
  assert.equal(
    ok(
      `${head}[sandbox.ports]\nWEB_PORT = 8080\n[sandbox.health]\nendpoint = "/health?x=1"\nport_var = "WEB_PORT"\n`,
    )
      .sandbox?.health?.port_var,
    "WEB_PORT",
  );
});
