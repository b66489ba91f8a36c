/**
 * The health gate: the URL it polls (core/slots/ports.ts healthUrl) and the polling itself
 * (plugins/docker/health.ts waitHealthy) against a real HTTP server on loopback.
 */
import assert from "node:assert/strict";
import { healthUrl } from "../../../core/slots/ports.ts";
import { waitHealthy } from "../../../plugins/docker/health.ts";

Deno.test("healthUrl() is loopback, the health variable's port, then the endpoint", () => {
  assert.equal(
    healthUrl({ WEB: 8081, API: 9091 }, { port_var: "API", endpoint: "/health?deep=1" }),
    "http://127.0.0.1:9091/health?deep=1",
  );
});

/** Runs `fn` with a loopback server answering each request with the next status of `statuses`. */
async function withServer(statuses: number[], fn: (url: string, hits: () => number) => Promise<void>) {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    const status = statuses[Math.min(hits++, statuses.length - 1)];
    return new Response(status === 204 ? null : String(status), { status });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/health`, () => hits);
  } finally {
    await server.shutdown();
  }
}

const signal = () => new AbortController().signal;

Deno.test("waitHealthy() is ok at the first 2xx answer", () =>
  withServer([204], async (url, hits) => {
    const outcome = await waitHealthy(url, 5000, signal());
    assert.deepEqual([outcome.ok, outcome.last, hits()], [true, "204", 1]);
  }));

Deno.test("waitHealthy() keeps polling through error answers until a 2xx", () =>
  withServer([503, 500, 200], async (url, hits) => {
    const outcome = await waitHealthy(url, 5000, signal());
    assert.deepEqual([outcome.ok, hits()], [true, 3]);
  }));

Deno.test("waitHealthy() gives up at its deadline with the last answer", () =>
  withServer([503], async (url) => {
    // Long enough for a first answer on a loaded machine (80 ms once cancelled the first request).
    const outcome = await waitHealthy(url, 400, signal());
    assert.deepEqual([outcome.ok, outcome.last], [false, "answered 503"]);
    assert.ok(outcome.elapsedMs >= 400, String(outcome.elapsedMs));
  }));

Deno.test("waitHealthy() says the service did not answer when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const outcome = await waitHealthy(`http://127.0.0.1:${port}/`, 50, signal());
  assert.equal(outcome.ok, false);
  assert.match(outcome.last, /^did not answer \(/);
});

Deno.test("waitHealthy() stops when interrupted and says so", () =>
  withServer([503], async (url) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const outcome = await waitHealthy(url, 10_000, controller.signal);
    assert.deepEqual([outcome.ok, outcome.last], [false, "was interrupted"]);
    assert.ok(outcome.elapsedMs < 5000, String(outcome.elapsedMs));
  }));
