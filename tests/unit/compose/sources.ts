/**
 * Compose analysis beside compose_test.ts, one behaviour a test: where each `ports` entry is written
 * (core/compose/file.ts), the resolved model's ports (model.ts), tracing a port to its entry, and
 * which variables are UDP or HTTP (slot_compose.ts). The compose file is given as text; no Docker.
 */
import assert from "node:assert/strict";
import {
  applyEdits,
  type ComposeSources,
  hostVariables,
  lineDiff,
  parseComposeText,
} from "../../../core/compose/file.ts";
import { scanCompose } from "../../../core/compose/scan.ts";
import { describeFixed, fixedPorts, modelOf, sourceOf } from "../../../core/compose/model.ts";
import { httpVariables, portProtocols } from "../../../core/compose/slot_compose.ts";
import { usageOf } from "../_usage.ts";

/** The sources of one compose file given as text (nothing is read from disk). */
const scan = (text: string): Promise<ComposeSources> => scanCompose("/nonexistent", "compose.yml", text);

const SHOP = `services:
  web:
    image: web
    ports:
      - "8080:80"            # the site
      - "\${SHOP_DNS:-5353}:53/udp"
  db:
    ports:
      - target: 5432
        published: "\${SHOP_DB:-5432}"
x-metrics: &m
  ports:
    - "9090-9091:9090-9091"
`;

Deno.test("scanCompose() lists every ports entry with its file, line, key path and service", async () => {
  const { ports } = await scan(SHOP);
  assert.deepEqual(ports.map((p) => [p.file, p.line, p.where, p.service, p.text]), [
    ["compose.yml", 5, "services.web.ports[0]", "web", "8080:80"],
    ["compose.yml", 6, "services.web.ports[1]", "web", "${SHOP_DNS:-5353}:53/udp"],
    ["compose.yml", 10, "services.db.ports[0]", "db", "${SHOP_DB:-5432}"],
    ["compose.yml", 13, "x-metrics.ports[0]", undefined, "9090-9091:9090-9091"],
  ]);
});

Deno.test("scanCompose() reads each entry's container port without protocol, and the protocol", async () => {
  const { ports } = await scan(SHOP);
  assert.deepEqual(ports.map((p) => `${p.container}/${p.protocol}`), [
    "80/tcp",
    "53/udp",
    "5432/tcp",
    "9090-9091/tcp",
  ]);
});

Deno.test("scanCompose() follows a shared ports list (*alias) once, naming the alias", async () => {
  const text = `x-p: &p
  - "7000:7000"
services:
  a:
    ports: *p
  b:
    ports: *p
`;
  const { ports } = await scan(text);
  assert.deepEqual(ports.map((p) => p.where), ["services.a.ports (*p)[0]"]);
});

Deno.test("scanCompose() keeps an entry it cannot read, with the reason as its host", async () => {
  const { ports } = await scan('services:\n  a:\n    ports:\n      - "web:80"\n');
  assert.equal(ports[0].host, 'host port "web" is neither a number, a range nor a variable');
});

Deno.test("scanCompose() renders a short entry's replacement as a quoted scalar with the host replaced", async () => {
  const { ports } = await scan(SHOP);
  assert.equal(ports[0].render("${SHOP_WEB:-8080}"), '"${SHOP_WEB:-8080}:80"');
  assert.equal(ports[2].render("${X:-1}"), '"${X:-1}"');
});

Deno.test("scanCompose() lists a file outside the project apart, without reading it", async () => {
  const text = "include:\n  - ../shared/db.yml\nservices:\n  a:\n    image: a\n";
  const sources = await scan(text);
  assert.deepEqual([sources.outside, Object.keys(sources.files)], [["../shared/db.yml"], ["compose.yml"]]);
});

Deno.test("hostVariables() names the variables of an entry's host part, range end included", async () => {
  const { ports } = await scan(
    'services:\n  a:\n    ports:\n      - "${P:-9090}-${P_END:-9091}:80-81"\n      - "8080:80"\n',
  );
  assert.deepEqual(ports.map(hostVariables), [["P", "P_END"], []]);
});

Deno.test("applyEdits() replaces source ranges, later ones first so offsets stay right", () => {
  assert.equal(
    applyEdits("a 8080 b 9090 c", [{ range: [2, 6], text: "X" }, { range: [9, 13], text: "YYYY" }]),
    "a X b YYYY c",
  );
});

Deno.test("applyEdits() rewrites a scanned entry and leaves comments and everything else as written", async () => {
  const { ports } = await scan(SHOP);
  const edited = applyEdits(SHOP, [{ range: ports[0].range, text: ports[0].render("${W:-8080}") }]);
  assert.equal(edited, SHOP.replace('"8080:80"', '"${W:-8080}:80"'));
});

Deno.test("lineDiff() lists changed lines only, old then new, with line numbers", () => {
  assert.deepEqual(lineDiff("a\nb\nc", "a\nB\nc\nd"), ["2 - b", "2 + B", "4 + d"]);
});

Deno.test("parseComposeText() refuses YAML syntax errors with line and column", () => {
  assert.match(
    usageOf(() => parseComposeText("services:\n  a: [\n", "compose.yml")),
    /^compose\.yml:\d+:\d+: YAML syntax error: /,
  );
});

Deno.test("parseComposeText() refuses a document without services or include", () => {
  assert.equal(
    usageOf(() => parseComposeText("version: '3'\n", "compose.yml")),
    'compose.yml has no "services" mapping. | Is this a Docker Compose file?',
  );
});

Deno.test("parseComposeText() accepts a file that only includes others", () => {
  assert.ok(parseComposeText("include:\n  - a.yml\n", "compose.yml"));
});

Deno.test("modelOf() lists each port of a published range", () => {
  const model = modelOf({ services: { a: { ports: [{ target: 80, published: "8000-8002" }] } } });
  assert.deepEqual(model.ports.map((p) => p.published), [8000, 8001, 8002]);
});

Deno.test("modelOf() leaves out ports Docker picks itself", () => {
  const model = modelOf({
    services: { a: { ports: ["80", { target: 81 }, { target: 82, published: "" }] } },
  });
  assert.deepEqual(model.ports, []);
});

Deno.test("modelOf() of a document without services is empty", () => {
  assert.deepEqual(modelOf({}), { doc: {}, services: [], ports: [], hostNetwork: [] });
});

Deno.test("fixedPorts() leaves out the slot's own ports and host-network services", () => {
  const model = modelOf({
    services: { a: { ports: ["8081:80", "5353:53"] }, h: { network_mode: "host", ports: ["9100:9100"] } },
  });
  assert.deepEqual(fixedPorts(model, new Set([8081])).map((p) => p.published), [5353]);
});

Deno.test("sourceOf() traces a published port to the entry in its own service before a shared one", async () => {
  const sources = await scan(
    'x-s: &s\n  ports:\n    - "8080:80"\nservices:\n  a:\n    <<: *s\n  b:\n    ports:\n      - "8080:80"\n',
  );
  assert.equal(
    sourceOf({ service: "b", published: 8080, target: "80", protocol: "tcp" }, sources.ports)?.where,
    "services.b.ports[0]",
  );
  assert.equal(
    sourceOf({ service: "a", published: 8080, target: "80", protocol: "tcp" }, sources.ports)?.where,
    "x-s.ports[0]",
  );
});

Deno.test("sourceOf() matches the protocol and the container port", async () => {
  const { ports } = await scan('services:\n  a:\n    ports:\n      - "53:53/udp"\n      - "53:53"\n');
  assert.equal(
    sourceOf({ service: "a", published: 53, target: "53", protocol: "udp" }, ports)?.where,
    "services.a.ports[0]",
  );
  assert.equal(sourceOf({ service: "a", published: 53, target: "54", protocol: "udp" }, ports), undefined);
});

Deno.test("sourceOf() finds a port inside a published range", async () => {
  const { ports } = await scan('services:\n  a:\n    ports:\n      - "9000-9009:9000-9009"\n');
  assert.ok(sourceOf({ service: "a", published: 9004, target: "9004", protocol: "tcp" }, ports));
  assert.equal(
    sourceOf({ service: "a", published: 9010, target: "9004", protocol: "tcp" }, ports),
    undefined,
  );
});

Deno.test("describeFixed() names the file, line and entry of a fixed port", async () => {
  const sources = await scan(SHOP);
  const [line] = describeFixed([{ service: "web", published: 8080, target: "80", protocol: "tcp" }], sources);
  assert.equal(
    line,
    'web publishes host port 8080 (→ 80/tcp): compose.yml:5 (services.web.ports[0]: "8080:80")',
  );
});

Deno.test("describeFixed() says when a port comes through a variable that is not in [sandbox.ports]", async () => {
  const sources = await scan(SHOP);
  const [line] = describeFixed(
    [{ service: "db", published: 5432, target: "5432", protocol: "tcp" }],
    sources,
  );
  assert.match(
    line,
    /^db publishes host port 5432 \(→ 5432\/tcp\) through \$\{SHOP_DB\}, which is not in \[sandbox\.ports\]: compose\.yml:10/,
  );
});

Deno.test("portProtocols() records UDP for a variable published over UDP, once per protocol", async () => {
  const sources = await scan(
    'services:\n  a:\n    ports:\n      - "${D:-53}:53/udp"\n      - "${D:-53}:53"\n      - "${D:-53}:53/udp"\n      - "${W:-80}:80"\n',
  );
  assert.deepEqual(portProtocols(sources), { D: ["udp", "tcp"], W: ["tcp"] });
});

Deno.test("portProtocols() files a range's _END under the range's variable", async () => {
  const sources = await scan(
    'services:\n  a:\n    ports:\n      - "${P:-9090}-${P_END:-9091}:9090-9091/udp"\n',
  );
  assert.deepEqual(portProtocols(sources), { P: ["udp"] });
});

Deno.test("httpVariables() picks variables published from a conventional HTTP container port", async () => {
  const sources = await scan(
    'services:\n  a:\n    ports:\n      - "${WEB:-8080}:8080"\n      - "${DB:-5432}:5432"\n      - "${DNS:-80}:80/udp"\n',
  );
  assert.deepEqual(httpVariables(sources), ["WEB"]);
});

Deno.test("httpVariables() always includes the health check's variable", async () => {
  const sources = await scan('services:\n  a:\n    ports:\n      - "${API:-7000}:7000"\n');
  assert.deepEqual(httpVariables(sources, "API"), ["API"]);
});
