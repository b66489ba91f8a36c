/**
 * Plugins' extra router names (`sandbox.routes`), asked once when a sandbox is ready and kept with
 * its slot in the registry, so the proxy process serves them without running any plugin.
 */
import type { Context } from "../context.ts";
import type { Hooks } from "../hooks/dispatch.ts";
import type { HookInput } from "../hooks/plugin_api.ts";

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The routes every plugin asked for; a bad one is a warning naming the plugin, and is left out. */
export async function pluginRoutes(
  ctx: Context,
  hooks: Hooks,
  input: HookInput,
): Promise<Record<string, number> | undefined> {
  const { replies, failures } = await hooks.observe("sandbox.routes", input);
  for (const f of failures) ctx.log.warn(`plugin ${f.plugin}: sandbox.routes failed: ${f.message}`);
  const routes: Record<string, number> = {};
  for (const { plugin, result } of replies) {
    for (const [name, port] of Object.entries(result.routes ?? {})) {
      if (!NAME.test(name) || !Number.isInteger(port) || port < 1 || port > 65535) {
        ctx.log.warn(
          `plugin ${plugin}: route ${JSON.stringify(name)} → ${JSON.stringify(port)} ignored ` +
            "(names are a–z, 0–9 and '-'; ports 1–65535).",
        );
        continue;
      }
      routes[name] = port;
    }
  }
  return Object.keys(routes).length ? routes : undefined;
}
