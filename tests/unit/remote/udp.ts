/**
 * The UDP relay of remote slots (issue 28): which ports go through it, the frames that keep each
 * datagram whole and each client's replies its own, what a relay that died tells the user; and the
 * way back for remote traces (otlp_relay.ts).
 */
import assert from "node:assert/strict";
import type { Host } from "../../../core/remote/hosts.ts";
import { tunnelPorts, udpTunnelPorts } from "../../../core/remote/tunnels.ts";
import { relayFailure, UDP_RELAY_PY, udpRelayArgs } from "../../../core/remote/udp_relay.ts";
import { frame, unframe } from "../../../core/proxy/udp_relay.ts";
import { otlpRelayArgs } from "../../../core/remote/otlp_relay.ts";

const host: Host = {
  name: "big",
  endpoint: "ssh://me@box",
  docker_host: "ssh://me@box",
  ssh: { destination: "me@box" },
  added_at: "",
};

Deno.test("udpTunnelPorts() takes UDP-only and TCP+UDP variables, ranges whole, each port once", () => {
  const slot = {
    ports: { WEB: 8081, DNS: 5301, RTP: 7002, RTP_END: 7003 },
    widths: { RTP: 2 },
    udp: ["RTP"],
    also_udp: ["DNS"],
  };
  assert.deepEqual(udpTunnelPorts(slot), [5301, 7002, 7003]);
  // TCP+UDP on one number goes through both: ssh -L for TCP, the relay for UDP.
  assert.deepEqual(tunnelPorts(slot), [8081, 5301]);
  assert.deepEqual(udpTunnelPorts({ ports: { WEB: 8081 } }), []);
});

Deno.test("frame()/unframe() keep datagram boundaries, across split reads and empty datagrams", () => {
  const text = (d: Uint8Array) => new TextDecoder().decode(d);
  const bytes = new Uint8Array([
    ...frame(1, 5301, new TextEncoder().encode("a")),
    ...frame(70000, 5301, new Uint8Array(0)),
    ...frame(2, 65535, new TextEncoder().encode("bb")),
  ]);
  const whole = unframe(bytes);
  assert.deepEqual(whole.frames.map((f) => [f.id, f.port, text(f.data)]), [
    [1, 5301, "a"],
    [70000, 5301, ""],
    [2, 65535, "bb"],
  ]);
  assert.equal(whole.rest.length, 0);
  // Split anywhere: the complete frames come out, the rest waits for the next read.
  for (let cut = 0; cut <= bytes.length; cut++) {
    const first = unframe(bytes.slice(0, cut));
    const joined = new Uint8Array([...first.rest, ...bytes.slice(cut)]);
    const second = unframe(joined);
    assert.deepEqual(
      [...first.frames, ...second.frames].map((f) => text(f.data)),
      ["a", "", "bb"],
      `cut ${cut}`,
    );
  }
});

Deno.test("udpRelayArgs() runs python3 with the relay quoted as one word and only the slot's ports", () => {
  const args = udpRelayArgs(host, [5301, 7002]);
  assert.deepEqual(args.slice(-2, -1), ["me@box"]);
  const command = args.at(-1)!;
  assert.match(command, /^python3 -c '/);
  assert.match(command, / 5301 7002$/);
  assert.ok(UDP_RELAY_PY.includes("allowed"), "the relay sends only to the ports it was given");
});

Deno.test("relayFailure() names python3 and the host when python3 is missing there", () => {
  assert.match(
    relayFailure(host, 127, "bash: python3: command not found\n"),
    /python3 is missing on big: install it/,
  );
  assert.equal(
    relayFailure(host, 255, "ssh: connect to host box: Connection refused\n"),
    "ssh: connect to host box: Connection refused",
  );
});

Deno.test("otlpRelayArgs() forwards the collector's port to a socket there and runs the forwarder on the gateway", () => {
  const args = otlpRelayArgs(host, 4317, "/home/me/.kinfra/otlp-3-ab.sock", "172.17.0.1", 43103);
  assert.deepEqual(args.slice(0, 4), [
    "-o",
    "ExitOnForwardFailure=yes",
    "-R",
    "/home/me/.kinfra/otlp-3-ab.sock:127.0.0.1:4317",
  ]);
  assert.match(args.at(-1)!, /^python3 -c '.*' 172\.17\.0\.1 43103 \/home\/me\/\.kinfra\/otlp-3-ab\.sock$/s);
});
