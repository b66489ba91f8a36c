/**
 * The shared observability stack (README, "Shared observability"): Jaeger, Prometheus and Grafana as compose project
 * `devops-ai-observability`, rendered from templates/observability/ into `<home>/observability/`,
 * on the external network `devops-ai-observability`, which kinfra creates first. Every name derives
 * from `[observability] name` in the global config (observabilityNames), so a second stack — a test
 * suite's — never touches the user's.
 */
import { join } from "../io/path.ts";
import composeTemplate from "../../templates/observability/docker-compose.yml.tmpl" with { type: "text" };
import datasourcesTemplate from "../../templates/observability/datasources.yml.tmpl" with { type: "text" };
import prometheusTemplate from "../../templates/observability/prometheus.yml.tmpl" with { type: "text" };
import { writeFileAtomic } from "../io/atomic.ts";
import { observabilityNames } from "../project/config/defaults.ts";
import type { GlobalConfig } from "../project/config/schema.ts";
import type { Context } from "../context.ts";
import { KinfraError } from "../errors.ts";
import { tail } from "../io/exec.ts";
import { composeTail } from "../compose/stderr.ts";
import { runCompose } from "../compose/tool.ts";
import { compareText } from "../text/compare.ts";

const SERVICES = ["grafana", "jaeger", "prometheus"];

type ObservabilityConfig = GlobalConfig["observability"];

/** The stack's names for this context's global config. */
export async function stackNames(ctx: Context) {
  return observabilityNames((await ctx.globalConfig()).observability);
}

/** Creates the shared network unless it exists; returns true when it was created. */
export async function ensureNetwork(ctx: Context): Promise<boolean> {
  const { network } = await stackNames(ctx);
  if ((await ctx.exec("docker", ["network", "inspect", network])).success) return false;
  const created = await ctx.exec("docker", [
    "network",
    "create",
    "--label",
    "dev.kinfra.network=observability",
    network,
  ]);
  if (!created.success && !(await ctx.exec("docker", ["network", "inspect", network])).success) {
    throw new KinfraError(`Could not create the Docker network ${network}.`, {
      details: tail(created.stderr, 5),
    });
  }
  return created.success;
}

/** Writes the stack's compose file and configs into `<home>/observability/`; returns the compose file. */
export async function renderStack(ctx: Context, config: ObservabilityConfig): Promise<string> {
  const fill = (t: string) =>
    t.replace(/\{\{(\w+)\}\}/g, (_, key: keyof ObservabilityConfig) => String(config[key]));
  const dir = ctx.home.observability;
  await writeFileAtomic(join(dir, "docker-compose.yml"), fill(composeTemplate));
  await writeFileAtomic(join(dir, "prometheus.yml"), fill(prometheusTemplate));
  await writeFileAtomic(join(dir, "grafana", "datasources.yml"), fill(datasourcesTemplate));
  return join(dir, "docker-compose.yml");
}

async function compose(ctx: Context, file: string, args: string[]) {
  const tool = await ctx.compose();
  const { project } = await stackNames(ctx);
  return await runCompose(ctx.exec, tool, ["-f", file, "-p", project, ...args], {
    cwd: ctx.home.observability,
  });
}

/** Where the last failed start is remembered (`stackUp` clears it). */
const failureMarker = (ctx: Context) => join(ctx.home.root, "cache", "observability-failed.json");

/** Brings the stack up (network first). Throws with compose's reason when it cannot start. */
export async function stackUp(ctx: Context): Promise<void> {
  await ensureNetwork(ctx);
  const file = await renderStack(ctx, (await ctx.globalConfig()).observability);
  const result = await compose(ctx, file, ["up", "-d"]);
  if (!result.success) {
    throw new KinfraError("The observability stack did not start.", {
      details: composeTail(result.stderr, 8),
    });
  }
  await Deno.remove(failureMarker(ctx)).catch(() => {});
}

/** Stops the stack's containers; removes the network only when no container uses it any more. */
export async function stackDown(ctx: Context): Promise<{ networkRemoved: boolean; networkUsers: string[] }> {
  const file = await renderStack(ctx, (await ctx.globalConfig()).observability);
  const result = await compose(ctx, file, ["down"]);
  if (!result.success) {
    throw new KinfraError("Stopping the observability stack failed.", {
      details: composeTail(result.stderr, 8),
    });
  }
  const users = await networkUsers(ctx);
  const networkRemoved = users.length === 0 &&
    (await ctx.exec("docker", ["network", "rm", (await stackNames(ctx)).network])).success;
  return { networkRemoved, networkUsers: users };
}

/** Names of containers attached to the shared network. */
export async function networkUsers(ctx: Context): Promise<string[]> {
  const r = await ctx.exec("docker", [
    "network",
    "inspect",
    (await stackNames(ctx)).network,
    "--format",
    "{{range .Containers}}{{.Name}} {{end}}",
  ]);
  return r.success ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
}

export interface StackContainer {
  name: string;
  service: string;
  state: string;
  status: string;
  ports: string;
}

/** The stack's containers, by service. */
export async function stackContainers(ctx: Context): Promise<StackContainer[]> {
  const { project } = await stackNames(ctx);
  const format = '{{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.State}}\t{{.Status}}\t{{.Ports}}';
  const r = await ctx.exec("docker", [
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--format",
    format,
  ]);
  if (!r.success) throw new KinfraError("docker ps failed.", { details: tail(r.stderr, 5) });
  return r.stdout.split("\n").filter(Boolean).map((line) => {
    const [name, service, state, status, ports] = line.split("\t");
    return { name, service, state, status, ports };
  }).sort((a, b) => compareText(a.service, b.service));
}

/** True when all three services run. */
export async function stackRunning(ctx: Context): Promise<boolean> {
  const containers = await stackContainers(ctx);
  return SERVICES.every((s) => containers.some((c) => c.service === s && c.state === "running"));
}

/**
 * `impl`'s auto-start: make sure the stack runs. If it cannot start (no image, busy port), warn
 * with the reason and go on — the network is still created, so the sandbox can start.
 */
export async function ensureObservability(ctx: Context): Promise<void> {
  // A stack that just failed to start (say an image that cannot be pulled) is not retried by every
  // impl: for a minute each one says so in one line and starts without it.
  const marker = failureMarker(ctx);
  const failed = await Deno.readTextFile(marker).then(JSON.parse).catch(() => undefined) as
    | { at: number; reason: string }
    | undefined;
  const ago = failed && (Date.now() - failed.at) / 1000;
  try {
    if (ago !== undefined && ago >= 0 && ago < 60) {
      ctx.log.warn(
        `Observability is not available; the sandbox starts without it (the stack failed ${
          Math.round(ago)
        } s ago: ` +
          `${failed!.reason}; retried after a minute, or \`kinfra observability up\` now).`,
      );
      await ensureNetwork(ctx);
      return;
    }
    if (await stackRunning(ctx)) return;
    ctx.log.step("Starting the shared observability stack");
    await stackUp(ctx);
  } catch (e) {
    const full = e instanceof KinfraError ? [e.message, ...e.details].join(" ") : String(e);
    const reason = full.replace(/\s+/g, " ").slice(0, 160);
    await writeFileAtomic(marker, JSON.stringify({ at: Date.now(), reason })).catch(() => {});
    ctx.log.warn(
      `Observability is not available; the sandbox starts without it. ${reason}` +
        " (`kinfra observability status` for details)",
    );
    await ensureNetwork(ctx);
  }
}

export interface Endpoint {
  name: string;
  url: string;
  answers: boolean;
}

/** The stack's URLs, and whether each one answers HTTP at all. */
export async function endpoints(config: ObservabilityConfig): Promise<Endpoint[]> {
  const list = [
    { name: "Jaeger UI", url: `http://127.0.0.1:${config.jaeger_ui_port}/` },
    { name: "OTLP HTTP", url: `http://127.0.0.1:${config.otlp_http_port}/v1/traces` },
    { name: "Prometheus", url: `http://127.0.0.1:${config.prometheus_port}/-/ready` },
    { name: "Grafana", url: `http://127.0.0.1:${config.grafana_port}/api/health` },
  ];
  return await Promise.all(list.map(async (e) => {
    try {
      const r = await fetch(e.url, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      return { ...e, answers: true };
    } catch {
      return { ...e, answers: false };
    }
  }));
}
