/**
 * The `proxy` section of scripts/bench.ts: how long `kinfra checkout` takes to move the canonical
 * ports (the proxy's own switch time, and the whole command) against restarting one container, and
 * what the router and a checkout forwarder add to a request against a direct connection to the
 * sandbox's port (a new connection per request, as busybox httpd closes each; and a 10 MB body).
 */
import { join } from "../core/io/path.ts";

export interface BenchKit {
  rounds: number;
  repo: string;
  home: string;
  /** Runs kinfra; resolves to its wall time and stdout. */
  kinfra: (...args: string[]) => Promise<{ ms: number; stdout: string }>;
  docker: (...args: string[]) => Promise<number>;
  dockerOut: (...args: string[]) => Promise<string>;
  row: (measurement: string, kinfra: number, baseline: number, note?: string) => void;
  median: (xs: number[]) => number;
}

/** One HTTP/1.0 GET over a new connection; resolves to its duration in ms (body read to the end). */
async function timedGet(port: number, host: string, path: string): Promise<number> {
  const start = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
  const buf = new Uint8Array(256 * 1024);
  let total = 0;
  for (let n; (n = await conn.read(buf)) !== null;) total += n;
  conn.close();
  if (total === 0) throw new Error(`no answer from 127.0.0.1:${port} (${host})`);
  return performance.now() - start;
}

export async function proxyBench(kit: BenchKit): Promise<void> {
  const router = 14000 + Math.floor(Math.random() * 1000);
  const config = join(kit.home, "config.toml");
  await Deno.mkdir(kit.home, { recursive: true });
  const before = await Deno.readTextFile(config).catch(() => "");
  await Deno.writeTextFile(config, `${before}\n[proxy]\nport = ${router}\n`);
  await Deno.writeFile(join(kit.repo, "src/big"), new Uint8Array(10 * 1024 * 1024));
  const slots: Record<string, { port: number; project: string }> = {};
  for (const name of ["pxa", "pxb"]) {
    const out = JSON.parse((await kit.kinfra("impl", `${name}/M1`, "--json")).stdout);
    slots[name] = { port: out.ports.BENCH_WEB_PORT, project: out.compose_project };
    await Deno.copyFile(join(kit.repo, "src/big"), join(out.path, "src/big"));
  }
  const canonical = slots.pxa.port - Number(slots.pxa.project.split("-slot-")[1]);

  const proxySwitch: number[] = [], command: number[] = [], restart: number[] = [];
  for (let i = 0; i < 2 * kit.rounds + 2; i++) {
    const r = await kit.kinfra("checkout", i % 2 ? "pxb-M1" : "pxa-M1", "--json");
    if (i < 2) continue; // the first two start the proxy and open the ports
    proxySwitch.push(JSON.parse(r.stdout).switch_ms);
    command.push(r.ms);
  }
  const container =
    (await kit.dockerOut("ps", "-q", "--filter", `label=com.docker.compose.project=${slots.pxa.project}`))
      .trim();
  for (let i = 0; i < kit.rounds; i++) restart.push(await kit.docker("restart", "-t", "0", container));
  const note = "no container touched";
  kit.row(
    "checkout: ports switched (registry → proxy) vs docker restart",
    kit.median(proxySwitch),
    kit.median(restart),
    note,
  );
  kit.row("checkout: the whole command vs docker restart", kit.median(command), kit.median(restart), note);

  // Per request: direct, through the router (Host header), through the canonical port (checkout pxa).
  await kit.kinfra("checkout", "pxa-M1");
  const host = "pxa-m1.bench.localhost";
  // The median of `rounds` batches, in ms per batch.
  const sample = async (port: number, h: string, path: string, n: number) => {
    const batches = [];
    for (let i = 0; i < 10; i++) await timedGet(port, h, path); // warm-up
    for (let r = 0; r < kit.rounds; r++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await timedGet(port, h, path);
      batches.push(sum);
    }
    return kit.median(batches);
  };
  const direct = await sample(slots.pxa.port, "127.0.0.1", "/health", 100);
  const each = "a new connection each; the sandbox's own port goes through Docker's proxy too";
  const viaRouter = await sample(router, host, "/health", 100);
  kit.row("100 requests via the router vs direct to the sandbox port", viaRouter, direct, each);
  const viaCanonical = await sample(canonical, "127.0.0.1", "/health", 100);
  kit.row("100 requests via the canonical port vs direct", viaCanonical, direct, each);
  const big = await sample(slots.pxa.port, "127.0.0.1", "/big", 1);
  kit.row("a 10 MB response via the router vs direct", await sample(router, host, "/big", 1), big);
}
