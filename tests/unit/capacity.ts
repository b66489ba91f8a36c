/** The pure parts of the capacity features: idle decisions, the budget, sizes and durations. */
import assert from "node:assert/strict";
import {
  checkInterval,
  CPU_IDLE,
  isIdle,
  observeSlot,
  type SlotSample,
  unusedSince,
} from "../../core/slots/idle.ts";
import { defaultBudget, fitBudget } from "../../core/slots/budget.ts";
import { parseBytes } from "../../core/text/bytes.ts";
import { formatDuration, parseDuration } from "../../core/text/duration.ts";
import { declaredMemory } from "../../core/sandbox/capacity.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const sample = (over: Partial<SlotSample> = {}): SlotSample => ({
  claimed_at: new Date(T0).toISOString(),
  cpu_time: 0,
  head: "a",
  newest_change: T0,
  ...over,
});
const S = 1000;
const MiB = 1024 * 1024;

Deno.test("observeSlot() never judges a sandbox idle on its first observation", () => {
  const first = observeSlot(undefined, sample(), T0 + 3600 * S);
  assert.equal(isIdle(first, 60 * S, T0 + 3600 * S), false);
  assert.equal(isIdle(first, 60 * S, T0 + 3661 * S), true);
});

Deno.test("observeSlot() keeps a sandbox whose worktree changed within the window", () => {
  const first = observeSlot(undefined, sample(), T0);
  const second = observeSlot(first, sample({ newest_change: T0 + 50 * S }), T0 + 70 * S);
  assert.equal(isIdle(second, 60 * S, T0 + 70 * S), false);
  assert.equal(isIdle(second, 60 * S, T0 + 110 * S), true);
});

Deno.test("observeSlot() counts a new HEAD commit as a change at the time it is seen", () => {
  const first = observeSlot(undefined, sample(), T0);
  const second = observeSlot(first, sample({ head: "b" }), T0 + 100 * S);
  assert.equal(unusedSince(second), T0 + 100 * S);
});

Deno.test("observeSlot() counts CPU use at or above CPU_IDLE of one CPU as activity, below it not", () => {
  const first = observeSlot(undefined, sample(), T0);
  const busyNs = CPU_IDLE * 100 * S * 1e6; // exactly the threshold over 100 s
  assert.equal(observeSlot(first, sample({ cpu_time: busyNs }), T0 + 100 * S).busy_at, T0 + 100 * S);
  assert.equal(observeSlot(first, sample({ cpu_time: busyNs / 2 }), T0 + 100 * S).busy_at, T0);
  // Containers restarted (CPU time went down): activity.
  const later = observeSlot(first, sample({ cpu_time: 10 }), T0 + 10 * S);
  assert.equal(observeSlot(later, sample({ cpu_time: 1 }), T0 + 20 * S).busy_at, T0 + 20 * S);
});

Deno.test("observeSlot() counts traffic through kinfra's router", () => {
  const first = observeSlot(undefined, sample(), T0);
  const second = observeSlot(first, sample({ traffic_at: T0 + 90 * S }), T0 + 100 * S);
  assert.equal(isIdle(second, 60 * S, T0 + 120 * S), false);
  assert.equal(isIdle(second, 60 * S, T0 + 150 * S), true);
});

Deno.test("observeSlot() starts afresh for a slot claimed again", () => {
  const first = observeSlot(undefined, sample(), T0);
  const other = observeSlot(
    first,
    sample({ claimed_at: new Date(T0 + 500 * S).toISOString() }),
    T0 + 600 * S,
  );
  assert.equal(other.busy_at, T0 + 600 * S);
});

Deno.test("checkInterval() is a third of the shortest window, between 1 s and 60 s", () => {
  assert.equal(checkInterval(6 * S), 2 * S);
  assert.equal(checkInterval(1 * S), 1 * S);
  assert.equal(checkInterval(4 * 3600 * S), 60 * S);
});

Deno.test("fitBudget() lets an unknown need through and lists the longest-unused sandboxes that make room", () => {
  const running = [
    { name: "a", slot: 1, memory: 300 * MiB, unusedMs: 10 * S, free: "kinfra down a" },
    { name: "b", slot: 2, memory: 200 * MiB, unusedMs: 7200 * S, free: "kinfra down b" },
    { name: "c", slot: 3, memory: 400 * MiB, free: "kinfra down c" },
  ];
  assert.equal(fitBudget(1000 * MiB, undefined, running).fits, true);
  assert.equal(fitBudget(1000 * MiB, 100 * MiB, running).fits, true);
  const verdict = fitBudget(1000 * MiB, 350 * MiB, running);
  assert.equal(verdict.fits, false);
  assert.equal(verdict.used, 900 * MiB);
  assert.equal(verdict.shortfall, 250 * MiB);
  assert.deepEqual(verdict.freeable.map((s) => s.name), ["b", "a"]);
});

Deno.test("defaultBudget() keeps 20% (at least 512 MiB) for the host", () => {
  assert.equal(defaultBudget(10 * 1024 * MiB), 8 * 1024 * MiB);
  assert.equal(defaultBudget(1024 * MiB), 512 * MiB);
});

Deno.test("parseBytes() reads Docker sizes (powers of 1024) and units; rejects the rest", () => {
  assert.equal(parseBytes("8g"), 8 * 1024 * MiB);
  assert.equal(parseBytes("512m"), 512 * MiB);
  assert.equal(parseBytes("1.5GB"), 1.5e9);
  assert.equal(parseBytes("100"), 100);
  assert.equal(parseBytes(4096), 4096);
  assert.equal(parseBytes("8x"), undefined);
  assert.equal(parseBytes("lots"), undefined);
});

Deno.test("parseDuration() reads hours and days; formatDuration() says the largest unit", () => {
  assert.equal(parseDuration("4h"), 4 * 3600 * S);
  assert.equal(parseDuration("1d"), 86400 * S);
  assert.equal(parseDuration("3x"), undefined);
  assert.equal(formatDuration(4 * 3600 * S + 5), "4h");
  assert.equal(formatDuration(45 * S), "45s");
});

Deno.test("declaredMemory() sums every service's limit, and knows nothing when one has none", () => {
  const limited = {
    services: { a: { mem_limit: "268435456" }, b: { deploy: { resources: { limits: { memory: "512m" } } } } },
  };
  assert.equal(declaredMemory(limited), 768 * MiB);
  assert.equal(declaredMemory({ services: { a: { mem_limit: "1g" }, b: {} } }), undefined);
});
