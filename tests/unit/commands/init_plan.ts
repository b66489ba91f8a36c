/** core/commands/init/plan.ts portVariable: the port variable `kinfra init` writes for each published port. */
import assert from "node:assert/strict";
import { portVariable } from "../../../core/commands/init/plan.ts";

Deno.test("portVariable() is <PREFIX>_<SERVICE>_PORT in upper case", () => {
  assert.equal(portVariable("shop", "api", "8080", new Set()), "SHOP_API_PORT");
});

Deno.test("portVariable() turns other characters into single underscores and trims them", () => {
  assert.equal(portVariable("my-shop", "web.front--end_", "80", new Set()), "MY_SHOP_WEB_FRONT_END_PORT");
});

Deno.test("portVariable() adds the container port for a service's second port", () => {
  const taken = new Set<string>();
  portVariable("shop", "api", "8080", taken);
  assert.equal(portVariable("shop", "api", "9229/tcp", taken), "SHOP_API_PORT_9229");
});

Deno.test("portVariable() takes a range's first container port", () => {
  const taken = new Set(["SHOP_LS_PORT"]);
  assert.equal(portVariable("shop", "ls", "4510-4559", taken), "SHOP_LS_PORT_4510");
});

Deno.test("portVariable() numbers further clashes", () => {
  const taken = new Set(["SHOP_API_PORT", "SHOP_API_PORT_80"]);
  assert.equal(portVariable("shop", "api", "80", taken), "SHOP_API_PORT_80_2");
});

Deno.test("portVariable() records the name it gives in taken", () => {
  const taken = new Set<string>();
  portVariable("shop", "db", "5432", taken);
  assert.deepEqual([...taken], ["SHOP_DB_PORT"]);
});

Deno.test("portVariable() starts a name that would begin with a digit with '_'", () => {
  assert.equal(portVariable("1shop", "api", "80", new Set()), "_1SHOP_API_PORT");
});

Deno.test("portVariable() numbers a service's repeated container port _2, _3, … (not _2_3)", () => {
  const taken = new Set<string>();
  const names = ["8080", "8081", "8082", "8083"].map(() => portVariable("shop", "api", "80", taken));
  assert.deepEqual(names, ["SHOP_API_PORT", "SHOP_API_PORT_80", "SHOP_API_PORT_80_2", "SHOP_API_PORT_80_3"]);
});

Deno.test("portVariable() never writes a variable the schema reserves: a prefix docker gets an underscore", () => {
  assert.equal(portVariable("docker", "web", "80", new Set()), "_DOCKER_WEB_PORT");
  assert.equal(portVariable("ssh-gate", "web", "80", new Set()), "SSH_GATE_WEB_PORT");
});
