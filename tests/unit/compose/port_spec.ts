/** core/compose/port_spec.ts: Compose's port syntax as written, read and rewritten. */
import assert from "node:assert/strict";
import {
  parseHostPorts,
  parseShortPort,
  renderHost,
  renderShort,
  type ShortPort,
} from "../../../core/compose/port_spec.ts";

const short = (text: string) => parseShortPort(text) as ShortPort;

Deno.test("parseShortPort() reads host:container with tcp as the default protocol", () => {
  assert.deepEqual(parseShortPort("8080:80"), {
    container: "80",
    protocol: "tcp",
    host: { start: { port: 8080 } },
  });
});

Deno.test("parseShortPort() leaves the host out when only the container port is given", () => {
  assert.deepEqual(parseShortPort("80"), { container: "80", protocol: "tcp" });
});

Deno.test("parseShortPort() keeps the protocol in the container part and reports it", () => {
  const port = short("5353:53/udp");
  assert.deepEqual([port.container, port.protocol], ["53/udp", "udp"]);
});

Deno.test("parseShortPort() reads an IP before the host port", () => {
  assert.equal(short("127.0.0.1:8080:80").ip, "127.0.0.1");
});

Deno.test("parseShortPort() reads an IP with an empty host part as Docker picking the port", () => {
  assert.deepEqual(parseShortPort("127.0.0.1::80"), { ip: "127.0.0.1", container: "80", protocol: "tcp" });
});

Deno.test("parseShortPort() keeps a bracketed IPv6 address whole", () => {
  assert.equal(short("[::1]:8080:80").ip, "[::1]");
});

Deno.test("parseShortPort() keeps a variable IP with its default whole", () => {
  assert.equal(short("${BIND:-0.0.0.0}:8000:8000").ip, "${BIND:-0.0.0.0}");
});

Deno.test("parseShortPort() reads host and container ranges", () => {
  assert.deepEqual(short("4510-4512:4510-4512").host, { start: { port: 4510 }, end: { port: 4512 } });
});

Deno.test("parseShortPort() says an unbracketed IPv6 address has too many colons", () => {
  assert.equal(
    parseShortPort("::1:8080:80"),
    '"::1:8080:80" has too many colons (write an IPv6 address in brackets)',
  );
});

Deno.test("parseShortPort() refuses four colon-separated parts", () => {
  assert.equal(
    parseShortPort("1:8080:80:90"),
    '"1:8080:80:90" has too many colons (write an IPv6 address in brackets)',
  );
});

Deno.test("parseShortPort() says a container part that is no number or range is one", () => {
  assert.equal(parseShortPort("8080:http"), 'container port "http" is not a number or a range');
});

Deno.test("parseHostPorts() reads a number", () => {
  assert.deepEqual(parseHostPorts("8080"), { start: { port: 8080 } });
});

Deno.test("parseHostPorts() reads ${VAR:-default} with the default as a number", () => {
  assert.deepEqual(parseHostPorts("${WEB:-8080}"), { start: { variable: "WEB", fallback: 8080 } });
});

Deno.test("parseHostPorts() reads ${VAR-default} (no colon) with its default", () => {
  assert.deepEqual(parseHostPorts("${WEB-8080}"), { start: { variable: "WEB", fallback: 8080 } });
});

Deno.test("parseHostPorts() reads ${VAR}, $VAR and ${VAR:?error} as variables without a default", () => {
  assert.deepEqual(parseHostPorts("${WEB}"), { start: { variable: "WEB" } });
  assert.deepEqual(parseHostPorts("$WEB"), { start: { variable: "WEB" } });
  assert.deepEqual(parseHostPorts("${WEB:?set it}"), { start: { variable: "WEB" } });
});

Deno.test("parseHostPorts() takes no default from ${VAR:?message}, even a numeric message", () => {
  assert.deepEqual(parseHostPorts("${WEB:?8080}"), { start: { variable: "WEB" } });
});

Deno.test("parseHostPorts() gives no default when the default is not a number", () => {
  assert.deepEqual(parseHostPorts("${WEB:-eighty}"), { start: { variable: "WEB" } });
});

Deno.test("parseHostPorts() splits a range of variables at the '-' outside ${…}", () => {
  assert.deepEqual(parseHostPorts("${P:-9090}-${P_END:-9091}"), {
    start: { variable: "P", fallback: 9090 },
    end: { variable: "P_END", fallback: 9091 },
  });
});

Deno.test("parseHostPorts() says what it cannot read", () => {
  assert.equal(parseHostPorts("web"), 'host port "web" is neither a number, a range nor a variable');
  assert.equal(parseHostPorts("80-"), 'host port "80-" is neither a number, a range nor a variable');
});

Deno.test("renderHost() writes one variable with the old port as default", () => {
  assert.equal(renderHost("SHOP_WEB_PORT", 8080), "${SHOP_WEB_PORT:-8080}");
});

Deno.test("renderHost() writes a range as VAR and VAR_END with the old ends as defaults", () => {
  assert.equal(renderHost("P", 9090, 9091), "${P:-9090}-${P_END:-9091}");
});

Deno.test("renderShort() replaces the host part and keeps IP, container and protocol as written", () => {
  assert.equal(renderShort(short("127.0.0.1:8080:80/udp"), "${P:-8080}"), "127.0.0.1:${P:-8080}:80/udp");
});

Deno.test("renderShort() adds a host part to an entry that had none", () => {
  assert.equal(renderShort(short("80"), "${P:-80}"), "${P:-80}:80");
});

Deno.test("renderShort() keeps an empty IP part as written", () => {
  assert.equal(renderShort(short(":8080:80"), "${P:-8080}"), ":${P:-8080}:80");
});

Deno.test("a rendered entry reads back as the variable it was given", () => {
  const again = short(renderShort(short("[::1]:4510-4512:4510-4512"), renderHost("LS", 4510, 4512)));
  assert.deepEqual(again, {
    ip: "[::1]",
    container: "4510-4512",
    protocol: "tcp",
    host: { start: { variable: "LS", fallback: 4510 }, end: { variable: "LS_END", fallback: 4512 } },
  });
});
