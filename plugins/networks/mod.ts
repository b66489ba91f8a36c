/**
 * The networks plugin (order 10). Compose merges a service's `networks` from the override with
 * the base file, but a service that was only on the implicit `default` network loses it as soon
 * as the override names any network. So this plugin writes every service's base network
 * membership out explicitly, and `[sandbox.networks] include` adds networks to join: ones the base
 * file defines stay as they are; others are declared external and joined by the code targets.
 */
import { definePlugin, readSlotCompose } from "../../core/hooks/plugin_api.ts";

type Mapping = Record<string, unknown>;

export const networksPlugin = definePlugin({
  name: "networks",
  order: 10,
  description: "Keeps sandbox services on their networks",
  hooks: {
    "sandbox.prepare": async (ctx) => {
      if (!ctx.config?.sandbox) return;
      const base = (await readSlotCompose(ctx)).doc;
      const defined = Object.keys((base.networks ?? {}) as Mapping);
      const services: Record<string, Mapping> = {};
      for (const [name, body] of Object.entries((base.services ?? {}) as Record<string, Mapping>)) {
        if (body?.network_mode) continue;
        // Kept in its own form, so per-network options such as aliases survive the merge.
        services[name] = { networks: body?.networks ?? ["default"] };
      }
      const external = ctx.config.sandbox.networks.include.filter((n) => !defined.includes(n));
      for (const target of external.length ? ctx.config.sandbox.mounts.code_targets : []) {
        const current = services[target].networks;
        services[target].networks = Array.isArray(current)
          ? [...current, ...external]
          : { ...current as Mapping, ...Object.fromEntries(external.map((n) => [n, null])) };
      }
      const networks = Object.fromEntries(external.map((n) => [n, { external: true }]));
      return { compose: external.length ? { networks, services } : { services } };
    },
  },
});
