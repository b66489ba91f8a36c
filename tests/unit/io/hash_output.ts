/** The pure helpers of core/io: hex and sha256, the table renderer, colour styling. */
import assert from "node:assert/strict";
import { hex, sha256Hex } from "../../../core/io/hash.ts";
import { makeStyle, table } from "../../../core/io/output.ts";

Deno.test("hex() writes two lower-case digits per byte, leading zeros kept", () => {
  assert.equal(hex(new Uint8Array([0, 10, 255])), "000aff");
});

Deno.test("sha256Hex() of text is the well-known digest", async () => {
  assert.equal(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

Deno.test("table() pads every column but the last to its widest cell, two spaces apart", () => {
  assert.equal(
    table(["NAME", "SLOT"], [["shop-impl-a", "1"], ["b", "12"]]),
    [
      "NAME         SLOT",
      "shop-impl-a  1",
      "b            12",
    ].join("\n"),
  );
});

Deno.test("table() leaves no trailing spaces after the last column", () => {
  const lines = table(["A", "LONGEST HEADER"], [["x", "y"]]).split("\n");
  assert.deepEqual(lines, ["A  LONGEST HEADER", "x  y"]);
});

Deno.test("table() treats a missing cell as empty", () => {
  assert.equal(table(["A", "B", "C"], [["long", "b"]]), "A     B  C\nlong  b");
});

Deno.test("table() pads a coloured cell by what shows, not by its escape codes", () => {
  const yellow = makeStyle(true).yellow;
  const lines = table(["AGENT", "PATH"], [[yellow("waiting ▲"), "/a"], ["running", "/b"]]).split("\n");
  const escape = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
  assert.deepEqual(lines.map((l) => l.replace(escape, "")), [
    "AGENT      PATH",
    "waiting ▲  /a",
    "running    /b",
  ]);
});

Deno.test("makeStyle() wraps text in ANSI codes when colour is on", () => {
  assert.equal(makeStyle(true).red("x"), "\x1b[31mx\x1b[39m");
  assert.equal(makeStyle(true).bold("x"), "\x1b[1mx\x1b[22m");
});

Deno.test("makeStyle() returns text unchanged when colour is off", () => {
  const style = makeStyle(false);
  assert.deepEqual([style.red("x"), style.dim("y"), style.cyan("z")], ["x", "y", "z"]);
});
