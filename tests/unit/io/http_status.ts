/** core/io/http_status.ts against real sockets: the status a probe reports, and every way one can fail. */
import assert from "node:assert/strict";
import { httpStatus } from "../../../core/io/http_status.ts";
import { probe } from "../../../core/io/probe.ts";

/** An HTTP server on a free loopback port for the length of `body`. */
async function withServer(handler: (req: Request) => Response, body: (base: string) => Promise<void>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** A plain TCP listener that answers each connection with `reply` (or never, for undefined). */
async function withRaw(reply: string | undefined, body: (base: string) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      held.push(conn);
      if (reply === undefined) continue;
      await conn.write(new TextEncoder().encode(reply)).catch(() => {});
      conn.close();
    }
  })();
  try {
    await body(`http://127.0.0.1:${listener.addr.port}`);
  } finally {
    listener.close();
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed above */ }
    }
    await serving.catch(() => {});
  }
}

const timeout = () => AbortSignal.timeout(2000);

Deno.test("httpStatus() reads the status line, sends the path, query and Host", async () => {
  const seen: string[] = [];
  await withServer((req) => {
    seen.push(`${new URL(req.url).pathname}${new URL(req.url).search} ${req.headers.get("host")}`);
    return new Response("x".repeat(100_000), { status: new URL(req.url).pathname === "/bad" ? 503 : 200 });
  }, async (base) => {
    assert.equal(await httpStatus(`${base}/health?deep=1`, timeout()), 200);
    assert.equal(await httpStatus(`${base}/bad`, timeout()), 503);
    assert.equal(await probe(`${base}/bad`), "unhealthy (503)");
    assert.equal(await probe(`${base}/health`), "healthy");
    const port = new URL(base).port;
    assert.deepEqual(seen, [
      `/health?deep=1 127.0.0.1:${port}`,
      `/bad 127.0.0.1:${port}`,
      "/bad 127.0.0.1:" + port,
      `/health 127.0.0.1:${port}`,
    ]);
  });
});

Deno.test("httpStatus() follows a redirect as fetch does", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/"
        ? Response.redirect(new URL("/ok", req.url), 302)
        : new Response("ok"),
    async (base) => assert.equal(await httpStatus(`${base}/`, timeout()), 200),
  );
});

Deno.test("httpStatus() rejects an answer that is not HTTP, a closed connection and a closed port", async () => {
  await withRaw("SSH-2.0-OpenSSH\r\n", async (base) => {
    await assert.rejects(httpStatus(base, timeout()), /not HTTP/);
  });
  await withRaw("", async (base) => {
    await assert.rejects(httpStatus(base, timeout()), /without an answer/);
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assert.rejects(httpStatus(`http://127.0.0.1:${port}/`, timeout()));
  assert.equal(await probe(`http://127.0.0.1:${port}/`), "not answering");
});

Deno.test("httpStatus() gives up when its signal aborts on a server that never answers", async () => {
  await withRaw(undefined, async (base) => {
    const start = performance.now();
    await assert.rejects(httpStatus(base, AbortSignal.timeout(150)));
    assert.ok(performance.now() - start < 1500, "the abort ended the wait");
    assert.equal(await probe(base, 150), "not answering");
  });
});
