/**
 * What a sandbox uses, read fast: the proxy measures every few seconds into `<home>/proxy/usage.json`,
 * and `status` takes a measurement under 15 s old from there instead of waiting on the engine's
 * one-second stats tick; an older one is measured afresh.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dockerTest, makeProject, randomBase } from "./sandbox_helpers.ts";
import { eventually, useRouterPort } from "./proxy_helpers.ts";

interface Usage {
  memory: number;
  cpu: number | null;
  containers: number;
}

dockerTest(
  "status reads the proxy's fresh usage measurement and measures afresh when it is old",
  async (sb, stem) => {
    await useRouterPort(sb);
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const impl = await sb.kinfra(["--json", "impl", "a/M1"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    const project = impl.json<{ compose_project: string }>().compose_project;
    const file = join(sb.home, "proxy", "usage.json");
    // The proxy's usage part measures the running sandbox by itself.
    const measured = await eventually(
      "the proxy's usage.json",
      () => Deno.readTextFile(file).then(JSON.parse, () => ({ sandboxes: {} })),
      (u) => u.sandboxes[project]?.memory > 0,
      30_000,
    );
    assert.equal(measured.sandboxes[project].containers, 1);

    const stopProxy = await sb.kinfra(["proxy", "stop"], { cwd: repo }); // nothing rewrites the file now
    assert.equal(stopProxy.code, 0, stopProxy.stderr);
    const marked = { memory: 123_456_789, cpu: 42, cpu_time: 1, containers: 1 };
    const write = (ageMs: number) =>
      Deno.writeTextFile(
        file,
        JSON.stringify({
          at: new Date(Date.now() - ageMs).toISOString(),
          memory_total: null,
          sandboxes: { [project]: marked },
          failures: [],
        }),
      );
    await write(1000);
    const fresh = await sb.kinfra(["--json", "status", "a-M1"], { cwd: repo });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.deepEqual(fresh.json<{ usage: Usage }>().usage, { memory: 123_456_789, cpu: 42, containers: 1 });

    await write(60_000);
    const old = await sb.kinfra(["--json", "status", "a-M1"], { cwd: repo });
    assert.equal(old.code, 0, old.stderr);
    const real = old.json<{ usage: Usage }>().usage;
    assert.notEqual(real.memory, 123_456_789, "a minute-old measurement is not used");
    assert.ok(real.memory > 0);
  },
);
