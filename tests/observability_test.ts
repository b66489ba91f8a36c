/** The shared observability stack and the otel plugin, against the real engine with a stand-in image. */
import assert from "node:assert/strict";
import {
  docker,
  dockerTest,
  httpGet,
  makeProject,
  randomBase,
  resetObservability,
  useStubObservability,
} from "./sandbox_helpers.ts";
import type { Sandbox } from "./helpers.ts";

interface ImplJson {
  compose_project: string;
}

const envOf = async (container: string): Promise<string[]> =>
  JSON.parse(await docker("inspect", "--format", "{{json .Config.Env}}", container));
const networksOfContainer = async (container: string): Promise<string[]> =>
  Object.keys(
    JSON.parse(await docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container)),
  ).sort();
const webOf = async (composeProject: string) =>
  await docker(
    "ps",
    "--filter",
    `label=com.docker.compose.project=${composeProject}`,
    "--format",
    "{{.Names}}",
  );

/**
 * Runs a test with an observability stack of its own, named `<stem>obs` (so never the user's real
 * `devops-ai` stack), removed afterwards. The test gets the stack's name.
 */
function obsTest(name: string, fn: (sb: Sandbox, stem: string, obs: string) => Promise<void>) {
  dockerTest(name, async (sb, stem) => {
    const obs = `${stem}obs`;
    try {
      await fn(sb, stem, obs);
    } finally {
      await resetObservability(obs);
    }
  });
}

obsTest(
  "impl starts the stack; sandboxes join its network, reach its Jaeger by name, and get their own namespace",
  async (sb, stem, obs) => {
    const ports = await useStubObservability(sb, obs);
    const repo = await makeProject(sb, stem, {
      base: randomBase(),
      otel: true,
      webExtra: "    environment:\n      OTEL_RESOURCE_ATTRIBUTES: deployment.environment=test\n",
    });
    const first = await sb.kinfra(["--json", "impl", "one/M1"], { cwd: repo });
    assert.equal(first.code, 0, first.stderr);
    const second = await sb.kinfra(["--json", "impl", "two/M1"], { cwd: repo });
    assert.equal(second.code, 0, second.stderr);

    const [a, b] = [first, second].map((r) => r.json<ImplJson>().compose_project);
    for (const project of [a, b]) {
      const web = await webOf(project);
      assert.deepEqual(
        await networksOfContainer(web),
        [`${project}_default`, `${obs}-observability`].sort(),
      );
      const env = await envOf(web);
      assert.ok(env.includes(`OTEL_EXPORTER_OTLP_ENDPOINT=http://${obs}-jaeger:4317`), env.join(" "));
      // The base compose file's attributes survive; the namespace is appended.
      assert.ok(
        env.includes(`OTEL_RESOURCE_ATTRIBUTES=deployment.environment=test,service.namespace=${project}`),
        env.join(" "),
      );
      assert.equal(await docker("exec", web, "wget", "-q", "-O-", `http://${obs}-jaeger:16686/`), "stub");
    }
    assert.notEqual(a, b);

    const status = await sb.kinfra(["--json", "status", "one-M1"], { cwd: repo });
    const otel = status.json<{ plugins: { otel: { namespace: string; jaeger: string } } }>().plugins.otel;
    assert.equal(otel.namespace, a);
    assert.ok(otel.jaeger.startsWith(`http://127.0.0.1:${ports.jaeger_ui_port}/search?tags=`));
    assert.ok(decodeURIComponent(otel.jaeger).includes(`{"service.namespace":"${a}"}`));

    const stack = await sb.kinfra(["--json", "observability", "status"], { cwd: repo });
    const data = stack.json<
      { containers: { service: string; state: string }[]; endpoints: { answers: boolean }[] }
    >();
    assert.deepEqual(data.containers.map((c) => [c.service, c.state]), [["grafana", "running"], [
      "jaeger",
      "running",
    ], ["prometheus", "running"]]);
    assert.ok(data.endpoints.every((e) => e.answers), JSON.stringify(data.endpoints));
    for (const name of ["one-M1", "two-M1"]) {
      assert.equal((await sb.kinfra(["done", name], { cwd: repo })).code, 0);
    }
  },
);

obsTest(
  "observability down leaves running sandboxes running and their network in place; up again reattaches",
  async (sb, stem, obs) => {
    await useStubObservability(sb, obs);
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base, otel: true });
    assert.equal((await sb.kinfra(["impl", "keep/M1"], { cwd: repo })).code, 0);
    const down = await sb.kinfra(["--json", "observability", "down"], { cwd: repo });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.json<{ network_removed: boolean }>().network_removed, false);
    assert.equal(
      (await httpGet(`http://127.0.0.1:${base + 1}/health`)).status,
      200,
      "the sandbox still serves",
    );
    assert.equal(
      await docker("network", "inspect", "--format", "{{.Name}}", `${obs}-observability`),
      `${obs}-observability`,
    );

    assert.equal((await sb.kinfra(["observability", "up"], { cwd: repo })).code, 0);
    const web = await webOf(`${stem}-slot-1`);
    assert.equal(await docker("exec", web, "wget", "-q", "-O-", `http://${obs}-jaeger:16686/`), "stub");

    assert.equal((await sb.kinfra(["done", "keep-M1"], { cwd: repo })).code, 0);
    const last = await sb.kinfra(["--json", "observability", "down"], { cwd: repo });
    assert.equal(
      last.json<{ network_removed: boolean }>().network_removed,
      true,
      "unused network goes with the stack",
    );
  },
);

obsTest(
  "a missing observability image degrades: impl warns, creates the network, and the sandbox starts",
  async (sb, stem, obs) => {
    await useStubObservability(sb, obs, "kinfra-test/no-such-jaeger:none");
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base, otel: true });
    const run = await sb.kinfra(["impl", "degraded/M1"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Observability is not available; the sandbox starts without it/);
    assert.equal((await httpGet(`http://127.0.0.1:${base + 1}/health`)).status, 200);
    const web = await webOf(`${stem}-slot-1`);
    assert.ok((await networksOfContainer(web)).includes(`${obs}-observability`));
    assert.equal(run.stderr.match(/Observability is not available/g)?.length, 1, "one warning");

    // Within a minute the next impl does not try again: one line saying when it failed.
    const again = await sb.kinfra(["impl", "again/M1"], { cwd: repo });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Starting the shared observability stack/);
    assert.match(again.stderr, /the stack failed \d+ s ago: .*retried after a minute/);
    assert.equal(again.stderr.split("\n").filter((l) => /observability/i.test(l)).length, 1, again.stderr);

    // status links no Jaeger that is not running.
    const status = await sb.kinfra(["--json", "status", "degraded-M1"], { cwd: repo });
    assert.equal(status.json<{ plugins: { otel: { jaeger: string | null } } }>().plugins.otel.jaeger, null);
    assert.match((await sb.kinfra(["status", "degraded-M1"], { cwd: repo })).stdout, /Jaeger is not running/);
    assert.equal((await sb.kinfra(["done", "again-M1"], { cwd: repo })).code, 0);
    assert.equal((await sb.kinfra(["done", "degraded-M1"], { cwd: repo })).code, 0);
  },
);
