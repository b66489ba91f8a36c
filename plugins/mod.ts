/**
 * The built-in plugins. Each one is a `Plugin` built with the public API in core/hooks/plugin_api.ts,
 * exactly as a third-party plugin would be.
 */
import type { Plugin } from "../core/hooks/plugin_api.ts";
import { agentDeckPlugin } from "./agent-deck/mod.ts";
import { dataPlugin } from "./data/mod.ts";
import { dockerPlugin } from "./docker/mod.ts";
import { networksPlugin } from "./networks/mod.ts";
import { otelPlugin } from "./otel/mod.ts";

export const builtinPlugins: Plugin[] = [
  networksPlugin,
  dockerPlugin,
  dataPlugin,
  otelPlugin,
  agentDeckPlugin,
];
