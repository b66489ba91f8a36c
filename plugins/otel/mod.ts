/**
 * The otel plugin (order 30): puts each OTEL service (default: the code targets) on the shared
 * `devops-ai-observability` network and points it at the shared Jaeger, with its traces told apart
 * by `service.namespace=<project>-slot-<n>`. A resource-attribute value the base compose file
 * already sets is extended, never replaced. `status` links to Jaeger filtered to the namespace.
 */
import { definePlugin, observabilityNames, readSlotCompose } from "../../core/hooks/plugin_api.ts";

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
      const { otel } = sandbox;
      const names = observabilityNames(ctx.global.observability);
      const base = (await readSlotCompose(ctx)).doc;
      const baseServices = (base.services ?? {}) as Record<string, Mapping>;
      const namespace = `service.namespace=${ctx.slot.compose_project}`;
      const services: Record<string, Mapping> = {};
      for (const name of otel.services ?? sandbox.mounts.code_targets) {
        if (baseServices[name]?.network_mode) continue; // cannot join networks
        const existing = baseValue(baseServices[name], otel.namespace_var);
        services[name] = {
          networks: [names.network],
          environment: {
            [otel.endpoint_var]: `http://${names.jaeger}:4317`,
            [otel.namespace_var]: existing ? `${existing},${namespace}` : namespace,
          },
        };
      }
      if (Object.keys(services).length === 0) return;
      return { compose: { networks: { [names.network]: { external: true } }, services } };
    },

    status: async (ctx) => {
      const sandbox = ctx.config?.sandbox;
      if (!sandbox?.otel.enabled || !ctx.slot) return;
      const ui = `http://127.0.0.1:${ctx.global.observability.jaeger_ui_port}`;
      // A link only to a Jaeger that answers; otherwise say how to start it.
      const up = await fetch(`${ui}/`, { signal: AbortSignal.timeout(500) })
        .then(async (r) => (await r.body?.cancel(), true), () => false);
      const tags = encodeURIComponent(JSON.stringify({ "service.namespace": ctx.slot.compose_project }));
      return {
        status: { namespace: ctx.slot.compose_project, jaeger: up ? `${ui}/search?tags=${tags}` : null },
        lines: up ? [`traces ${ui}/search?tags=${tags}`] : [
          `traces: Jaeger is not running (kinfra observability up); namespace ${ctx.slot.compose_project}`,
        ],
      };
    },
  },
});
