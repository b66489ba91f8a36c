/** core/text: did-you-mean suggestions, durations as plugins write them, byte counts as people read them. */
import assert from "node:assert/strict";
import { formatBytes } from "../../../core/text/bytes.ts";
import { closest } from "../../../core/text/closest.ts";
import { parseDuration } from "../../../core/text/duration.ts";

Deno.test("closest() suggests a candidate one typo away", () => {
  assert.equal(closest("wroktrees", ["init", "worktrees", "status"]), "worktrees");
});

Deno.test("closest() ignores case when measuring, and returns the candidate as written", () => {
  assert.equal(closest("STATUS", ["status", "init"]), "status");
});

Deno.test("closest() suggests nothing when every candidate is far", () => {
  assert.equal(closest("zzzz", ["init", "status"]), undefined);
});

Deno.test("closest() allows two edits for a short word but not three", () => {
  assert.equal(closest("xyne", ["done"]), "done");
  assert.equal(closest("xyze", ["done"]), undefined);
});

Deno.test("closest() allows more edits for a longer word (a third of its length)", () => {
  // A 12-letter word may be 4 edits from its candidate, not 5.
  assert.equal(closest("compose_WXYZ", ["compose_file"]), "compose_file");
  assert.equal(closest("cXmpose_WXYZ", ["compose_file"]), undefined);
});

Deno.test("closest() prefers the nearer of two candidates, the first on a tie", () => {
  assert.equal(closest("stat", ["start", "stats"]), "start");
  assert.equal(closest("stop", ["stops", "stop"]), "stop");
});

Deno.test("closest() of no candidates is undefined", () => {
  assert.equal(closest("x", []), undefined);
});

Deno.test("parseDuration() reads a number as seconds", () => {
  assert.equal(parseDuration(30), 30_000);
  assert.equal(parseDuration(0.5), 500);
});

Deno.test("parseDuration() refuses zero and negative numbers", () => {
  assert.equal(parseDuration(0), undefined);
  assert.equal(parseDuration(-1), undefined);
});

Deno.test("parseDuration() reads ms, s and m suffixes", () => {
  assert.deepEqual(["500ms", "30s", "2m", "1.5s"].map(parseDuration), [500, 30_000, 120_000, 1500]);
});

Deno.test("parseDuration() trims surrounding spaces", () => {
  assert.equal(parseDuration(" 3s "), 3000);
});

Deno.test("parseDuration() refuses unknown units, a missing unit and junk around the number", () => {
  for (const bad of ["3x", "3", "3w", "s", "3 s", "-3s", "3s!", "", "1e3s"]) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("formatBytes() shows bytes under 1000 as a whole number of B", () => {
  assert.deepEqual([0, 1, 512, 999].map(formatBytes), ["0 B", "1 B", "512 B", "999 B"]);
});

Deno.test("formatBytes() uses powers of 1000, one decimal below 10 units", () => {
  assert.deepEqual([1000, 1500, 9_949, 1_500_000].map(formatBytes), ["1.0 KB", "1.5 KB", "9.9 KB", "1.5 MB"]);
});

Deno.test("formatBytes() rounds to whole units from 10 units up", () => {
  assert.deepEqual([10_000, 210_400_000, 999_000].map(formatBytes), ["10 KB", "210 MB", "999 KB"]);
});

Deno.test("formatBytes() stops at TB", () => {
  assert.equal(formatBytes(5e15), "5000 TB");
});
