/**
 * The `remote` section of scripts/bench.ts (root only): a sandbox on the test host of
 * scripts/remote_host.sh (a Docker engine in its own network namespace, reached over ssh) against
 * the raw commands a user would run for the same thing — compose up/down with DOCKER_HOST=ssh://,
 * one rsync pass, requests straight to the host's address instead of through the tunnel, UDP round
 * trips straight to the host instead of through the relay — and the
 * same engine over tcp:// with TLS (no ssh: the code through the engine API, ports through kinfra's
 * relay) against compose over TLS by hand, one `docker cp`, requests straight to the host. The host's
 * own build and teardown times are printed too (they are the test suite's cost, not kinfra's).
 */
import { join } from "../core/io/path.ts";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

export interface RemoteKit {
  rounds: number;
  repo: string;
  run: (
    cmd: string,
    args: string[],
    cwd?: string,
    env?: Record<string, string>,
  ) => Promise<{ ms: number; stdout: string }>;
  main: string;
  compose: { command: string; argv: string[] };
  row: (measurement: string, kinfra: number, baseline: number, note?: string) => void;
  median: (xs: number[]) => number;
  log: (text: string) => void;
}

const SCRIPT = new URL("./remote_host.sh", import.meta.url).pathname;

/** GETs `url` until it answers `body` (any answer when undefined; 20 s at most); resolves to the wait in ms. */
async function until(url: string, body?: string): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < 20_000) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (body === undefined || (await r.text()) === body) return performance.now() - start;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} never answered ${JSON.stringify(body)}`);
}

/** 100 GETs over new connections; ms for the batch. */
async function batch(url: string): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < 100; i++) await (await fetch(url)).text();
  return performance.now() - start;
}

export async function remoteBench(kit: RemoteKit): Promise<void> {
  if (Deno.uid() !== 0) return kit.log("remote: skipped (building the test host needs root)");
  const state = await Deno.makeTempDir({ prefix: "kinfra-bench-host-" });
  const upStart = performance.now();
  const up = await kit.run("bash", [SCRIPT, "up", state]);
  const upMs = performance.now() - upStart;
  const vars = Object.fromEntries(up.stdout.trim().split("\n").map((l) => l.split("=", 2)));
  const env = { PATH: `${vars.REMOTE_SSH_BIN}:${Deno.env.get("PATH")}`, KINFRA_COMPOSE: kit.compose.command };
  const kinfra = (...args: string[]) =>
    kit.run(Deno.execPath(), ["run", "-A", "--quiet", V8_FLAGS_ARG, kit.main, ...args], kit.repo, env);
  const remoteEnv = { ...env, DOCKER_HOST: vars.REMOTE_ENDPOINT };
  try {
    await kinfra("hosts", "add", "benchhost", vars.REMOTE_ENDPOINT);
    const impl: number[] = [], done: number[] = [], rawUp: number[] = [], rawDown: number[] = [];
    const edit: number[] = [], rsync: number[] = [], tunnel: number[] = [], direct: number[] = [];
    const file = join(kit.repo, "docker-compose.yml");
    const override = join(state, "raw.override.yml");
    await Deno.writeTextFile(override, 'services:\n  web:\n    volumes: ["/tmp/rsync-bench/src:/app/src"]\n');
    for (let r = 0; r < kit.rounds; r++) {
      const made = await kinfra("impl", `rb${r}/M1`, "--host", "benchhost", "--json");
      impl.push(made.ms);
      const out = JSON.parse(made.stdout);
      const port = out.ports.BENCH_WEB_PORT;
      // An edit, seen served by the remote container through the tunnel.
      const start = performance.now();
      await Deno.writeTextFile(join(out.path, "src/edit.txt"), `v${r}\n`);
      await until(`http://127.0.0.1:${port}/edit.txt`, `v${r}\n`);
      edit.push(performance.now() - start);
      rsync.push(
        (await kit.run(
          "rsync",
          ["-a", "--delete", `${out.path}/`, `${vars.REMOTE_ADDR}:/tmp/rsync-bench/`],
          kit.repo,
          env,
        )).ms,
      );
      tunnel.push(await batch(`http://127.0.0.1:${port}/health`));
      direct.push(await batch(`http://${vars.REMOTE_ADDR}:${port}/health`));
      done.push((await kinfra("done", `rb${r}-M1`, "--force")).ms);
      // Raw: the same compose file on the same engine, by hand, its code from the rsync'd copy.
      const rawVars = { ...remoteEnv, BENCH_WEB_PORT: String(port) };
      const project = ["-f", file, "-f", override, "-p", `benchraw${r}`];
      const composeRaw = (...args: string[]) =>
        kit.run(kit.compose.argv[0], [...kit.compose.argv.slice(1), ...project, ...args], kit.repo, rawVars);
      rawUp.push(
        (await composeRaw("up", "-d")).ms + await until(`http://${vars.REMOTE_ADDR}:${port}/health`, "ok\n"),
      );
      rawDown.push((await composeRaw("down")).ms);
    }
    kit.row(
      "remote impl --host vs raw compose up -d over ssh + health",
      kit.median(impl),
      kit.median(rawUp),
      "kinfra also makes the worktree, copies the code, opens tunnels",
    );
    kit.row(
      "remote done vs raw compose down over ssh",
      kit.median(done),
      kit.median(rawDown),
      "kinfra also removes the worktree and the remote copy",
    );
    kit.row(
      "an edit served remotely (watch + rsync) vs one raw rsync pass",
      kit.median(edit),
      kit.median(rsync),
      "edit → served through the tunnel",
    );
    kit.row(
      "100 requests through the ssh tunnel vs straight to the host",
      kit.median(tunnel),
      kit.median(direct),
      "a new connection each",
    );
    await udpRow(kit, vars, env);
    await tcpRows(kit, state, vars, env, kinfra);
  } finally {
    const downStart = performance.now();
    await kit.run("bash", [SCRIPT, "down", state]).catch(() => {});
    kit.log(
      `remote: test host up ${(upMs / 1000).toFixed(1)} s, down ${
        ((performance.now() - downStart) / 1000).toFixed(1)
      } s`,
    );
    await Deno.remove(state, { recursive: true }).catch(() => {});
  }
}

/**
 * The UDP relay (core/proxy/udp_tunnel.ts, the part of the tunnels a remote slot's UDP ports use): a UDP
 * echo server on the host (python3, which the relay needs there anyway), 100 sequential round trips
 * from 127.0.0.1 through the relay vs straight to the host's address.
 */
async function udpRow(kit: RemoteKit, vars: Record<string, string>, env: Record<string, string>) {
  const port = 47000 + Math.floor(Math.random() * 1000);
  const echo = new Deno.Command("ssh", {
    args: [
      vars.REMOTE_ADDR,
      `python3 -c 'import socket,sys,threading,os
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("0.0.0.0",${port}))
threading.Thread(target=lambda:(sys.stdin.read(),os._exit(0)),daemon=True).start()
while True:
  d,a=s.recvfrom(65535);s.sendto(d,a)'`,
    ],
    env: { PATH: env.PATH },
    stdin: "piped", // the echo server ends with this ssh
    stdout: "null",
    stderr: "null",
  }).spawn();
  const { UdpTunnel } = await import("../core/proxy/udp_tunnel.ts");
  const path = Deno.env.get("PATH");
  Deno.env.set("PATH", env.PATH); // the relay's ssh: the test host's wrapper first
  const tunnel = new UdpTunnel([port], () => {});
  const host = {
    name: "benchhost",
    endpoint: vars.REMOTE_ENDPOINT,
    docker_host: vars.REMOTE_ENDPOINT,
    ssh: { destination: vars.REMOTE_ENDPOINT.slice("ssh://".length) },
    added_at: "",
  };
  try {
    await tunnel.tend(() => Promise.resolve(host));
    for (const start = Date.now(); tunnel.state !== "up" && Date.now() - start < 10_000;) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const { default: dgram } = await import("node:dgram");
    const trips = async (address: string) => {
      const socket = dgram.createSocket("udp4");
      const start = performance.now();
      try {
        for (let i = 0; i < 100; i++) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000);
            socket.once("message", () => (clearTimeout(timer), resolve()));
            socket.send(`b${i}`, port, address);
          });
        }
      } finally {
        socket.close();
      }
      return performance.now() - start;
    };
    await trips(vars.REMOTE_ADDR); // the echo server is up once the direct path answers
    const relay: number[] = [], direct: number[] = [];
    for (let r = 0; r < kit.rounds; r++) {
      relay.push(await trips("127.0.0.1"));
      direct.push(await trips(vars.REMOTE_ADDR));
    }
    kit.row(
      "100 UDP round trips through the relay (ssh + python3) vs straight to the host",
      kit.median(relay),
      kit.median(direct),
      "one client, one datagram at a time",
    );
  } finally {
    tunnel.close();
    if (path) Deno.env.set("PATH", path);
    try {
      echo.kill();
    } catch { /* ended */ }
    await echo.status;
  }
}

/** The TLS rows: a sandbox on the same engine reached as tcp://…:2376 with the run's client certificate. */
async function tcpRows(
  kit: RemoteKit,
  state: string,
  vars: Record<string, string>,
  env: Record<string, string>,
  kinfra: (...args: string[]) => Promise<{ ms: number; stdout: string }>,
) {
  await kinfra("hosts", "add", "benchtls", vars.REMOTE_TLS_ENDPOINT, "--tls-certs", vars.REMOTE_TLS_CERTS);
  // As kinfra runs them: DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, no CA bundle overriding ca.pem (docker-py).
  const tlsEnv = {
    ...env,
    DOCKER_HOST: vars.REMOTE_TLS_ENDPOINT,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: vars.REMOTE_TLS_CERTS,
    REQUESTS_CA_BUNDLE: "",
    CURL_CA_BUNDLE: "",
  };
  const impl: number[] = [], rawUp: number[] = [], edit: number[] = [], cp: number[] = [];
  const relay: number[] = [], direct: number[] = [], done: number[] = [];
  const override = join(state, "tls.override.yml");
  await Deno.writeTextFile(
    override,
    'services:\n  web:\n    volumes: ["code:/app/src"]\nvolumes:\n  code: {}\n',
  );
  for (let r = 0; r < kit.rounds; r++) {
    const made = await kinfra("impl", `rt${r}/M1`, "--host", "benchtls", "--json");
    impl.push(made.ms);
    const out = JSON.parse(made.stdout);
    const port = out.ports.BENCH_WEB_PORT;
    const start = performance.now();
    await Deno.writeTextFile(join(out.path, "src/edit.txt"), `t${r}\n`);
    await until(`http://127.0.0.1:${port}/edit.txt`, `t${r}\n`);
    edit.push(performance.now() - start);
    const container = (await kit.run("docker", ["ps", "-q", "--filter", `publish=${port}`], kit.repo, tlsEnv))
      .stdout.trim();
    cp.push(
      (await kit.run(
        "docker",
        ["cp", join(out.path, "src/edit.txt"), `${container}:/tmp/`],
        kit.repo,
        tlsEnv,
      )).ms,
    );
    relay.push(await batch(`http://127.0.0.1:${port}/health`));
    direct.push(await batch(`http://${vars.REMOTE_ADDR}:${port}/health`));
    done.push((await kinfra("done", `rt${r}-M1`, "--force")).ms);
    // Raw: the same compose file on the same engine by hand; httpd needs its directory, an empty volume here.
    const project = ["-f", join(kit.repo, "docker-compose.yml"), "-f", override, "-p", `benchtls${r}`];
    const composeRaw = (...args: string[]) =>
      kit.run(kit.compose.argv[0], [...kit.compose.argv.slice(1), ...project, ...args], kit.repo, {
        ...tlsEnv,
        BENCH_WEB_PORT: String(port),
      });
    rawUp.push((await composeRaw("up", "-d")).ms + await until(`http://${vars.REMOTE_ADDR}:${port}/health`));
    await composeRaw("down", "-v");
  }
  kit.row(
    "TLS host: impl --host vs raw compose up -d over TLS + first answer (an empty code volume)",
    kit.median(impl),
    kit.median(rawUp),
    "kinfra also makes the worktree, checks the engine, fills the code volume, starts the relay",
  );
  kit.row(
    "TLS host: an edit served (watch + engine-API sync) vs one raw docker cp",
    kit.median(edit),
    kit.median(cp),
    "edit → served through the relay",
  );
  kit.row(
    "TLS host: 100 requests through kinfra's relay vs straight to the host",
    kit.median(relay),
    kit.median(direct),
    "a new connection each",
  );
  kit.log(`remote: TLS host done ${Math.round(kit.median(done))} ms (median)`);
}
