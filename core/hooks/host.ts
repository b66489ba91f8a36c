/**
 * What plugin loading needs of the running command, and the reserved built-in names: small on
 * purpose, so the common path (no third-party plugin enabled) never loads discovery, manifests
 * (zod) or the external runner.
 */
import type { GlobalConfig } from "../project/config/schema.ts";
import type { Logger } from "../io/output.ts";
import type { HomePaths } from "../io/paths.ts";

/** What finding and loading plugins needs of the running command (the Context provides it). */
export interface PluginHost {
  env: { get(key: string): string | undefined };
  home: HomePaths;
  log: Logger;
  globalConfig(): Promise<GlobalConfig>;
}

/** Names that belong to built-in plugins. */
export const BUILTIN_NAMES = ["docker", "networks", "otel", "agent-deck"];
