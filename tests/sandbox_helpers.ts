/**
 * Fixtures for sandbox tests: a committed project whose compose stack runs busybox httpd from the
 * locally built test image, and Docker queries to check what is (not) left behind.
 */
import { join } from "node:path";
import { assertDocker, makeSandbox, needsDocker, runCommand, type Sandbox } from "./helpers.ts";

export const IMAGE = "kinfra-test/busybox:latest";

export interface ProjectOptions {
  /** Base port of the web service (slot n publishes base + n). */
  base: number;
  /** Health endpoint path; "/missing" never answers 2xx. */
  health?: string;
  healthTimeout?: number;
  image?: string;
  /** Extra compose text appended under `services:`. */
  extraServices?: string;
  /** Extra web service keys (indented 4 spaces). */
  webExtra?: string;
  /** Wire the sandbox to the shared observability stack (off by default to keep tests independent). */
  otel?: boolean;
}

/** A unique, valid project name per call. */
export const uniqueName = (stem: string) => `${stem}${crypto.randomUUID().slice(0, 6)}`;

/**
 * A random base port leaving room for 20 slots, kept below the ephemeral range (32768+) where the
 * kernel hands out client ports, and away from the observability ports tests use (10000–11999).
 */
const portFree = (port: number) => {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
};

/**
 * A random base port (20000–31900, step 100) whose ports the tests use (slots 1–3 and the +50/+95
 * ranges) are free now: among parallel test files, another one's sandbox may hold a random base, and a
 * test that finds slot 1's port taken gets slot 2.
 */
export function randomBase(): number {
  const pick = () => 20000 + Math.floor(Math.random() * 120) * 100;
  for (let i = 0; i < 50; i++) {
    const base = pick();
    if ([1, 2, 3, 50, 51, 52, 95].every((d) => portFree(base + d))) return base;
  }
  return pick();
}

export async function makeProject(sb: Sandbox, name: string, options: ProjectOptions): Promise<string> {
  const variable = `${name.toUpperCase()}_WEB_PORT`;
  const compose = `# ${name} test stack
services:
  web:
    image: ${options.image ?? IMAGE}
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]
    ports:
      - "\${${variable}:-${options.base}}:8080"
${options.webExtra ?? ""}${options.extraServices ?? ""}`;
  const toml = `[project]
name = "${name}"

[sandbox]
compose_file = "docker-compose.yml"

[sandbox.health]
endpoint = "${options.health ?? "/health"}"
port_var = "${variable}"
timeout = ${options.healthTimeout ?? 20}

[sandbox.ports]
${variable} = ${options.base}

[sandbox.mounts]
code = ["src/:/app/src"]
code_targets = ["web"]
${options.otel ? "" : "\n[sandbox.otel]\nenabled = false\n"}`;
  return await sb.repo(name, {
    "docker-compose.yml": compose,
    ".devops-ai/infra.toml": toml,
    "src/health": "ok\n",
  });
}

export async function docker(...args: string[]): Promise<string> {
  const r = await runCommand("docker", args);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Container names (running or not) of a compose project. */
export async function containersOf(composeProject: string): Promise<string[]> {
  const out = await docker(
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${composeProject}`,
    "--format",
    "{{.Names}}",
  );
  return out.split("\n").filter(Boolean);
}

export async function networksOf(composeProject: string): Promise<string[]> {
  const out = await docker(
    "network",
    "ls",
    "--filter",
    `label=com.docker.compose.project=${composeProject}`,
    "--format",
    "{{.Name}}",
  );
  return out.split("\n").filter(Boolean);
}

export async function registryOf(
  sb: Sandbox,
): Promise<
  {
    slots: Record<string, { status: string; ports: Record<string, number> }>;
    worktrees: Record<string, { slot?: number; state?: string }>;
  }
> {
  try {
    return JSON.parse(await Deno.readTextFile(join(sb.home, "registry.json")));
  } catch {
    return { slots: {}, worktrees: {} };
  }
}

export async function slotDirs(sb: Sandbox): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(join(sb.home, "slots")))).map((e) => e.name);
  } catch {
    return [];
  }
}

/** GET a URL and return status and body text (no throw). */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

/** Removes every container and network of compose projects starting with `prefix` (test cleanup). */
export async function removeProjects(prefix: string): Promise<void> {
  const all = await docker("ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}\t{{.ID}}');
  const ids = all.split("\n").filter((l) => l.startsWith(prefix)).map((l) => l.split("\t")[1]);
  if (ids.length) await docker("rm", "-f", ...ids);
  const nets = await docker("network", "ls", "--format", "{{.Name}}");
  const names = nets.split("\n").filter((n) => n.startsWith(prefix));
  if (names.length) await docker("network", "rm", ...names).catch(() => {});
}

/**
 * Removes the volumes the test's kinfra home made and kept (a slot's data after `kinfra down`,
 * snapshots): only those carrying that home's label, so nothing of anyone else's.
 */
async function removeHomeVolumes(home: string): Promise<void> {
  const id = (await Deno.readTextFile(join(home, "home-id")).catch(() => "")).trim();
  if (!id) return;
  const volumes = await docker("volume", "ls", "-q", "--filter", `label=dev.kinfra.home=${id}`).catch(() =>
    ""
  );
  const names = volumes.split("\n").filter(Boolean);
  if (names.length) await docker("volume", "rm", "-f", ...names).catch(() => {});
}

/** A Docker test: fails (never skips) in CI without an engine; cleans containers and volumes it made. */
export function dockerTest(name: string, fn: (sb: Sandbox, stem: string) => Promise<void>) {
  Deno.test({
    name,
    ...needsDocker(),
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      assertDocker();
      const sb = await makeSandbox();
      const stem = uniqueName("t");
      try {
        await fn(sb, stem);
      } finally {
        await removeProjects(stem);
        await removeHomeVolumes(sb.home);
        await sb.cleanup();
      }
    },
  });
}

export const STUB_IMAGE = "kinfra-test/otel-stub:latest";

/**
 * A global config.toml giving the test its own observability stack: the stub image, a name of its
 * own (so its project, network and Jaeger never collide with the user's real stack), free ports.
 */
export async function useStubObservability(
  sb: Sandbox,
  name: string,
  images = STUB_IMAGE,
): Promise<Record<string, number>> {
  const base = 10000 + Math.floor(Math.random() * 200) * 10;
  const ports = {
    jaeger_ui_port: base,
    otlp_grpc_port: base + 1,
    otlp_http_port: base + 2,
    prometheus_port: base + 3,
    grafana_port: base + 4,
  };
  await Deno.mkdir(sb.home, { recursive: true });
  await Deno.writeTextFile(
    join(sb.home, "config.toml"),
    `[observability]\nname = "${name}"\njaeger_image = "${images}"\nprometheus_image = "${STUB_IMAGE}"\ngrafana_image = "${STUB_IMAGE}"\n` +
      Object.entries(ports).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n",
  );
  return ports;
}

/** Removes a test's own observability stack (named `<name>-observability`) and its network. */
export async function resetObservability(name: string): Promise<void> {
  const ids = await docker(
    "ps",
    "-aq",
    "--filter",
    `label=com.docker.compose.project=${name}-observability`,
  );
  if (ids) await docker("rm", "-f", ...ids.split("\n"));
  await docker("network", "rm", `${name}-observability`).catch(() => {});
}
