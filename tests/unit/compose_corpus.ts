/**
 * What real compose files from public projects taught (tests/fixtures/compose/corpus/, one small
 * file per finding): init's analysis and plan, and impl's description of a port it cannot move,
 * given the fixture and the model Compose v2 prints for it. No Docker; the end-to-end side is
 * tests/compose_corpus_test.ts.
 */
import assert from "node:assert/strict";
import { scanCompose } from "../../core/compose/scan.ts";
import { describeFixed, modelOf } from "../../core/compose/model.ts";
import { analyzePorts, planInit } from "../../core/commands/init/plan.ts";
import { parseShortPort } from "../../core/compose/port_spec.ts";
import { parseInfraConfig } from "../../core/project/config/load.ts";

const FIXTURES = new URL("../fixtures/compose/corpus/", import.meta.url).pathname;

/** A service publishing `ports` as Compose v2's JSON prints them. */
const v2 = (ports: [number, number, string][]) => ({
  ports: ports.map(([published, target, protocol]) => ({ target, published: String(published), protocol })),
});

async function analyze(fixture: string, services: Record<string, unknown>) {
  const sources = await scanCompose(`${FIXTURES}${fixture}`, "docker-compose.yml");
  const model = modelOf({ services });
  const analysis = analyzePorts(sources, model);
  const plan = planInit({ name: "p", prefix: "p", composeFile: "docker-compose.yml", mounts: [] }, {
    sources,
    analysis,
    model,
  });
  return { sources, model, analysis, plan };
}

Deno.test("TCP and UDP on one number (logstash 50000, pi-hole 53) become one variable, and a valid config", async () => {
  const { plan, analysis } = await analyze("tcp_udp", {
    logstash: v2([[50000, 50000, "tcp"], [50000, 50000, "udp"], [9600, 9600, "tcp"]]),
    dns: v2([[53, 53, "tcp"], [53, 53, "udp"]]),
  });
  assert.deepEqual(analysis.refused, []);
  assert.deepEqual(plan.ports, { P_LOGSTASH_PORT: 50000, P_LOGSTASH_PORT_9600: 9600, P_DNS_PORT: 53 });
  const after = plan.files[0].after;
  assert.match(
    after,
    /"\$\{P_LOGSTASH_PORT:-50000\}:50000\/tcp"\n\s+- "\$\{P_LOGSTASH_PORT:-50000\}:50000\/udp"/,
  );
  assert.match(after, /"\$\{P_DNS_PORT:-53\}:53\/tcp"\n\s+- "\$\{P_DNS_PORT:-53\}:53\/udp"/);
  // What init writes, its own loader accepts (two variables with one base would be refused).
  assert.ok(parseInfraConfig(plan.infraToml, "infra.toml", 20));
});

Deno.test("a range of 1,001 ports is refused at init, naming the entry and how to split it", async () => {
  const range = Array.from(
    { length: 1001 },
    (_, i) => [8000 + i, 8000 + i, "tcp"] as [number, number, string],
  );
  const { analysis, plan } = await analyze("wide_range", { media: v2([[8080, 80, "tcp"], ...range]) });
  assert.equal(analysis.refused.length, 1);
  assert.match(
    analysis.refused[0],
    /docker-compose\.yml:8 \(services\.media\.ports\[1\]: "8000-9000:8000-9000"\) is a range of 1001 ports; .*up to 1000 ports\. Narrow it, or split it .*"8000-8999:…" and "9000:…"/,
  );
  // The rest still plans, and never a width the loader refuses.
  assert.deepEqual(plan.ports, { P_MEDIA_PORT: 8080 });
});

Deno.test("a bind address with a range (localstack) is parameterized like the range without one, keeping the address", async () => {
  const range = Array.from({ length: 50 }, (_, i) => [4510 + i, 4510 + i, "tcp"] as [number, number, string]);
  const { plan } = await analyze("ip_range", { localstack: v2([[4566, 4566, "tcp"], ...range]) });
  assert.deepEqual(plan.ports.P_LOCALSTACK_PORT_4510, { base: 4510, width: 50 });
  assert.match(
    plan.files[0].after,
    /"127\.0\.0\.1:\$\{P_LOCALSTACK_PORT_4510:-4510\}-\$\{P_LOCALSTACK_PORT_4510_END:-4559\}:4510-4559"/,
  );
});

Deno.test("one variable on both sides (jitsi; dfir-iris through extends) is said for what it is, at init and impl", async () => {
  const { analysis, plan, model, sources } = await analyze("same_var", {
    jvb: v2([[10000, 10000, "udp"]]),
    nginx: v2([[443, 443, "tcp"]]),
  });
  assert.deepEqual(plan.ports, {});
  assert.deepEqual(analysis.problems, []);
  const [jvb, nginx] = analysis.warnings;
  assert.match(jvb, /docker-compose\.yml:7 .*writes \$\{JVB_PORT\} as both the host and the container port/);
  assert.match(jvb, /Write the container side as a number, "\$\{JVB_PORT:-10000\}:10000\/udp"/);
  assert.match(nginx, /base\/docker-compose\.base\.yml:6 .*"\$\{INTERFACE_HTTPS_PORT:-443\}:443"/);
  const fixed = describeFixed(model.ports, sources);
  assert.match(
    fixed[0],
    /^jvb publishes host port 10000 \(→ 10000\/udp\): docker-compose\.yml:7 .*both the host/,
  );
  assert.match(
    fixed[1],
    /^nginx publishes host port 443 .*base\/docker-compose\.base\.yml:6 .*both the host/,
  );
  assert.doesNotMatch(fixed.join("\n"), /written in none/);
});

Deno.test("a whole entry written as one variable (immich) is named as where the port comes from, with what to write", async () => {
  const { analysis, model, sources } = await analyze("whole_var", {
    "immich-server": v2([[2283, 2283, "tcp"]]),
  });
  const expected =
    /immich-server publishes host port 2283 \(→ 2283\/tcp\): it comes from docker-compose\.yml:7 \(services\.immich-server\.ports\[0\]: "\$\{EXPOSE_PORT-:2283:2283\}"\), which kinfra cannot rewrite: the whole entry is the variable \$\{EXPOSE_PORT\} \(default ":2283:2283"\).*Write it as "\$\{VAR:-2283\}:2283"/;
  assert.match(analysis.problems[0], expected);
  assert.match(describeFixed(model.ports, sources)[0], expected);
  // Said once: the problem names the entry, so no second "left as is" line repeats it.
  assert.equal(analysis.warnings.filter((w) => w.includes("EXPOSE_PORT")).length, 0);
});

Deno.test("parseShortPort() reads a container port written as a variable with a default, and a whole-entry variable", () => {
  assert.deepEqual(parseShortPort("${JVB_PORT:-10000}:${JVB_PORT:-10000}/udp"), {
    container: "${JVB_PORT:-10000}/udp",
    protocol: "udp",
    containerVariable: "JVB_PORT",
    containerDefault: "10000",
    host: { start: { variable: "JVB_PORT", fallback: 10000 } },
  });
  assert.match(String(parseShortPort("${EXPOSE_PORT-:2283:2283}")), /the whole entry is the variable/);
});
