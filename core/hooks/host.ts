/**
 * What plugin loading needs of the running command, and the reserved built-in names: small on
 * purpose, so the common path (no third-party plugin enabled) never loads discovery, manifests
 * (zod) or the external runner.
 */
import type { GlobalConfig } from "../project/config/schema.ts";
import type { Logger } from "../io/output.ts";
import type { HomePaths } from "../io/home.ts";

/** What finding and loading plugins needs of the running command (the Context provides it). */
export interface PluginHost {
  env: { get(key: string): string | undefined };
  home: HomePaths;
  log: Logger;
  globalConfig(): Promise<GlobalConfig>;
  /** The built-in plugins main.ts wires: their names are reserved. */
  builtins(): Promise<{ name: string }[]>;
}

/** The names reserved for built-in plugins: those of the plugins the program wires, so never a stale list. */
export async function builtinNames(host: Pick<PluginHost, "builtins">): Promise<string[]> {
  return (await host.builtins()).map((p) => p.name);
}
