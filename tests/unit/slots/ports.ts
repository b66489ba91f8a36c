/** core/slots/ports.ts: a slot's port arithmetic, ranges by whole widths, and ports as status shows them. */
import assert from "node:assert/strict";
import {
  expandPorts,
  lastPort,
  portSpans,
  rangeWidths,
  shownPorts,
  slotPorts,
} from "../../../core/slots/ports.ts";

Deno.test("portSpans() gives a single port width 1 and keeps a range's width", () => {
  assert.deepEqual(portSpans({ WEB: 8080, LS: { base: 4510, width: 3 } }), {
    WEB: { base: 8080, width: 1 },
    LS: { base: 4510, width: 3 },
  });
});

Deno.test("lastPort() is the highest port slot maxSlots uses: base + (max + 1) * width - 1", () => {
  assert.equal(lastPort({ base: 8080, width: 1 }, 20), 8100);
  assert.equal(lastPort({ base: 9090, width: 2 }, 20), 9131);
});

Deno.test("slotPorts() puts a single port of slot n at base + n", () => {
  assert.deepEqual(slotPorts({ WEB: 8080, DB: 5432 }, 3), { WEB: 8083, DB: 5435 });
});

Deno.test("slotPorts() of slot 0 is the bases themselves", () => {
  assert.deepEqual(slotPorts({ WEB: 8080 }, 0), { WEB: 8080 });
});

Deno.test("slotPorts() moves a range by whole widths and adds its _END", () => {
  assert.deepEqual(slotPorts({ M: { base: 9090, width: 2 } }, 3), { M: 9096, M_END: 9097 });
});

Deno.test("slotPorts() gives neighbouring slots' ranges no shared port", () => {
  const one = slotPorts({ M: { base: 9090, width: 3 } }, 1);
  const two = slotPorts({ M: { base: 9090, width: 3 } }, 2);
  assert.equal(two.M, one.M_END + 1);
});

Deno.test("rangeWidths() lists only the ranges' widths", () => {
  assert.deepEqual(rangeWidths({ WEB: 8080, LS: { base: 4510, width: 3 } }), { LS: 3 });
});

Deno.test("rangeWidths() is undefined without a range, so the registry keeps no empty field", () => {
  assert.equal(rangeWidths({ WEB: 8080 }), undefined);
});

Deno.test("expandPorts() lists each single port once with its variable", () => {
  assert.deepEqual(expandPorts({ WEB: 8081, DB: 5433 }), [{ name: "WEB", port: 8081 }, {
    name: "DB",
    port: 5433,
  }]);
});

Deno.test("expandPorts() lists every port of a range under the range's variable", () => {
  assert.deepEqual(expandPorts({ LS: 4513 }, { LS: 3 }), [
    { name: "LS", port: 4513 },
    { name: "LS", port: 4514 },
    { name: "LS", port: 4515 },
  ]);
});

Deno.test("shownPorts() shows a port as an http link on loopback", () => {
  assert.deepEqual(shownPorts({ ports: { WEB: 8081 } }), [{
    name: "WEB",
    port: 8081,
    url: "http://127.0.0.1:8081/",
  }]);
});

Deno.test("shownPorts() links only the ports recorded as serving HTTP", () => {
  const shown = shownPorts({ ports: { WEB: 8081, DB: 5433 }, http: ["WEB"] });
  assert.deepEqual(shown.map((p) => p.url), ["http://127.0.0.1:8081/", null]);
});

Deno.test("shownPorts() links every port of a slot recorded before kinfra kept http", () => {
  const shown = shownPorts({ ports: { WEB: 8081, DB: 5433 } });
  assert.deepEqual(shown.map((p) => p.url), ["http://127.0.0.1:8081/", "http://127.0.0.1:5433/"]);
});

Deno.test("shownPorts() shows a range once, with its last port, and hides its _END", () => {
  assert.deepEqual(shownPorts({ ports: { LS: 4513, LS_END: 4515 }, widths: { LS: 3 } }), [
    { name: "LS", port: 4513, url: null, note: "…4515" },
  ]);
});

Deno.test("shownPorts() keeps a variable that merely ends in _END when it is no range's", () => {
  assert.deepEqual(shownPorts({ ports: { BACK_END: 8081 }, http: [] }), [{
    name: "BACK_END",
    port: 8081,
    url: null,
  }]);
});

Deno.test("shownPorts() marks a UDP port and gives it no link", () => {
  assert.deepEqual(shownPorts({ ports: { DNS: 5354 }, udp: ["DNS"] }), [
    { name: "DNS", port: 5354, url: null, note: "/udp" },
  ]);
});
