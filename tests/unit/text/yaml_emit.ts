/**
 * core/text/yaml_emit.ts: what kinfra writes into slot directories reads back as the same data, in YAML 1.2
 * (the yaml library, Compose v2's Go reader agrees) and without the strings YAML 1.1 (PyYAML, Compose v1)
 * would take for something else.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { toYaml } from "../../../core/text/yaml_emit.ts";

/** Strings a plain scalar would turn into a boolean, null, number, time, alias, tag, comment… */
const TRICKY = [
  "yes",
  "No",
  "ON",
  "off",
  "y",
  "N",
  "~",
  "null",
  "true",
  "False",
  "0x1F",
  "1e3",
  "12:30",
  "8080:80",
  "0777",
  "1_000",
  "2001-12-14",
  ".inf",
  ".nan",
  "+1",
  "-",
  "- x",
  "#x",
  "a: b",
  "a #b",
  " lead",
  "trail ",
  "",
  "@x",
  "`x",
  "!x",
  "&x",
  "*x",
  "?x",
  "%x",
  "{x",
  "[x",
  "|x",
  ">x",
  "'x",
  '"x',
  "<<",
  "=",
  "é",
  "😀",
  "tab\there",
  "nl\nnl",
  "${VAR:-8080}:80",
  "$$HOME",
  "back\\slash",
  "\u0007",
];

Deno.test("toYaml() reads back as the same data, tricky strings, keys and nesting included", () => {
  const doc = {
    list: TRICKY,
    keys: Object.fromEntries(TRICKY.map((t, i) => [t, i])),
    numbers: [0, -1, 1.5, 1e21, -2e-7, 3],
    other: [true, false, null],
    nested: [{ a: { b: [1, { c: "d" }] }, e: "f" }, [], {}, [[1, [2]]], { g: [] }],
  };
  assert.deepEqual(parse(toYaml(doc)), doc);
  assert.deepEqual(parse(toYaml({})), {});
  assert.deepEqual(parse(toYaml([])), []);
});

Deno.test("toYaml() quotes what YAML 1.1 would read otherwise, and writes exponents with a dot", () => {
  const text = toYaml({ ports: ["8080:80"], env: { A: "on", B: "yes", C: "0777" }, big: 1e21, tiny: -2e-7 });
  for (const quoted of ['"8080:80"', '"on"', '"yes"', '"0777"']) assert.ok(text.includes(quoted), quoted);
  assert.match(text, /^big: 1\.0e\+21$/m);
  assert.match(text, /^tiny: -2\.0e-7$/m);
});

Deno.test("toYaml() writes block style: plain words as they are, one line per value, lists under their key", () => {
  assert.equal(
    toYaml({
      services: { web: { image: "busybox", ports: ["8081:80", { target: 80, published: "8082" }] } },
    }),
    [
      "services:",
      "  web:",
      "    image: busybox",
      "    ports:",
      '      - "8081:80"',
      "      - target: 80",
      '        published: "8082"',
      "",
    ].join("\n"),
  );
  assert.equal(toYaml({ a: `LONG=${"x".repeat(300)}` }).split("\n").length, 2, "never folded");
});
