/** A slot's name, its directory's files, `.env.sandbox` both ways, and the health URL: one rule each. */
import assert from "node:assert/strict";
import { parseEnv, renderEnv, SLOT_FILES, slotFiles, slotName } from "../../core/slots/slot_files.ts";
import { healthUrl } from "../../core/slots/ports.ts";

Deno.test("slotName() joins project and slot id with a dash", () => {
  assert.equal(slotName("shop", 12), "shop-12");
});

Deno.test("slotFiles() gives the three files of a slot directory as absolute paths", () => {
  assert.deepEqual(slotFiles("/h/slots/shop-1"), {
    compose: "/h/slots/shop-1/docker-compose.yml",
    override: "/h/slots/shop-1/docker-compose.override.yml",
    env: "/h/slots/shop-1/.env.sandbox",
  });
  assert.deepEqual(Object.values(SLOT_FILES).sort(), [
    ".env.sandbox",
    "docker-compose.override.yml",
    "docker-compose.yml",
  ]);
});

Deno.test("renderEnv() writes one KEY=value a line, in the order given, ending in a newline", () => {
  assert.equal(
    renderEnv({ COMPOSE_PROJECT_NAME: "shop-slot-1", WEB_PORT: "8081" }),
    "COMPOSE_PROJECT_NAME=shop-slot-1\nWEB_PORT=8081\n",
  );
});

Deno.test("renderEnv() turns a line break inside a value into a space", () => {
  assert.equal(renderEnv({ A: "x\ny\rz" }), "A=x y z\n");
});

Deno.test("parseEnv() reads back what renderEnv() wrote, '=' inside values included", () => {
  const env = {
    COMPOSE_PROJECT_NAME: "p-slot-2",
    OTEL_RESOURCE_ATTRIBUTES: "service.namespace=p-slot-2",
    EMPTY: "",
  };
  assert.deepEqual(parseEnv(renderEnv(env)), env);
});

Deno.test("parseEnv() skips lines without '='", () => {
  assert.deepEqual(parseEnv("# comment\n\nA=1\n"), { A: "1" });
});

Deno.test("healthUrl() is the health port on loopback with the endpoint", () => {
  assert.equal(
    healthUrl({ WEB: 8081, API: 9001 }, { port_var: "API", endpoint: "/ready" }),
    "http://127.0.0.1:9001/ready",
  );
});
