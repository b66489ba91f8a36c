/** The proxy's forwarders and router on real loopback sockets (no Docker): switching, routing, pages. */
import assert from "node:assert/strict";
import { TcpForward } from "../../../core/proxy/forward_tcp.ts";
import { Router } from "../../../core/proxy/router.ts";
import type { Route } from "../../../core/proxy/names.ts";

/** Everything a connection sends until it closes (a reset counts as the end). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return text;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

/** A TCP server that answers every connection with `name` once it has read a line, then closes. */
function namedServer(name: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(1024);
        let seen = "";
        while (!seen.includes("\n")) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return conn.close();
          seen += new TextDecoder().decode(buf.subarray(0, n));
        }
        await conn.write(new TextEncoder().encode(`${name}:${seen}`)).catch(() => {});
        conn.close();
      })();
    }
  })().catch(() => {});
  return { port: listener.addr.port, close: () => listener.close() };
}

const freePort = () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
};

async function ask(port: number, line: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(line));
  try {
    return await readToEnd(conn);
  } finally {
    conn.close();
  }
}

const target = (port: number, sandbox: string) => ({ port, sandbox, traffic: () => {} });

Deno.test({
  name: "TcpForward: a retarget closes connections to the old sandbox; new ones reach the new one",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const [a, b] = [namedServer("a"), namedServer("b")];
    const forward = new TcpForward(freePort(), target(a.port, "1"));
    try {
      assert.equal(await ask(forward.port, "x\n"), "a:x\n");
      const until = async (ok: () => boolean) => {
        while (!ok()) await new Promise((r) => setTimeout(r, 10));
      };
      await until(() => forward.open === 0); // the first connection is gone
      const open = await Deno.connect({ hostname: "127.0.0.1", port: forward.port });
      await until(() => forward.open === 1); // accepted and piped to a
      assert.equal(forward.retarget(target(b.port, "2")), 1);
      await open.write(new TextEncoder().encode("late\n")).catch(() => 0);
      assert.equal(await readToEnd(open), "", "a connection from before the switch was answered");
      assert.equal(await ask(forward.port, "y\n"), "b:y\n");
      assert.equal(forward.retarget(target(b.port, "2")), 0, "the same target cuts nothing");
    } finally {
      forward.close();
      a.close();
      b.close();
    }
  },
});

Deno.test({
  name: "Router: the Host header picks the route; unknown names get the page (404), a dead port a 502",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const a = namedServer("a");
    const route = (port: number) =>
      ({
        host: "x",
        port,
        variable: "WEB",
        slot: { slot_id: 1, claimed_at: "t" },
        worktree: { path: "/w/a" },
      }) as unknown as Route;
    const routes: Record<string, Route> = {
      "a-m1.shop.localhost": route(a.port),
      "dead.shop.localhost": route(freePort()),
    };
    const router = new Router({
      route: (h) => routes[h],
      page: (h) => `<!--status-->page for ${h}`,
      traffic: () => {},
    });
    const port = freePort();
    router.listen(port);
    try {
      const head = (host: string) => `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`;
      assert.equal(await ask(port, head("A-M1.shop.localhost")), `a:${head("A-M1.shop.localhost")}`);
      assert.match(
        await ask(port, head("nope.shop.localhost")),
        /^HTTP\/1\.1 404[^]*page for nope\.shop\.localhost/,
      );
      assert.match(await ask(port, head("localhost")), /^HTTP\/1\.1 200/);
      assert.match(
        await ask(port, head("dead.shop.localhost")),
        /^HTTP\/1\.1 502[^]*nothing answers on its port/,
      );
    } finally {
      router.close();
      a.close();
    }
  },
});
