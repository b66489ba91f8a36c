/**
 * The otel plugin (order 30): puts each OTEL service (default: the code targets) on the shared
 * `devops-ai-observability` network and points it at the shared Jaeger, with its traces told apart
 * by `service.namespace=<project>-slot-<n>`. A resource-attribute value the base compose file
 * already sets is extended, never replaced. `status` links to Jaeger filtered to the namespace, and
 * to Grafana's Explore on the same search.
 */
import {
  definePlugin,
  httpStatus,
  observabilityNames,
  readSlotCompose,
} from "../../core/hooks/plugin_api.ts";

type Mapping = Record<string, unknown>;

/** A service's `environment` value for `key` in the base file (mapping or `KEY=value` list form). */
function baseValue(service: Mapping | undefined, key: string): string | undefined {
  const env = service?.environment;
  if (Array.isArray(env)) {
    const item = env.map(String).find((e) => e.startsWith(`${key}=`));
    return item?.slice(key.length + 1);
  }
  const value = (env as Mapping | undefined)?.[key];
  return value == null ? undefined : String(value);
}

export const otelPlugin = definePlugin({
  name: "otel",
  order: 30,
  description: "Wires sandboxes to the shared Jaeger",
  hooks: {
    "sandbox.prepare": async (ctx) => {
      const sandbox = ctx.config?.sandbox;
      if (!sandbox?.otel.enabled) return;
      // The shared stack runs on this machine's engine; its network does not exist on another host,
      // so a remote sandbox's traces go to a forwarder there that ssh carries back here.
      const remote = ctx.slot.remote;
      if (remote && !remote.otlp_endpoint) {
        return { messages: [`traces off: no way back from host ${remote.host} to the collector here`] };
      }
      const { otel } = sandbox;
      const names = observabilityNames(ctx.global.observability);
      const base = (await readSlotCompose(ctx)).doc;
      const baseServices = (base.services ?? {}) as Record<string, Mapping>;
      const namespace = `service.namespace=${ctx.slot.compose_project}`;
      const services: Record<string, Mapping> = {};
      for (const name of otel.services ?? sandbox.mounts.code_targets) {
        if (baseServices[name]?.network_mode) continue; // cannot join networks
        const existing = baseValue(baseServices[name], otel.namespace_var);
        const environment = {
          [otel.endpoint_var]: remote?.otlp_endpoint ?? `http://${names.jaeger}:4317`,
          [otel.namespace_var]: existing ? `${existing},${namespace}` : namespace,
        };
        services[name] = remote
          ? { extra_hosts: ["host.docker.internal:host-gateway"], environment }
          : { networks: [names.network], environment };
      }
      if (Object.keys(services).length === 0) return;
      if (remote) return { compose: { services } };
      return { compose: { networks: { [names.network]: { external: true } }, services } };
    },

    status: async (ctx) => {
      const sandbox = ctx.config?.sandbox;
      if (!sandbox?.otel.enabled || !ctx.slot) return;
      const { jaeger_ui_port, grafana_port } = ctx.global.observability;
      const jaeger = `http://127.0.0.1:${jaeger_ui_port}`;
      const grafana = `http://127.0.0.1:${grafana_port}`;
      // Links only to what answers; otherwise say how to start it.
      const [jaegerUp, grafanaUp] = await Promise.all([
        answers(`${jaeger}/`),
        answers(`${grafana}/api/health`),
      ]);
      const namespace = ctx.slot.compose_project;
      const tags = encodeURIComponent(JSON.stringify({ "service.namespace": namespace }));
      const traces = jaegerUp ? `${jaeger}/search?tags=${tags}` : null;
      return {
        status: { namespace, jaeger: traces, grafana: grafanaUp ? grafanaExplore(grafana, namespace) : null },
        lines: traces
          ? [`traces ${traces}`]
          : [`traces: Jaeger is not running (kinfra observability up); namespace ${namespace}`],
      };
    },
  },
});

const answers = (url: string) => httpStatus(url, AbortSignal.timeout(500)).then(() => true, () => false);

/** Grafana's Explore on the stack's Jaeger datasource (uid `kinfra-jaeger`), searching the namespace. */
function grafanaExplore(grafana: string, namespace: string): string {
  const datasource = { type: "jaeger", uid: "kinfra-jaeger" };
  const pane = {
    datasource: datasource.uid,
    queries: [{ refId: "A", datasource, queryType: "search", tags: `service.namespace=${namespace}` }],
    range: { from: "now-1h", to: "now" },
  };
  return `${grafana}/explore?schemaVersion=1&orgId=1&panes=${
    encodeURIComponent(JSON.stringify({ k: pane }))
  }`;
}
