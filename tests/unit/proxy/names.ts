/** The proxy's pure parts: sandbox names, routes, canonical ports, /proc parsing, Host headers. */
import assert from "node:assert/strict";
import { portLabel, requestHost, routesOf, sandboxHost, sandboxUrls } from "../../../core/proxy/names.ts";
import { canonicalPorts, checkoutsOf, isCheckedOut } from "../../../core/proxy/checkouts.ts";
import { socketInodes } from "../../../core/proxy/holder.ts";
import type { Registry, SlotEntry, WorktreeEntry } from "../../../core/slots/registry.ts";

const worktree = (feature: string, milestone: string, created = "2026-01-01T00:00:00Z"): WorktreeEntry => ({
  path: `/w/shop-impl-${feature}-${milestone}`,
  kind: "impl",
  project: "shop",
  project_root: "/w/shop",
  feature,
  milestone,
  branch: `impl/${feature}-${milestone}`,
  base: "main",
  created_at: created,
});

const slot = (id: number, path: string, extra: Partial<SlotEntry> = {}): SlotEntry => ({
  slot_id: id,
  project: "shop",
  worktree_path: path,
  slot_dir: `/h/slots/shop-${id}`,
  compose_file_copy: `/h/slots/shop-${id}/docker-compose.yml`,
  ports: { SHOP_WEB_PORT: 8080 + id, SHOP_ADMIN_PORT: 9000 + id },
  http: ["SHOP_ADMIN_PORT", "SHOP_WEB_PORT"],
  primary: "SHOP_WEB_PORT",
  claimed_at: "2026-01-01T00:00:00Z",
  status: "running",
  ...extra,
});

function registryOf(...pairs: [WorktreeEntry, SlotEntry?][]): Registry {
  const registry: Registry = { version: 1, slots: {}, worktrees: {} };
  for (const [w, s] of pairs) {
    registry.worktrees[w.path] = w;
    if (s) registry.slots[String(s.slot_id)] = s;
  }
  return registry;
}

Deno.test("sandboxHost() names a worktree <feature>-<milestone>.<project>.localhost, as a DNS label", () => {
  assert.equal(sandboxHost(worktree("checkout", "M1")), "checkout-m1.shop.localhost");
  assert.equal(sandboxHost(worktree("Pay_v2.1", "M2")), "pay-v2-1-m2.shop.localhost");
});

Deno.test("portLabel() drops the project prefix and _PORT: SHOP_ADMIN_PORT → admin", () => {
  assert.equal(portLabel("SHOP_ADMIN_PORT", "shop"), "admin");
  assert.equal(portLabel("MY_APP_API_PORT", "my-app"), "api");
  assert.equal(portLabel("OTHER_HTTP", "shop"), "other-http");
  assert.equal(portLabel("SHOP_PORT", "shop"), "port");
});

Deno.test("routesOf() gives the primary name and one per HTTP port, only for live sandboxes", () => {
  const a = worktree("a", "M1"), b = worktree("b", "M1");
  const routes = routesOf(registryOf([a, slot(1, a.path)], [b, slot(2, b.path, { status: "stopping" })]));
  assert.equal(routes.get("a-m1.shop.localhost")?.port, 8081);
  assert.equal(routes.get("admin.a-m1.shop.localhost")?.port, 9001);
  assert.equal(routes.get("web.a-m1.shop.localhost")?.port, 8081);
  assert.equal(routes.get("shop-admin-port.a-m1.shop.localhost")?.port, 9001);
  assert.equal(routes.has("b-m1.shop.localhost"), false);
});

Deno.test("routesOf(): without a recorded primary, the first HTTP port; a plugin's routes are names too", () => {
  const a = worktree("a", "M1");
  const routes = routesOf(
    registryOf([
      a,
      slot(1, a.path, { primary: undefined, http: ["SHOP_ADMIN_PORT"], routes: { docs: 7000 } }),
    ]),
  );
  assert.equal(routes.get("a-m1.shop.localhost")?.port, 9001);
  assert.equal(routes.get("docs.a-m1.shop.localhost")?.port, 7000);
});

Deno.test("routesOf(): two worktrees with one name — the older keeps it", () => {
  const older = worktree("a.b", "M1", "2026-01-01T00:00:00Z"),
    newer = worktree("a-b", "M1", "2026-02-01T00:00:00Z");
  const routes = routesOf(registryOf([newer, slot(2, newer.path)], [older, slot(1, older.path)]));
  assert.equal(routes.get("a-b-m1.shop.localhost")?.worktree.path, older.path);
});

Deno.test("sandboxUrls() gives url (primary) and urls per HTTP variable", () => {
  const a = worktree("a", "M1");
  assert.deepEqual(sandboxUrls(slot(1, a.path), a, 4390), {
    url: "http://a-m1.shop.localhost:4390/",
    urls: {
      SHOP_ADMIN_PORT: "http://admin.a-m1.shop.localhost:4390/",
      SHOP_WEB_PORT: "http://a-m1.shop.localhost:4390/",
    },
  });
});

Deno.test("canonicalPorts() are the bases: single ports, ranges by whole widths, UDP and TCP+UDP", () => {
  const s = slot(3, "/w/x", {
    ports: { WEB: 8083, LS: 4519, LS_END: 4521, DNS: 5303, SIP: 5063 },
    widths: { LS: 3 },
    udp: ["DNS"],
    also_udp: ["SIP"],
  });
  assert.deepEqual(canonicalPorts(s).map((p) => `${p.variable} ${p.port}/${p.protocol}→${p.target}`), [
    "WEB 8080/tcp→8083",
    "LS 4510/tcp→4519",
    "LS 4511/tcp→4520",
    "LS 4512/tcp→4521",
    "DNS 5300/udp→5303",
    "SIP 5060/tcp→5063",
    "SIP 5060/udp→5063",
  ]);
});

Deno.test("checkoutsOf() drops a checkout whose worktree is gone and has no slot for a stopped sandbox", () => {
  const a = worktree("a", "M1"), b = worktree("b", "M1");
  const registry = registryOf([a], [b, slot(2, b.path)]);
  registry.checkouts = { shop: a.path, gone: "/w/gone" };
  assert.deepEqual(checkoutsOf(registry).map((c) => [c.project, c.worktree.path, c.slot?.slot_id]), [
    ["shop", a.path, undefined],
  ]);
  assert.equal(isCheckedOut(registry, a.path), true);
  assert.equal(isCheckedOut(registry, b.path), false);
});

Deno.test("socketInodes() finds listening TCP sockets (and any UDP one) on a port in /proc/net tables", () => {
  const table =
    `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1`;
  assert.deepEqual([...socketInodes(table, 8080, "tcp")], ["4242"]);
  assert.deepEqual([...socketInodes(table, 8080, "udp")], ["4242", "4343"]);
});

Deno.test("requestHost() strips the port, the trailing dot and case", () => {
  assert.equal(requestHost("A-M1.Shop.LOCALHOST:4390"), "a-m1.shop.localhost");
  assert.equal(requestHost("a-m1.shop.localhost."), "a-m1.shop.localhost");
  assert.equal(requestHost("[::1]:4390"), "[::1]");
});

Deno.test("routesOf(): <project>.localhost is the checked-out sandbox, none without a checkout", () => {
  const a = worktree("a", "M1"), b = worktree("b", "M1");
  const registry = registryOf([a, slot(1, a.path)], [b, slot(2, b.path)]);
  assert.equal(routesOf(registry).has("shop.localhost"), false);
  registry.checkouts = { shop: b.path };
  assert.equal(routesOf(registry).get("shop.localhost")?.port, 8082);
});
