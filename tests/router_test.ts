/**
 * The router of the kinfra proxy for real: headless Chromium on `<feature>-<milestone>.<project>.
 * localhost` names (the right sandbox, cookies kept apart), a plugin's route (`sandbox.routes`)
 * carrying a WebSocket and a streamed response through, and the page for an unknown name.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, type Sandbox, writeFiles } from "./helpers.ts";
import { Browser, chromiumPath } from "./browser.ts";
import { writePlugin } from "./plugin_helpers.ts";
import { dockerTest, makeProject, randomBase } from "./sandbox_helpers.ts";
import { eventually, proxyStatus, rawGet, useRouterPort } from "./proxy_helpers.ts";

/** A CGI script: which sandbox answers, the cookie it got, and a cookie naming the sandbox. */
const WHOAMI = `#!/bin/sh
name=$(cat /app/src/name.txt)
echo "Content-Type: text/plain"
echo "Set-Cookie: sandbox=$name; Path=/"
echo ""
echo "name=$name cookie=$HTTP_COOKIE"
`;

async function project(sb: Sandbox, stem: string): Promise<string> {
  const repo = await makeProject(sb, stem, { base: randomBase() });
  await writeFiles(repo, { "src/cgi-bin/whoami": WHOAMI });
  await Deno.chmod(join(repo, "src/cgi-bin/whoami"), 0o755);
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "whoami");
  return repo;
}

async function impl(sb: Sandbox, repo: string, name: string): Promise<string> {
  const r = await sb.kinfra(["impl", `${name}/M1`, "--json"], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
  const path = r.json<{ path: string }>().path;
  await Deno.writeTextFile(join(path, "src/name.txt"), name);
  return path;
}

dockerTest(
  "Chromium reaches each sandbox at its .localhost name, and their cookies stay apart",
  async (sb, stem) => {
    if (!chromiumPath) throw new Error("This test needs Chromium (apt-get install chromium).");
    const router = await useRouterPort(sb);
    const repo = await project(sb, stem);
    await impl(sb, repo, "a");
    await impl(sb, repo, "b");
    await eventually("the router", () => proxyStatus(sb), (s) => s.parts?.router?.listening === true);
    const browser = await Browser.launch();
    try {
      const url = (name: string) => `http://${name}-m1.${stem}.localhost:${router}/cgi-bin/whoami`;
      const body = async (name: string) =>
        (await browser.open(url(name))).eval<string>("document.body.innerText.trim()");
      assert.equal(await body("a"), "name=a cookie=");
      assert.equal(await body("a"), "name=a cookie=sandbox=a");
      assert.equal(await body("b"), "name=b cookie="); // a's cookie did not follow to b
      assert.equal(await body("b"), "name=b cookie=sandbox=b");
      assert.equal(await body("a"), "name=a cookie=sandbox=a"); // and b's did not overwrite a's

      // An unknown name: the page of live sandboxes, with working links.
      const page = await browser.open(`http://nope.${stem}.localhost:${router}/`);
      const links = await page.eval<string[]>("[...document.querySelectorAll('a')].map((a) => a.href)");
      assert.ok(links.includes(`http://a-m1.${stem}.localhost:${router}/`), links.join(" "));
      assert.ok(links.includes(`http://b-m1.${stem}.localhost:${router}/`), links.join(" "));
      assert.match(
        await page.eval<string>("document.body.innerText"),
        new RegExp(`No live sandbox is called nope\\.${stem}`),
      );
    } finally {
      await browser.close();
    }
    assert.equal((await rawGet(router, `nope.${stem}.localhost`)).status, 404);
    // The name stays across down/up, whatever slot the sandbox gets back.
    assert.equal((await sb.kinfra(["down", "a-M1"], { cwd: repo })).code, 0);
    assert.equal((await rawGet(router, `a-m1.${stem}.localhost`, "/name.txt")).status, 404);
    assert.equal((await sb.kinfra(["up", "a-M1"], { cwd: repo })).code, 0);
    await eventually(
      "a's name again",
      () => rawGet(router, `a-m1.${stem}.localhost`, "/name.txt"),
      (r) => r.body === "a",
    );
  },
);

/** A server on the host behind a plugin's route: a page, a WebSocket echo, and a stream released by `release()`. */
function hostServer() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/echo") {
      const hostHeader = req.headers.get("host"); // read now: the request closes with the upgrade
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(`echo:${e.data} via ${hostHeader}`);
      return response;
    }
    if (path === "/stream") {
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode("first\n"));
            await released;
            c.enqueue(new TextEncoder().encode("second\n"));
            c.close();
          },
        }),
      );
    }
    return new Response(
      `<!doctype html><script>
        window.result = new Promise((resolve) => {
          const ws = new WebSocket("ws://" + location.host + "/echo");
          ws.onopen = () => ws.send("ping");
          ws.onmessage = (e) => resolve(e.data);
          ws.onerror = () => resolve("error");
        });
      </script>`,
      { headers: { "content-type": "text/html" } },
    );
  });
  return { server, release, port: (server.addr as Deno.NetAddr).port };
}

dockerTest(
  "a plugin's route carries a WebSocket and a streamed response through the router",
  async (sb, stem) => {
    if (!chromiumPath) throw new Error("This test needs Chromium (apt-get install chromium).");
    const host = hostServer();
    try {
      const router = await useRouterPort(sb, `\n[plugins]\nenable = ["wsroute"]\n`);
      await writePlugin(join(sb.home, "plugins"), {
        name: "wsroute",
        events: ["sandbox.routes"],
        cases: `  sandbox.routes) echo '{"routes": {"ws": ${host.port}, "Not_A_Label": 80}}' ;;`,
      });
      const repo = await project(sb, stem);
      const made = await sb.kinfra(["impl", "a/M1"], { cwd: repo });
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stderr, /plugin wsroute: route "Not_A_Label" → 80 ignored/);
      const status = await sb.kinfra(["status", "a-M1", "--json"], { cwd: repo });
      const wsUrl = `http://ws.a-m1.${stem}.localhost:${router}/`;
      assert.equal(status.json<{ urls: Record<string, string> }>().urls["plugin:ws"], wsUrl);

      const browser = await Browser.launch();
      try {
        const page = await browser.open(wsUrl);
        assert.equal(await page.eval("window.result"), `echo:ping via ws.a-m1.${stem}.localhost:${router}`);
      } finally {
        await browser.close();
      }

      // The first chunk arrives while the response is still open: nothing is buffered to the end.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: router });
      await conn.write(
        new TextEncoder().encode(`GET /stream HTTP/1.1\r\nHost: ws.a-m1.${stem}.localhost\r\n\r\n`),
      );
      let seen = "";
      const buf = new Uint8Array(4096);
      while (!seen.includes("first")) {
        seen += new TextDecoder().decode(
          buf.subarray(0, (await conn.read(buf)) ?? 0),
        );
      }
      assert.doesNotMatch(seen, /second/);
      host.release();
      while (!seen.includes("second")) {
        seen += new TextDecoder().decode(
          buf.subarray(0, (await conn.read(buf)) ?? 0),
        );
      }
      conn.close();
    } finally {
      host.release();
      await host.server.shutdown();
    }
  },
);
