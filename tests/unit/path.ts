/** core/io/path.ts behaves as node:path (posix) on the cases kinfra meets, and the odd ones. */
import assert from "node:assert/strict";
import * as node from "node:path";
import { fileURLToPath } from "node:url";
import * as ours from "../../core/io/path.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "/a",
  "/a/",
  "/a//b/",
  "a/b/../c",
  "../a/./b",
  "/../a",
  "a/../..",
  "./a/b/",
  "/tmp/x/.devops-ai/infra.toml",
  "../../shared/../x",
  "a/b/c/../../..",
];

Deno.test("path: normalize, dirname, basename, isAbsolute agree with node:path", () => {
  for (const p of PATHS) {
    if (p !== "") assert.equal(ours.normalize(p), node.normalize(p), `normalize(${p})`);
    assert.equal(ours.dirname(p), node.dirname(p), `dirname(${p})`);
    assert.equal(ours.basename(p), node.basename(p), `basename(${p})`);
    assert.equal(ours.basename(p, ".toml"), node.basename(p, ".toml"), `basename(${p}, .toml)`);
    assert.equal(ours.isAbsolute(p), node.isAbsolute(p), `isAbsolute(${p})`);
  }
});

Deno.test("path: join, resolve and relative agree with node:path", () => {
  for (const a of PATHS) {
    for (const b of PATHS) {
      assert.equal(ours.join(a, b), node.join(a, b), `join(${a}, ${b})`);
      assert.equal(ours.resolve(a, b), node.resolve(a, b), `resolve(${a}, ${b})`);
      assert.equal(ours.relative(a, b), node.relative(a, b), `relative(${a}, ${b})`);
    }
  }
  assert.equal(ours.join("/a", "b", "../c", "d/"), node.join("/a", "b", "../c", "d/"));
  assert.equal(ours.resolve("/x", "y", "/z", "w"), node.resolve("/x", "y", "/z", "w"));
});

Deno.test("path: fromFileUrl agrees with node:url's fileURLToPath, and refuses other URLs", () => {
  for (const url of ["file:///a/b.ts", "file:///a%20b/c%23d.ts", "file:///%C3%A9t%C3%A9/x", "file:///"]) {
    assert.equal(ours.fromFileUrl(url), fileURLToPath(url), url);
  }
  assert.equal(ours.fromFileUrl(new URL("file:///x/y")), "/x/y");
  assert.throws(() => ours.fromFileUrl("https://example.com/a"), TypeError);
});
