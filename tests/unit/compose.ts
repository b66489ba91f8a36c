/**
 * Compose reading without Docker: the port syntax, the model read from `compose config` output in
 * both flavours (v2's JSON, whose shape differs from v1's YAML: published ports as strings, ranges
 * kept as ranges, every network named), tracing ports through `include`, and slot arithmetic.
 */
import assert from "node:assert/strict";
import { parseComposeText } from "../../core/compose/file.ts";
import { scanCompose } from "../../core/compose/scan.ts";
import { describeFixed, fixedPorts, modelOf } from "../../core/compose/model.ts";
import { KinfraError } from "../../core/errors.ts";
import { analyzePorts, planInit } from "../../core/commands/init/plan.ts";
import { parseShortPort } from "../../core/compose/port_spec.ts";
import { expandPorts, slotPorts } from "../../core/slots/ports.ts";
import type { Registry } from "../../core/slots/registry.ts";
import { firstUsableSlot } from "../../core/slots/slots.ts";
import { writeFiles } from "./_files.ts";
import { freePorts } from "./_ports.ts";

Deno.test("short port syntax: IPs, ranges, variables and protocols are read; the rest says what it is", () => {
  const cases: [string, unknown][] = [
    ["8080:80", { container: "80", protocol: "tcp", host: { start: { port: 8080 } } }],
    ["80", { container: "80", protocol: "tcp" }],
    ["127.0.0.1::80", { ip: "127.0.0.1", container: "80", protocol: "tcp" }],
    ["5353:53/udp", { container: "53/udp", protocol: "udp", host: { start: { port: 5353 } } }],
    ["[::1]:8080:80", { ip: "[::1]", container: "80", protocol: "tcp", host: { start: { port: 8080 } } }],
    [
      "127.0.0.1:4510-4559:4510-4559",
      {
        ip: "127.0.0.1",
        container: "4510-4559",
        protocol: "tcp",
        host: { start: { port: 4510 }, end: { port: 4559 } },
      },
    ],
    [
      "${BIND:-0.0.0.0}:8000:8000",
      { ip: "${BIND:-0.0.0.0}", container: "8000", protocol: "tcp", host: { start: { port: 8000 } } },
    ],
    [
      "${P:-9090}-${P_END:-9091}:8080-8081",
      {
        container: "8080-8081",
        protocol: "tcp",
        host: { start: { variable: "P", fallback: 9090 }, end: { variable: "P_END", fallback: 9091 } },
      },
    ],
    ["${HTTP_PORT}:8000", { container: "8000", protocol: "tcp", host: { start: { variable: "HTTP_PORT" } } }],
    ["$PORT:80", { container: "80", protocol: "tcp", host: { start: { variable: "PORT" } } }],
    ["8080:${TARGET}", 'container port "${TARGET}" is not a number or a range'],
    ["1:2:3:4", '"1:2:3:4" has too many colons (write an IPv6 address in brackets)'],
    ["web:80", 'host port "web" is neither a number, a range nor a variable'],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseShortPort(text), expected, text);
});

/** `docker compose config --format json` as Compose v2 prints it (compose-go's field names). */
const V2_JSON = {
  name: "shop-slot-1",
  services: {
    api: {
      image: "shop/api",
      networks: { default: null },
      ports: [
        { mode: "ingress", target: 8080, published: "8081", protocol: "tcp" },
        { mode: "ingress", host_ip: "127.0.0.1", target: 80, published: "8083-8085", protocol: "tcp" },
        { mode: "ingress", target: 9229, protocol: "tcp" },
      ],
    },
    dns: {
      image: "dns",
      networks: { default: null },
      ports: [{ target: 53, published: "5353", protocol: "udp" }],
    },
    agent: {
      image: "agent",
      network_mode: "host",
      ports: [{ target: 9100, published: "9100", protocol: "tcp" }],
    },
  },
  networks: { default: { name: "shop-slot-1_default", ipam: {} } },
};

Deno.test("the v2 model: published strings and ranges, UDP, host-network services set apart", () => {
  const model = modelOf(structuredClone(V2_JSON));
  assert.deepEqual(model.services, ["api", "dns", "agent"]);
  assert.deepEqual(model.hostNetwork, ["agent"]);
  assert.deepEqual(model.ports.map((p) => `${p.service} ${p.published}->${p.target}/${p.protocol}`), [
    "api 8081->8080/tcp",
    "api 8083->80/tcp",
    "api 8084->80/tcp",
    "api 8085->80/tcp",
    "dns 5353->53/udp",
    "agent 9100->9100/tcp",
  ]);
  // Slot 1 owns 8081 and the 8083–8085 range; 5353 is fixed; the host-network agent is not counted.
  const fixed = fixedPorts(model, new Set([8081, 8083, 8084, 8085]));
  assert.deepEqual(fixed.map((p) => p.published), [5353]);
});

Deno.test("the v1 model: short strings, long mappings and expanded ranges read alike", () => {
  const model = modelOf({
    version: "3.8",
    services: {
      web: { ports: ["127.0.0.1:4510:4510/tcp", { published: 9090, target: 8080 }, "80"] },
      dns: { ports: [{ protocol: "udp", published: 5353, target: 53 }] },
    },
  });
  assert.deepEqual(model.ports, [
    { service: "web", published: 4510, target: "4510", protocol: "tcp" },
    { service: "web", published: 9090, target: "8080", protocol: "tcp" },
    { service: "dns", published: 5353, target: "53", protocol: "udp" },
  ]);
});

Deno.test("a port in an included file (v2 `include`) is rewritten in that file; a long-syntax range too", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeFiles(root, {
      "compose.yaml": `# The shop, with its database defined by the data team.
include:
  - db/compose.yaml
services:
  api:
    image: shop/api
    ports:
      - target: 80
        host_ip: 127.0.0.1
        published: "8083-8085"   # three workers
`,
      "db/compose.yaml": `services:
  db:
    image: postgres
    ports:
      - "5432:5432"   # psql from the host
`,
    });
    const sources = await scanCompose(root, "compose.yaml");
    assert.deepEqual(Object.keys(sources.files), ["compose.yaml", "db/compose.yaml"]);
    const model = modelOf({
      services: {
        api: { ports: [{ target: 80, host_ip: "127.0.0.1", published: "8083-8085", protocol: "tcp" }] },
        db: { ports: [{ target: 5432, published: "5432", protocol: "tcp" }] },
      },
    });
    const analysis = analyzePorts(sources, model);
    assert.deepEqual(analysis.problems, []);
    const plan = planInit({ name: "shop", prefix: "shop", composeFile: "compose.yaml", mounts: [] }, {
      sources,
      analysis,
      model,
    });
    assert.deepEqual(plan.ports, { SHOP_API_PORT: { base: 8083, width: 3 }, SHOP_DB_PORT: 5432 });
    const byPath = Object.fromEntries(plan.files.map((f) => [f.path, f.after]));
    assert.ok(
      byPath["compose.yaml"].includes(
        'published: "${SHOP_API_PORT:-8083}-${SHOP_API_PORT_END:-8085}"   # three workers',
      ),
    );
    assert.ok(byPath["db/compose.yaml"].includes('- "${SHOP_DB_PORT:-5432}:5432"   # psql from the host'));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a published port no entry gives is reported with where kinfra looked and what to write", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeFiles(root, {
      "compose.yml": "services:\n  web:\n    extends:\n      file: ../shared/base.yml\n      service: web\n",
    });
    const sources = await scanCompose(root, "compose.yml");
    assert.deepEqual(sources.outside, ["../shared/base.yml"]);
    const model = modelOf({ services: { web: { ports: [{ published: 8080, target: 80 }] } } });
    const [problem] = analyzePorts(sources, model).problems;
    assert.match(
      problem,
      /web publishes host port 8080 \(→ 80\/tcp\), but no ports entry in compose\.yml gives it/,
    );
    assert.match(problem, /\.\.\/shared\/base\.yml, outside the project/);
    assert.deepEqual(describeFixed(model.ports, sources), [
      "web publishes host port 8080 (→ 80/tcp), written in none of the files kinfra read (compose.yml)",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("YAML aliases: a large file merging one anchor everywhere parses; a billion laughs does not", () => {
  let big = "x-c: &c\n  image: a\n  logging: &l\n    driver: json-file\nservices:\n";
  for (let i = 0; i < 500; i++) big += `  s${i}:\n    <<: *c\n    logging: *l\n`;
  assert.ok(parseComposeText(big, "big.yml"));
  let lol = 'services: {}\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (const [n, p] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"], ["h", "g"]]) {
    lol += `${n}: &${n} [${Array(9).fill(`*${p}`).join(",")}]\n`;
  }
  assert.throws(() => parseComposeText(lol, "lol.yml"), (e) => e instanceof KinfraError && e.code === 2);
});

Deno.test("ranges move by whole widths, and a port inside another slot's range is never handed out", async () => {
  assert.deepEqual(slotPorts({ WEB: 8080, LS: { base: 4510, width: 3 } }, 2), {
    WEB: 8082,
    LS: 4516,
    LS_END: 4518,
  });
  assert.deepEqual(expandPorts({ LS: 4513, LS_END: 4515 }, { LS: 3 }).map((p) => p.port), [
    4513,
    4514,
    4515,
    4515,
  ]);
  // Project "a" holds p+1 … p+3 in slot 1 (only p+1 and p+3 are named). Project "b" (base p)'s slot 2
  // would use p+2, inside that range; its slot 3 would use p+3; slot 4 gets p+4. (Ports free right now:
  // the bind test is real.)
  const p = freePorts(5);
  const registry: Registry = {
    version: 1,
    worktrees: {},
    slots: {
      "1": {
        slot_id: 1,
        project: "a",
        worktree_path: "/w/a",
        slot_dir: "/s/a-1",
        compose_file_copy: "/s/a-1/docker-compose.yml",
        ports: { LS: p + 1, LS_END: p + 3 },
        widths: { LS: 3 },
        claimed_at: "2026-01-01T00:00:00Z",
        status: "running",
      },
    },
  };
  const skipped: string[] = [];
  const found = await firstUsableSlot(
    registry,
    { project: "b", bases: { B_PORT: p }, maxSlots: 5 },
    (line) => skipped.push(line),
  );
  assert.equal(found?.id, 4, skipped.join("\n"));
  assert.equal(skipped[0], `Slot 2 skipped: port ${p + 2} (B_PORT) belongs to slot 1 (a, LS).`);
});

Deno.test("planInit: the health check probes the first port serving HTTP, not the first in Compose's (alphabetical) order", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeFiles(root, {
      "compose.yaml": `services:
  web:
    image: shop/web
    ports: ["8080:8080"]
  db:
    image: postgres
    ports: ["5432:5432"]
`,
    });
    const sources = await scanCompose(root, "compose.yaml");
    const model = modelOf({
      services: {
        db: { ports: [{ target: 5432, published: "5432", protocol: "tcp" }] },
        web: { ports: [{ target: 8080, published: "8080", protocol: "tcp" }] },
      },
    });
    const compose = { sources, analysis: analyzePorts(sources, model), model };
    const answers = {
      name: "shop",
      prefix: "shop",
      composeFile: "compose.yaml",
      mounts: [],
      healthEndpoint: "/up",
    };
    const portVar = (a: Parameters<typeof planInit>[0], c = compose) =>
      /port_var = "(\w*)"/.exec(planInit(a, c).infraToml)?.[1];
    assert.equal(portVar(answers), "SHOP_WEB_PORT");
    assert.equal(
      portVar({ ...answers, healthPortVar: "SHOP_DB_PORT" }),
      "SHOP_DB_PORT",
      "--health-port-var wins",
    );
    const noWeb = modelOf({
      services: { db: { ports: [{ target: 5432, published: "5432", protocol: "tcp" }] } },
    });
    const dbOnly = await scanCompose(root, "compose.yaml");
    dbOnly.ports = dbOnly.ports.filter((p) => p.container === "5432");
    assert.equal(
      portVar(answers, { sources: dbOnly, analysis: analyzePorts(dbOnly, noWeb), model: noWeb }),
      "SHOP_DB_PORT",
      "no HTTP port: the first",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
