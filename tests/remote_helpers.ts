/**
 * The remote-host tests' shared part: a second Docker engine that is really elsewhere
 * (scripts/remote_host.sh: a network namespace of its own, a private /30, its own dockerd, reachable
 * only through an sshd there with a key made for the run; `ssh` is a wrapper on PATH), and the
 * helpers that look at it. Each test file builds its own host; concurrent runs get distinct ones.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertDocker, inCI, KINFRA, needsDocker, runCommand, type Sandbox } from "./helpers.ts";
import { makeProject, type ProjectOptions, uniqueName } from "./sandbox_helpers.ts";

export const SCRIPT = new URL("../scripts/remote_host.sh", import.meta.url).pathname;

export interface RemoteHost {
  netns: string;
  addr: string;
  endpoint: string;
  /** The directory holding the ssh wrapper; first on PATH for kinfra, docker, compose and rsync. */
  bin: string;
  stateDir: string;
  /** The same engine on tcp://addr:2375 (plain) and tcp://addr:2376 (TLS, --tlsverify). */
  tcp: string;
  tls: string;
  /** Client certificates (ca.pem, cert.pem, key.pem) it accepts, and some of another CA it refuses. */
  tlsCerts: string;
  rogueCerts: string;
}

export const canBuild = Deno.uid() === 0 && Deno.build.os === "linux";

async function hostUp(stateDir: string): Promise<RemoteHost> {
  const run = await runCommand("bash", [SCRIPT, "up", stateDir]);
  if (run.code !== 0) throw new Error(`remote_host.sh up failed:\n${run.stderr}`);
  const vars = Object.fromEntries(
    run.stdout.trim().split("\n").map((l) => l.split("=", 2) as [string, string]),
  );
  return {
    netns: vars.REMOTE_NETNS,
    addr: vars.REMOTE_ADDR,
    endpoint: vars.REMOTE_ENDPOINT,
    bin: vars.REMOTE_SSH_BIN,
    stateDir,
    tcp: vars.REMOTE_TCP_ENDPOINT,
    tls: vars.REMOTE_TLS_ENDPOINT,
    tlsCerts: vars.REMOTE_TLS_CERTS,
    rogueCerts: vars.REMOTE_TLS_ROGUE_CERTS,
  };
}

async function hostDown(stateDir: string): Promise<void> {
  const run = await runCommand("bash", [SCRIPT, "down", stateDir]);
  if (run.code !== 0) throw new Error(`remote_host.sh down failed:\n${run.stderr}`);
}

/** PATH with the test host's ssh wrapper first. */
export const pathWith = (host: RemoteHost) => `${host.bin}:${Deno.env.get("PATH")}`;

/** `docker …` against the namespace's engine (through the wrapper, as kinfra reaches it). */
export async function remoteDocker(host: RemoteHost, ...args: string[]): Promise<string> {
  const r = await runCommand("docker", args, { env: { DOCKER_HOST: host.endpoint, PATH: pathWith(host) } });
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} on the test host: ${r.stderr}`);
  return r.stdout.trim();
}

/** A command run on the test host over ssh (its shell, its files). */
export async function onTestHost(host: RemoteHost, command: string) {
  return await runCommand("ssh", [host.addr, command], { env: { PATH: pathWith(host) } });
}

export const remoteContainers = async (host: RemoteHost, project: string) =>
  (await remoteDocker(host, "ps", "-a", "--filter", `label=com.docker.compose.project=${project}`, "-q"))
    .split("\n").filter(Boolean);

/** The networks Compose project `project` has on the test host, one id a line ("" when none). */
export const remoteNetworks = (host: RemoteHost, project: string) =>
  remoteDocker(host, "network", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`);

export const localContainers = async (project: string) =>
  (await runCommand("docker", ["ps", "-a", "--filter", `label=com.docker.compose.project=${project}`, "-q"]))
    .stdout.split("\n").filter(Boolean);

export type RegistrySlot = {
  slot_id: number;
  status: string;
  ports: Record<string, number>;
  remote?: { host: string; copy?: string; unreachable?: string };
};
export async function slots(sb: Sandbox): Promise<RegistrySlot[]> {
  try {
    return Object.values(JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json"))).slots);
  } catch {
    return [];
  }
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts `impl f/M1 --host ns` in the background; returns once its container runs on the host. */
export async function implStarted(
  sb: Sandbox,
  host: RemoteHost,
  project: { name: string; env: Record<string, string>; repo: string },
  stdout: "piped" | "null",
  stderr: "piped" | "null",
) {
  const child = new Deno.Command(KINFRA[0], {
    args: [...KINFRA.slice(1), "impl", "f/M1", "--host", "ns"],
    cwd: project.repo,
    env: { KINFRA_HOME: sb.home, NO_COLOR: "1", ...project.env },
    stdout,
    stderr,
  }).spawn();
  const compose = `${project.name}-slot-1`;
  // Compose v1 (Python) over ssh on a busy 2-core machine took over 20 s here: a minute, and an
  // impl that ends first (an error) is said at once.
  let ended: Deno.CommandStatus | undefined;
  child.status.then((s) => ended = s);
  await until(
    "the sandbox started on the host",
    async () => {
      if (ended) throw new Error(`impl ended (exit ${ended.code}) before its sandbox ran on the host`);
      return (await remoteContainers(host, compose)).length > 0;
    },
    60_000,
  );
  return { child, project: compose };
}

/** A project, the test host added as "ns", and kinfra bound to PATH with the wrapper. */
export async function setup(sb: Sandbox, host: RemoteHost, options: Partial<ProjectOptions> = {}) {
  const name = uniqueName("r");
  const base = 24000 + Math.floor(Math.random() * 60) * 100;
  const repo = await makeProject(sb, name, { base, ...options });
  const env = { PATH: pathWith(host) };
  const kinfra = (args: string[], cwd = repo) => sb.kinfra(args, { cwd, env });
  const added = await kinfra(["hosts", "add", "ns", host.endpoint]);
  assert.equal(added.code, 0, added.stderr + added.stdout);
  return { name, base, repo, env, kinfra, worktree: join(sb.dir, `${name}-impl-f-M1`) };
}

/**
 * Runs `fn` with the test host off the network (`block`), giving it a way to bring the host back;
 * brought back after in any case (a no-op when `fn` did).
 */
export async function whileBlocked(host: RemoteHost, fn: (unblock: () => Promise<void>) => Promise<void>) {
  const unblock = async () => void await runCommand("bash", [SCRIPT, "unblock", host.stateDir]);
  await runCommand("bash", [SCRIPT, "block", host.stateDir]);
  try {
    await fn(unblock);
  } finally {
    await unblock();
  }
}

/** `kinfra impl` (`child`) failed as its host `hostName` dropped off, the slot kept for when it answers again. */
export async function assertKeptForHost(
  sb: Sandbox,
  child: Deno.ChildProcess,
  hostName: string,
): Promise<string> {
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, new RegExp(`stays reserved until host ${hostName} answers again`));
  const [kept] = await slots(sb);
  assert.ok(kept.remote?.unreachable, JSON.stringify(kept));
  return stderr;
}

/**
 * A docker context `name` created with `docker context create name --docker <docker>`, in a config
 * dir of the test's own (~/.docker untouched); gives that dir, for DOCKER_CONFIG.
 */
export async function dockerContext(sb: Sandbox, name: string, docker: string): Promise<string> {
  const dockerConfig = join(sb.dir, "docker-config");
  const created = await runCommand("docker", ["context", "create", name, "--docker", docker], {
    env: { DOCKER_CONFIG: dockerConfig },
  });
  assert.equal(created.code, 0, created.stderr);
  return dockerConfig;
}

/** A project whose web service keeps a named volume `data` at /data (for snapshots). */
export const DATA_VOLUME: Partial<ProjectOptions> = {
  webExtra: "    volumes:\n      - data:/data\n",
  extraServices: "volumes:\n  data: {}\n",
};

/** The data plugin's helper container: the test image (nothing can be pulled, on the test host least of all). */
export async function useTestHelperImage(sb: Sandbox): Promise<void> {
  await Deno.writeTextFile(
    join(sb.home, "config.toml"),
    '[data]\nhelper_image = "kinfra-test/busybox:latest"\n',
  );
}

/**
 * A test run against one test host built for it (taken down after, and checked that nothing of it
 * is left). Skipped without root on Linux or Docker, except with CI=true, where that fails.
 */
export function remoteHostTest(name: string, fn: (t: Deno.TestContext, host: RemoteHost) => Promise<void>) {
  Deno.test({
    name,
    // scripts/test.sh runs it with both Compose flavours (v1 reaches ssh:// engines through docker-py).
    ignore: (!canBuild && !inCI) || needsDocker().ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      assertDocker();
      if (!canBuild) {
        throw new Error(
          "The remote tests need root on Linux to build their test host (CI=true: not skipping).",
        );
      }
      const stateDir = await Deno.makeTempDir({ prefix: "kinfra-remote-host-" });
      let host: RemoteHost;
      try {
        host = await hostUp(stateDir);
      } catch (e) {
        await hostDown(stateDir).catch(() => {});
        await Deno.remove(stateDir, { recursive: true }).catch(() => {});
        throw e;
      }
      try {
        await fn(t, host);
      } finally {
        await hostDown(stateDir);
        await Deno.remove(stateDir, { recursive: true }).catch(() => {});
      }
      // Nothing of the test host is left: namespace, veth, route, processes, state.
      assert.equal((await runCommand("ip", ["netns", "list"])).stdout.includes(host.netns), false);
      assert.equal((await runCommand("ip", ["link", "show", `${host.netns}h`])).code !== 0, true);
      assert.doesNotMatch(
        (await runCommand("ip", ["route"])).stdout,
        new RegExp(host.addr.replace(/\.2$/, ".0") + "/"),
      );
      assert.equal(
        await Deno.stat(`/var/lib/kinfra-remote/${host.netns}`).then(() => true, () => false),
        false,
      );
    },
  });
}
