/**
 * Remote sandboxes get what local ones have (issue 28, part B), against the second engine of
 * scripts/remote_host.sh: UDP ports answering on 127.0.0.1 through the relay, `shared` mounts
 * synced, `--host auto --seed` steered to the snapshot's host, the memory budget per host, idle
 * stop, `warm --host` and traces.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { git, pathExists, runCommand, type Sandbox, withSandbox } from "./helpers.ts";
import { httpGet, resetObservability, uniqueName, useStubObservability } from "./sandbox_helpers.ts";
import {
  DATA_VOLUME,
  onTestHost,
  remoteContainers,
  remoteDocker,
  type RemoteHost,
  remoteHostTest,
  setup,
  slots,
  until,
  useTestHelperImage,
} from "./remote_helpers.ts";

const gcc = await runCommand("gcc", ["--version"]).then((r) => r.code === 0, () => false);

/** A UDP client on 127.0.0.1: sends datagrams, collects every reply it gets. */
async function udpClient() {
  const { default: dgram } = await import("node:dgram");
  const socket = dgram.createSocket("udp4");
  const replies: string[] = [];
  socket.on("message", (m) => replies.push(new TextDecoder().decode(m)));
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    replies,
    send: (port: number, message: string) => socket.send(message, port, "127.0.0.1"),
    close: () => socket.close(),
  };
}

/** One datagram to 127.0.0.1:port; its answer, or "" when none comes within `ms`. */
async function udpAsk(port: number, message: string, ms = 2000): Promise<string> {
  const client = await udpClient();
  try {
    client.send(port, message);
    for (const deadline = Date.now() + ms; Date.now() < deadline && !client.replies.length;) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return client.replies[0] ?? "";
  } finally {
    client.close();
  }
}

/**
 * A project whose `dns` service answers on one port number over TCP (busybox httpd) and UDP (the
 * static echo server of tests/fixtures/udpecho.c, committed into the project: the host has no copy
 * of this machine's files but the synced worktree). Returns the UDP variable's base.
 */
async function udpProject(sb: Sandbox, host: RemoteHost) {
  // Its own base beside the web port's, never equal to it (one number in every slot would collide).
  const base = 24000 + Math.floor(Math.random() * 60) * 100, udpBase = base + 50;
  const ctx = await setup(sb, host, {
    base,
    extraServices: `  dns:
    image: kinfra-test/busybox:latest
    init: true
    command: ["sh", "-c", "httpd -p 5353 -h /kbin && exec /kbin/udpecho 5353 slot-\${UDPT_DNS_PORT}"]
    volumes:
      - ./bin:/kbin:ro
    ports:
      - "\${UDPT_DNS_PORT:-${udpBase}}:5353/tcp"
      - "\${UDPT_DNS_PORT:-${udpBase}}:5353/udp"
`,
  });
  await Deno.mkdir(join(ctx.repo, "bin"));
  const build = await runCommand("gcc", [
    "-static",
    "-O2",
    "-o",
    join(ctx.repo, "bin/udpecho"),
    new URL("./fixtures/udpecho.c", import.meta.url).pathname,
  ]);
  assert.equal(build.code, 0, build.stderr);
  const toml = join(ctx.repo, ".devops-ai/infra.toml");
  await Deno.writeTextFile(
    toml,
    (await Deno.readTextFile(toml)).replace(
      "[sandbox.ports]\n",
      `[sandbox.ports]\nUDPT_DNS_PORT = ${udpBase}\n`,
    ),
  );
  await git(ctx.repo, "add", "-A");
  await git(ctx.repo, "commit", "-qm", "udp service");
  return { ...ctx, udpBase };
}

type TunnelState = { state: string; udp?: { state: string; pid?: number; ports: number[] } };
/** A slot's tunnels as the running proxy says now (`kinfra proxy status --json`). */
async function tunnelOf(sb: Sandbox, slot: number): Promise<TunnelState | undefined> {
  const status = await sb.kinfra(["proxy", "status", "--json"]);
  return status.json<{ parts?: { tunnels?: { slots?: Record<string, TunnelState> } } }>().parts?.tunnels
    ?.slots?.[String(slot)];
}

remoteHostTest("remote sandboxes get what local ones have", async (t, host) => {
  await t.step(
    "UDP ports answer on 127.0.0.1 through the relay: TCP and UDP on one number, per-client replies, whole datagrams",
    () =>
      withSandbox(async (sb) => {
        if (!gcc) {
          throw new Error("This test builds its UDP server with gcc (apt-get install gcc libc6-dev).");
        }
        const { kinfra, worktree, udpBase } = await udpProject(sb, host);
        const impl = await kinfra(["impl", "f/M1", "--host", "ns", "--json"]);
        assert.equal(impl.code, 0, impl.stderr);
        const port = impl.json<{ ports: Record<string, number> }>().ports.UDPT_DNS_PORT;
        assert.equal(port, udpBase + 1);
        // The same number over TCP goes through ssh -L (busybox httpd: a 404 is an answer).
        assert.equal((await httpGet(`http://127.0.0.1:${port}/nothing`)).status, 404);
        assert.equal(await udpAsk(port, "hello"), `slot-${port}:hello`);

        // Two clients at once: each gets its own replies, each datagram whole (one 1400 bytes long).
        const [a, b] = [await udpClient(), await udpClient()];
        const big = "x".repeat(1400);
        try {
          for (let i = 0; i < 20; i++) {
            a.send(port, `a${i}`);
            b.send(port, `b${i}`);
          }
          a.send(port, big);
          await until("every reply", () => Promise.resolve(a.replies.length >= 21 && b.replies.length >= 20));
          const expect = (who: string) => Array.from({ length: 20 }, (_, i) => `slot-${port}:${who}${i}`);
          assert.deepEqual(a.replies.filter((r) => r !== `slot-${port}:${big}`).sort(), expect("a").sort());
          assert.ok(a.replies.includes(`slot-${port}:${big}`), "the long datagram came back whole");
          assert.deepEqual(b.replies.sort(), expect("b").sort());
        } finally {
          a.close();
          b.close();
        }

        // Round trips, for the notes (no timed assertion): through the relay vs straight to the host.
        const rtt = async (address: string) => {
          const { default: dgram } = await import("node:dgram");
          const socket = dgram.createSocket("udp4");
          const times: number[] = [];
          try {
            for (let i = 0; i < 20; i++) {
              const start = performance.now();
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, 2000); // a lost datagram only makes a slow figure
                socket.once("message", () => (clearTimeout(timer), resolve()));
                socket.send(`t${i}`, port, address);
              });
              times.push(performance.now() - start);
            }
          } finally {
            socket.close();
          }
          return times.sort((x, y) => x - y)[10].toFixed(2);
        };
        console.log(
          `    UDP round trip (median of 20): relay ${await rtt("127.0.0.1")} ms, direct ${await rtt(
            host.addr,
          )} ms`,
        );

        type Status = {
          remote: { tunnels: { state: string; udp: { state: string; ports: number[] } | null } };
        };
        const status = (await kinfra(["status", "--json"], worktree)).json<Status>();
        assert.equal(status.remote.tunnels.state, "up");
        assert.deepEqual(status.remote.tunnels.udp, { state: "up", ports: [port] });

        // The relay's ssh dies: the proxy starts it again.
        const [slot] = await slots(sb);
        const before = (await tunnelOf(sb, slot.slot_id))?.udp?.pid;
        assert.ok(before, "the relay's pid is in the proxy state");
        Deno.kill(before, "SIGKILL");
        await until("the relay back", async () => {
          const udp = (await tunnelOf(sb, slot.slot_id))?.udp;
          return udp?.state === "up" && udp.pid !== before;
        });
        assert.equal(await udpAsk(port, "again"), `slot-${port}:again`);

        const done = await kinfra(["done", "f-M1", "--force"]);
        assert.equal(done.code, 0, done.stderr);
        await until("the UDP port let go here", () => udpAsk(port, "gone", 300).then((r) => r === ""));
      }),
  );

  await t.step(
    "shared mounts: one copy per project on the host, fed as the project root changes, gone with the last sandbox",
    () =>
      withSandbox(async (sb) => {
        const { name, repo, kinfra } = await setup(sb, host);
        const toml = join(repo, ".devops-ai/infra.toml");
        await Deno.writeTextFile(
          toml,
          (await Deno.readTextFile(toml)).replace(
            'code_targets = ["web"]\n',
            'code_targets = ["web"]\nshared = ["fixtures/:/app/shared:ro"]\nshared_targets = ["web"]\n',
          ),
        );
        // Ignored in git and never committed: a shared path is named on purpose, its ignore rules do not apply.
        await Deno.writeTextFile(join(repo, ".gitignore"), "fixtures/\n");
        await git(repo, "commit", "-qam", "shared mounts");
        await Deno.mkdir(join(repo, "fixtures"));
        await Deno.writeTextFile(join(repo, "fixtures/f.txt"), "one\n");

        const cat = async (slot: number) => {
          const [id] = await remoteContainers(host, `${name}-slot-${slot}`);
          return await remoteDocker(host, "exec", id, "cat", "/app/shared/f.txt").catch(() => "");
        };
        const a = await kinfra(["impl", "a/M1", "--host", "ns"]);
        assert.equal(a.code, 0, a.stderr);
        const [first] = await slots(sb);
        assert.equal(await cat(first.slot_id), "one");
        const copy = (first.remote as { shared?: { copy: string } }).shared?.copy;
        assert.ok(copy, JSON.stringify(first.remote));
        const worktreeA = join(sb.dir, `${name}-impl-a-M1`);
        type Shared = { remote: { shared: { state: string; copy: string } } };
        await until("the shared sync idle", async () => {
          const status = (await kinfra(["status", "--json"], worktreeA)).json<Shared>();
          return status.remote.shared.state === "idle" && status.remote.shared.copy === copy;
        });

        await Deno.writeTextFile(join(repo, "fixtures/f.txt"), "two\n");
        await until("the change in the project root served there", async () =>
          await cat(first.slot_id) === "two");

        // A second sandbox of the project on the host uses the same copy.
        const b = await kinfra(["impl", "b/M1", "--host", "ns"]);
        assert.equal(b.code, 0, b.stderr);
        const second = (await slots(sb)).find((s) =>
          s.slot_id !== first.slot_id
        )!;
        assert.equal((second.remote as { shared?: { copy: string } }).shared?.copy, copy);
        assert.equal(await cat(second.slot_id), "two");

        assert.equal((await kinfra(["done", "a-M1"])).code, 0);
        assert.equal((await onTestHost(host, `test -f ${copy}/fixtures/f.txt`)).code, 0, "b still uses it");
        const done = await kinfra(["done", "b-M1", "--json"]);
        assert.equal(done.code, 0, done.stderr);
        assert.equal((await onTestHost(host, `test -e ${copy}`)).code, 1, "the last sandbox took it along");
      }),
  );

  await t.step(
    "--host auto --seed goes to the host holding the snapshot; a snapshot nowhere is refused (exit 2)",
    () =>
      withSandbox(async (sb) => {
        const { name, kinfra } = await setup(sb, host, DATA_VOLUME);
        await useTestHelperImage(sb);
        assert.equal((await kinfra(["impl", "a/M1", "--host", "ns"])).code, 0);
        const [a] = await slots(sb);
        const [web] = await remoteContainers(host, `${name}-slot-${a.slot_id}`);
        await remoteDocker(host, "exec", web, "sh", "-c", "echo kept > /data/f");
        assert.equal((await kinfra(["snapshot", "save", "s1", "a-M1"])).code, 0);
        assert.equal((await kinfra(["done", "a-M1"])).code, 0);
        // Both engines are empty now: auto alone would pick this machine (a tie); the snapshot is there.
        const auto = await kinfra(["impl", "b/M1", "--seed", "s1", "--host", "auto"]);
        assert.equal(auto.code, 0, auto.stderr);
        assert.match(auto.stderr, /--host auto: ns/);
        const [b] = await slots(sb);
        assert.equal(b.remote?.host, "ns");
        const [webB] = await remoteContainers(host, `${name}-slot-${b.slot_id}`);
        assert.equal(await remoteDocker(host, "exec", webB, "cat", "/data/f"), "kept");
        const nowhere = await kinfra(["impl", "c/M1", "--seed", "nope", "--host", "auto"]);
        assert.equal(nowhere.code, 2, nowhere.stderr);
        assert.match(nowhere.stderr, /No snapshot "nope"/);
        assert.equal(await pathExists(join(sb.dir, `${name}-impl-c-M1`)), false);
        assert.equal((await kinfra(["done", "b-M1"])).code, 0);
        assert.equal((await kinfra(["snapshot", "rm", "s1"])).code, 0);
      }),
  );

  await t.step(
    "the memory budget counts per host: a sandbox there is measured there and refuses the next one (exit 3), not this machine's",
    () =>
      withSandbox(async (sb) => {
        const { name, repo, kinfra } = await setup(sb, host, { webExtra: "    tmpfs:\n      - /fill\n" });
        await holdMemory(repo, 48);
        assert.equal((await kinfra(["hosts", "rm", "ns"])).code, 0);
        const added = await kinfra(["hosts", "add", "ns", host.endpoint, "--memory", "80m", "--json"]);
        assert.equal(added.code, 0, added.stderr);
        assert.equal(added.json<{ host: { memory: string } }>().host.memory, "80m");
        // This machine's budget is as small: a remote sandbox must not use it up.
        await Deno.writeTextFile(join(sb.home, "config.toml"), '[slots]\nmemory = "80m"\n');

        const a = await kinfra(["impl", "a/M1", "--host", "ns"]);
        assert.equal(a.code, 0, a.stderr);
        // Measured on the host (over ssh), once healthy: the budget's estimate for the next one.
        const registry = JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
        assert.ok(registry.usage[name].memory >= 48 * MiB, JSON.stringify(registry.usage));
        type Usage = { usage: { memory: number } | null };
        const status = (await kinfra(["status", "--json"], join(sb.dir, `${name}-impl-a-M1`))).json<Usage>();
        assert.ok(status.usage && status.usage.memory >= 48 * MiB, JSON.stringify(status.usage));
        // worktrees (and the dashboard) show it too: the proxy's usage part reads the host every 30 s.
        type Rows = { worktrees: { usage: { memory: number } | null }[] };
        await until("worktrees showing its memory", async () =>
          ((await kinfra(["worktrees", "--json"])).json<Rows>().worktrees[0]?.usage?.memory ?? 0) >=
            48 * MiB);

        const b = await kinfra(["impl", "b/M1", "--host", "ns", "--json"]);
        assert.equal(b.code, 3, b.stderr);
        assert.match(b.stderr, /Not enough memory on host ns/);
        assert.match(b.stderr, new RegExp(`kinfra down ${name}-impl-a-M1`));
        assert.equal(await pathExists(join(sb.dir, `${name}-impl-b-M1`)), false, "nothing was created");
        // `auto` bound for ns (its data is there) is checked against ns's budget too, before anything is made.
        const auto = await kinfra(["impl", "d/M1", "--from", "a-M1", "--host", "auto"]);
        assert.equal(auto.code, 3, auto.stderr);
        assert.match(auto.stderr, /Not enough memory on host ns/);
        assert.equal(await pathExists(join(sb.dir, `${name}-impl-d-M1`)), false, "nothing was created");
        // Here there is room: the sandbox on ns does not count against this machine's budget.
        const c = await kinfra(["impl", "c/M1"]);
        assert.equal(c.code, 0, c.stderr);
        for (const w of ["a-M1", "c-M1"]) {
          assert.equal((await kinfra(["done", w])).code, 0);
        }
      }),
  );

  await t.step(
    "idle_stop stops a remote sandbox nobody uses (its CPU read on the host); up brings it back there; warm --host is refused",
    () =>
      withSandbox(async (sb) => {
        const { name, kinfra } = await setup(sb, host);
        await Deno.writeTextFile(join(sb.home, "config.toml"), '[slots]\nidle_stop = "4s"\n');
        assert.equal((await kinfra(["impl", "f/M1", "--host", "ns"])).code, 0);
        const [slot] = await slots(sb);
        const project = `${name}-slot-${slot.slot_id}`;
        const worktree = join(sb.dir, `${name}-impl-f-M1`);
        // Commands run the idle check (so does the proxy's idle part, every few seconds).
        await until("stopped as idle", async () => {
          await kinfra(["worktrees"]);
          return (await remoteContainers(host, project)).length === 0;
        }, 40_000);
        const status = await kinfra(["status"], worktree);
        assert.match(status.stdout, /stopped after \d+s idle/);
        assert.deepEqual(await slots(sb), [], "its slot is released on the host's word");
        await Deno.writeTextFile(join(sb.home, "config.toml"), "");
        const up = await kinfra(["up"], worktree);
        assert.equal(up.code, 0, up.stderr);
        assert.equal((await remoteContainers(host, project)).length, 1, "back on ns, same slot");

        const warm = await kinfra(["warm", "1", "--host", "ns"]);
        assert.equal(warm.code, 2, warm.stderr);
        assert.match(warm.stderr, /Warm sandboxes run on this machine only/);
        assert.equal((await kinfra(["done", "f-M1"])).code, 0);
      }),
  );

  await t.step(
    "traces: a remote sandbox's OTLP endpoint reaches the collector on this machine (ssh -R and a forwarder on the bridge gateway)",
    () =>
      withSandbox(async (sb) => {
        const obs = uniqueName("obs");
        await useStubObservability(sb, obs);
        try {
          const { name, kinfra } = await setup(sb, host, { otel: true });
          const impl = await kinfra(["impl", "f/M1", "--host", "ns"]);
          assert.equal(impl.code, 0, impl.stderr);
          const [slot] = await slots(sb);
          const [web] = await remoteContainers(host, `${name}-slot-${slot.slot_id}`);
          const env = await remoteDocker(
            host,
            "exec",
            web,
            "sh",
            "-c",
            'echo "$OTEL_EXPORTER_OTLP_ENDPOINT $OTEL_RESOURCE_ATTRIBUTES"',
          );
          assert.match(
            env,
            new RegExp(
              `^http://host\\.docker\\.internal:\\d+ service\\.namespace=${name}-slot-${slot.slot_id}$`,
            ),
          );
          // The stub collector answers HTTP on its OTLP port: from the container on ns, through ssh, to here.
          await until("the collector reached from the remote container", async () =>
            (await remoteDocker(host, "exec", web, "sh", "-c", 'wget -qO- "$OTEL_EXPORTER_OTLP_ENDPOINT/"')
              .catch(() =>
                ""
              )) === "stub");
          type Traces = { remote: { traces: { state: string } | null } };
          const status = (await kinfra(["status", "--json"], join(sb.dir, `${name}-impl-f-M1`))).json<
            Traces
          >();
          assert.equal(status.remote.traces?.state, "up");
          assert.equal((await kinfra(["done", "f-M1"])).code, 0);
        } finally {
          await resetObservability(obs);
        }
      }),
  );
});

const MiB = 1024 * 1024;

/** The web service fills a tmpfs of `mib` MiB before it serves (committed, so worktrees have it). */
async function holdMemory(repo: string, mib: number) {
  const file = join(repo, "docker-compose.yml");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace(
      'command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]',
      `command: ["sh", "-c", "dd if=/dev/zero of=/fill/data bs=1M count=${mib} 2>/dev/null; exec httpd -f -p 8080 -h /app/src"]`,
    ),
  );
  await git(repo, "commit", "-qam", "hold memory");
}
