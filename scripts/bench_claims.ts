/**
 * One process of the registry contention benchmark: `count` claims, each held briefly and released,
 * through kinfra's own claimSlot/releaseSlot (the flock'd registry), printed as JSON lines
 * `{ slot, from, to, ms }` (`from`/`to` in ms since the epoch; `ms` is the claim's latency).
 * Usage: KINFRA_HOME=… deno run -A scripts/bench_claims.ts <worker> <count> <base-port>
 */
import { makeContext } from "../core/make_context.ts";
import { claimSlot, releaseSlot } from "../core/slots/slots.ts";

const [worker, count, base] = Deno.args.map(Number);
const ctx = makeContext();
const lines: string[] = [];
for (let i = 0; i < count; i++) {
  const start = performance.now();
  const slot = await claimSlot(ctx, {
    project: `claims${worker}`,
    worktreePath: `/nonexistent/claims-${worker}-${i}`,
    bases: { CLAIM_PORT: base },
    maxSlots: 20,
  });
  const ms = performance.now() - start;
  const from = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, 1)); // held while others try
  const to = performance.timeOrigin + performance.now();
  await releaseSlot(ctx, slot);
  lines.push(JSON.stringify({ slot: slot.slot_id, from, to, ms }));
}
console.log(lines.join("\n"));
