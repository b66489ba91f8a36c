/**
 * Defaults of the global config, usable without loading the validator (context.ts); schema.ts takes
 * its defaults from here.
 */
export const OBSERVABILITY_DEFAULTS = {
  name: "devops-ai",
  jaeger_image: "jaegertracing/jaeger:2.4.0",
  prometheus_image: "prom/prometheus:v3.1.0",
  grafana_image: "grafana/grafana:11.4.0",
  jaeger_ui_port: 16686,
  otlp_grpc_port: 4317,
  otlp_http_port: 4318,
  prometheus_port: 9090,
  grafana_port: 3000,
};

/** The global config when there is no config.toml: what the schema's defaults give. */
export const GLOBAL_DEFAULTS = {
  slots: { max: 20 } as { max: number; memory?: string | number; idle_stop?: string },
  compose: {} as { command?: "docker compose" | "docker-compose" },
  observability: OBSERVABILITY_DEFAULTS,
  plugins: { enable: [] as string[] },
  data: { helper_image: "busybox:1.36" },
  worktree: {} as { root?: string },
  /** The kinfra proxy process (docs/proxy.md): the router's port for `<name>.<project>.localhost`. */
  proxy: { port: 4390 },
  sandbox: {} as { host?: string },
};

/**
 * The shared stack's Docker names, all derived from `[observability] name` (default "devops-ai"):
 * compose project and network `<name>-observability`, Jaeger's container (its DNS name for the
 * sandboxes) `<name>-jaeger`. A second stack, say a test suite's, just takes another name.
 *
 * @example
 * observabilityNames({ name: "devops-ai" }).jaeger; // "devops-ai-jaeger"
 */
export function observabilityNames(config: { name: string }) {
  return {
    project: `${config.name}-observability`,
    network: `${config.name}-observability`,
    jaeger: `${config.name}-jaeger`,
    prefix: `${config.name}-`,
  };
}
