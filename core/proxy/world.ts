/**
 * Reads the proxy's world — the registry and the global config — and tells when either changed on
 * disk. A registry that cannot be read (corrupt, mid-repair by hand) keeps the last good world, so
 * running forwards are not torn down by a typo; a missing one (the home removed) is empty.
 */
import { GLOBAL_DEFAULTS } from "../project/config/defaults.ts";
import type { GlobalConfig } from "../project/config/schema.ts";
import { messageOf } from "../errors.ts";
import { basename } from "../io/path.ts";
import type { HomePaths } from "../io/home.ts";
import { readRegistry } from "../slots/registry.ts";
import type { ProxyWorld } from "./part.ts";

export class WorldReader {
  last?: ProxyWorld;
  private seen = "";

  constructor(private readonly home: HomePaths, private readonly log: (m: string) => void) {}

  /** True for a path whose change matters (the registry, the global config). */
  watches(path: string): boolean {
    const name = basename(path);
    return name === basename(this.home.registry) || name === basename(this.home.config);
  }

  /** True when the files changed since the last read (by inode, size and mtime). */
  async changed(): Promise<boolean> {
    return await this.fingerprint() !== this.seen;
  }

  private async fingerprint(): Promise<string> {
    const one = async (path: string) => {
      try {
        const s = await Deno.stat(path);
        return `${s.ino}:${s.size}:${s.mtime?.getTime()}`;
      } catch {
        return "-";
      }
    };
    return `${await one(this.home.registry)} ${await one(this.home.config)}`;
  }

  async read(): Promise<ProxyWorld> {
    this.seen = await this.fingerprint();
    let config = this.last?.config ?? structuredClone(GLOBAL_DEFAULTS) as GlobalConfig;
    try {
      config = await loadConfig(this.home);
    } catch (e) {
      this.log(`config: ${messageOf(e)} (keeping the last good one)`);
    }
    try {
      this.last = { registry: await readRegistry(this.home), config };
    } catch (e) {
      this.log(`registry: ${messageOf(e)} (keeping the last good one)`);
      this.last ??= { registry: { version: 1, slots: {}, worktrees: {} }, config };
      this.last = { ...this.last, config };
    }
    return this.last;
  }
}

async function loadConfig(home: HomePaths): Promise<GlobalConfig> {
  return await (await import("../project/config/load.ts")).loadGlobalConfig(home);
}
