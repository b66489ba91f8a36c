/**
 * `kinfra checkout` for real: two sandboxes of one project, TCP clients and curl on the canonical
 * port while it switches (an open connection is closed cleanly, never answered by the other
 * sandbox), release and return with `--none`, `down`, `up` and `done`, a held port refused with its
 * holder named, and a port below 1024 refused with what the OS needs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, KINFRA, runCommand, type Sandbox, writeFiles } from "./helpers.ts";
import { dockerTest, makeProject, randomBase } from "./sandbox_helpers.ts";
import { eventually, proxyStatus, rawGet, readToEnd, useRouterPort } from "./proxy_helpers.ts";

/** A CGI script that says which sandbox answers, then waits for `go` before its last line. */
const STREAM = `#!/bin/sh
echo "Content-Type: text/plain"
echo ""
echo "$(cat /app/src/name.txt) 1"
while [ ! -e /app/src/go ]; do sleep 0.1; done
echo "$(cat /app/src/name.txt) 2"
`;

/** Two running sandboxes of one project, `a-M1` and `b-M1`, each serving its own name. */
async function twoSandboxes(sb: Sandbox, stem: string, base: number) {
  const repo = await makeProject(sb, stem, { base });
  await writeFiles(repo, { "src/cgi-bin/stream": STREAM });
  await Deno.chmod(join(repo, "src/cgi-bin/stream"), 0o755);
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "stream");
  const paths: Record<string, string> = {};
  // Each sandbox's own web port, as impl reports it (a slot another test's port blocks is skipped).
  const ports: Record<string, number> = {};
  for (const name of ["a", "b"]) {
    const r = await sb.kinfra(["impl", `${name}/M1`, "--json"], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    paths[name] = r.json<{ path: string }>().path;
    ports[name] = Object.values(r.json<{ ports: Record<string, number> }>().ports)[0];
    await Deno.writeTextFile(join(paths[name], "src/name.txt"), `${name}\n`);
  }
  return { repo, paths, ports };
}

/** GET a path on 127.0.0.1:port; "" when nothing listens there or the connection closes. */
async function get(port: number, path = "/name.txt"): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return await r.text();
  } catch {
    return "";
  }
}

const checkedOut = async (sb: Sandbox, cwd: string) =>
  (await sb.kinfra(["worktrees", "--json"], { cwd })).json<
    { worktrees: { name: string; checked_out: boolean }[] }
  >()
    .worktrees.filter((w) => w.checked_out).map((w) => w.name);

dockerTest(
  "checkout moves the canonical port between sandboxes; open connections never get the other's answer",
  async (sb, stem) => {
    const router = await useRouterPort(sb);
    const base = randomBase();
    const { repo, paths, ports } = await twoSandboxes(sb, stem, base);
    assert.equal(await get(base), ""); // nothing on the canonical port before a checkout
    const projectName = async () => (await rawGet(router, `${stem}.localhost`, "/name.txt")).body;

    const a = await sb.kinfra(["checkout", "a-M1", "--json"], { cwd: repo });
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.json().ports, [{
      variable: `${stem.toUpperCase()}_WEB_PORT`,
      port: base,
      target: ports.a,
      protocol: "tcp",
    }]);
    assert.equal(await get(base), "a\n");
    assert.equal(await projectName(), "a\n"); // <project>.localhost: the checked-out sandbox
    const curl = await runCommand("curl", ["-s", `http://127.0.0.1:${base}/name.txt`]);
    assert.equal(curl.stdout, "a\n");

    // Across the switch: an idle connection, and a response still streaming from a.
    const idle = await Deno.connect({ hostname: "127.0.0.1", port: base });
    const streaming = await Deno.connect({ hostname: "127.0.0.1", port: base });
    await streaming.write(new TextEncoder().encode("GET /cgi-bin/stream HTTP/1.0\r\n\r\n"));
    const firstChunk = new Uint8Array(4096);
    let seen = "";
    while (!seen.includes("a 1")) {
      seen += new TextDecoder().decode(firstChunk.subarray(0, (await streaming.read(firstChunk))!));
    }

    const b = await sb.kinfra(["checkout", "b-M1", "--json"], { cwd: repo });
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.json().previous, paths.a);
    await Deno.writeTextFile(join(paths.a, "src/go"), "");
    await Deno.writeTextFile(join(paths.b, "src/go"), "");
    const rest = await readToEnd(streaming);
    assert.doesNotMatch(seen + rest, /^b /m, "the stream was answered by the other sandbox");
    assert.doesNotMatch(rest, /a 2/, "the stream to the old sandbox went on after the switch");
    await idle.write(new TextEncoder().encode("GET /name.txt HTTP/1.0\r\n\r\n")).catch(() => 0);
    assert.equal(await readToEnd(idle), "", "a connection opened before the switch was answered");
    idle.close();
    streaming.close();

    assert.equal(await get(base), "b\n");
    assert.equal(await projectName(), "b\n");
    assert.equal((await runCommand("curl", ["-s", `http://127.0.0.1:${base}/name.txt`])).stdout, "b\n");
    assert.deepEqual(await checkedOut(sb, repo), [`${stem}-impl-b-M1`]);
    const status = await sb.kinfra(["status", "b-M1", "--json"], { cwd: repo });
    assert.equal(status.json().checked_out, true);
    assert.match(status.stdout, /"url": "http:\/\/b-m1\./);
    assert.equal((await sb.kinfra(["status", "a-M1", "--json"], { cwd: repo })).json().checked_out, false);
    assert.match(
      (await sb.kinfra(["status", "b-M1"], { cwd: repo })).stdout,
      new RegExp(`checked out: 127\\.0\\.0\\.1:${base} → ${ports.b}`),
    );

    const none = await sb.kinfra(["checkout", "--none", "--json"], { cwd: repo });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.json().released, paths.b);
    assert.equal(await get(base), "");
    assert.deepEqual(await checkedOut(sb, repo), []);
  },
);

dockerTest(
  "down releases the checked-out worktree's ports, up brings them back, done ends the checkout",
  async (sb, stem) => {
    await useRouterPort(sb);
    const base = randomBase();
    const { repo, ports } = await twoSandboxes(sb, stem, base);
    assert.equal((await sb.kinfra(["checkout", "a-M1"], { cwd: repo })).code, 0);
    assert.equal(await get(base), "a\n");

    assert.equal((await sb.kinfra(["down", "a-M1"], { cwd: repo })).code, 0);
    assert.equal(await get(base), "", "the port stayed open after down");
    assert.deepEqual(await checkedOut(sb, repo), [`${stem}-impl-a-M1`]); // still the checkout, with no ports
    assert.equal((await sb.kinfra(["up", "a-M1"], { cwd: repo })).code, 0);
    assert.equal(await get(base), "a\n");

    const done = await sb.kinfra(["done", "a-M1", "--force"], { cwd: repo });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await get(base), "");
    assert.deepEqual(await checkedOut(sb, repo), []);
    // b's sandbox never noticed any of it.
    assert.equal(await get(ports.b), "b\n");
  },
);

dockerTest(
  "a canonical port held by another process is refused, naming it, and nothing changes",
  async (sb, stem) => {
    await useRouterPort(sb);
    const base = randomBase();
    const { repo } = await twoSandboxes(sb, stem, base);
    const holder = Deno.listen({ hostname: "127.0.0.1", port: base });
    try {
      const r = await sb.kinfra(["checkout", "a-M1"], { cwd: repo });
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`port ${base} \\(${stem.toUpperCase()}_WEB_PORT\\) is held by pid ${Deno.pid} \\(deno`),
      );
      assert.match(r.stderr, /Nothing was changed/);
      const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
      assert.deepEqual(registry.checkouts ?? {}, {});
      const status = await proxyStatus(sb);
      assert.deepEqual(status.running ? status.parts!.checkout.checkouts : {}, {});
    } finally {
      holder.close();
    }
    // Once it is free, the same command works.
    assert.equal((await sb.kinfra(["checkout", "a-M1"], { cwd: repo })).code, 0);
    assert.equal(await get(base), "a\n");
  },
);

dockerTest(
  "a canonical port below 1024 the OS will not let kinfra bind is refused with what the OS needs",
  async (sb, stem) => {
    await useRouterPort(sb);
    const repo = await makeProject(sb, stem, { base: 900 });
    const impl = await sb.kinfra(["impl", "a/M1", "--no-sandbox"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    // Root without CAP_NET_BIND_SERVICE: what an ordinary user is.
    const r = await runCommand(
      "setpriv",
      [
        "--inh-caps=-net_bind_service",
        "--bounding-set=-net_bind_service",
        "--",
        ...KINFRA,
        "checkout",
        "a-M1",
      ],
      { cwd: repo, env: { KINFRA_HOME: sb.home, NO_COLOR: "1" } },
    );
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /port 900 \(\w+_WEB_PORT\) is below 1024, and the OS does not let this process bind it/,
    );
    assert.match(r.stderr, /ip_unprivileged_port_start=900/);
    assert.match(r.stderr, /cap_net_bind_service/);
    const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
    assert.deepEqual(registry.checkouts ?? {}, {});
  },
);

dockerTest(
  "status and worktrees say which worktree is checked out, before its sandbox is even up",
  async (sb, stem) => {
    await useRouterPort(sb);
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base });
    assert.equal((await sb.kinfra(["impl", "a/M1", "--no-sandbox"], { cwd: repo })).code, 0);
    const r = await sb.kinfra(["checkout", "a-M1", "--json"], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().live, false);
    assert.equal((await sb.kinfra(["status", "a-M1", "--json"], { cwd: repo })).json().checked_out, true);
    assert.equal(await get(base), "");
    assert.equal((await sb.kinfra(["up", "a-M1"], { cwd: repo })).code, 0);
    await eventually("the canonical port", () => get(base, "/health"), (body) => body === "ok\n");
  },
);

/** Sends one datagram to 127.0.0.1:port and returns the answer ("" when none comes within 2 s). */
async function udpAsk(port: number, message: string): Promise<string> {
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(""), 2000);
      socket.on("message", (m) => {
        clearTimeout(timer);
        resolve(new TextDecoder().decode(m));
      });
      socket.on("error", () => {});
      socket.send(message, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

const gcc = await runCommand("gcc", ["--version"]).then((r) => r.code === 0, () => false);

dockerTest("a /udp port is forwarded over UDP and switches with the checkout", async (sb, stem) => {
  if (!gcc) throw new Error("This test builds its UDP server with gcc (apt-get install gcc libc6-dev).");
  await useRouterPort(sb);
  const base = randomBase(), udpBase = base + 50;
  const binary = join(sb.dir, "udpecho");
  const build = await runCommand("gcc", [
    "-static",
    "-O2",
    "-o",
    binary,
    new URL("./fixtures/udpecho.c", import.meta.url).pathname,
  ]);
  assert.equal(build.code, 0, build.stderr);
  const variable = `${stem.toUpperCase()}_DNS_PORT`;
  const repo = await makeProject(sb, stem, {
    base,
    extraServices: `  dns:
    image: kinfra-test/busybox:latest
    init: true
    command: ["/udpecho", "5353", "slot-\${${variable}}"]
    volumes:
      - "${binary}:/udpecho:ro"
    ports:
      - "\${${variable}:-${udpBase}}:5353/udp"
`,
  });
  await Deno.writeTextFile(
    join(repo, ".devops-ai/infra.toml"),
    (await Deno.readTextFile(join(repo, ".devops-ai/infra.toml"))).replace(
      "[sandbox.ports]\n",
      `[sandbox.ports]\n${variable} = ${udpBase}\n`,
    ),
  );
  await git(repo, "commit", "-qam", "udp");
  const udpPorts: Record<string, number> = {};
  for (const name of ["a", "b"]) {
    const r = await sb.kinfra(["impl", `${name}/M1`, "--json"], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    udpPorts[name] = r.json<{ ports: Record<string, number> }>().ports[variable];
  }
  const a = await sb.kinfra(["checkout", "a-M1", "--json"], { cwd: repo });
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(
    a.json<{ ports: { variable: string; protocol: string }[] }>().ports.map((p) =>
      `${p.variable}/${p.protocol}`
    ).sort(),
    [`${variable}/udp`, `${stem.toUpperCase()}_WEB_PORT/tcp`],
  );
  assert.equal(await udpAsk(udpBase, "hello"), `slot-${udpPorts.a}:hello`);
  assert.equal((await sb.kinfra(["checkout", "b-M1"], { cwd: repo })).code, 0);
  assert.equal(await udpAsk(udpBase, "again"), `slot-${udpPorts.b}:again`);
  assert.equal((await sb.kinfra(["checkout", "--none"], { cwd: repo })).code, 0);
  assert.equal(await udpAsk(udpBase, "gone"), "");
});
