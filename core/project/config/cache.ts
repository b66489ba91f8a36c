/**
 * A content-addressed cache of validated infra.toml files. Validation (zod) costs more than the
 * rest of `kinfra status` put together, and the file rarely changes, so a validated result is kept
 * under the sha256 of everything it depends on — the text, its path, the slot limit and the kinfra build
 * that validated it (a newer build may read the file differently); any change is a different key. Invalid files are
 * never cached, so their errors are always reported.
 */
import { join } from "../../io/path.ts";
import { BUILD } from "#build";
import { writeFileAtomic } from "../../io/atomic.ts";
import { sha256Hex } from "../../io/hash.ts";
import type { InfraConfig } from "./schema.ts";

/**
 * Parses and validates infra.toml text, from the cache when this exact text was validated before.
 *
 * @example
 * const config = await parseInfraConfigCached(text, path, 20, join(home.root, "cache"));
 */
export async function parseInfraConfigCached(
  text: string,
  path: string,
  maxSlots: number,
  cacheDir: string,
): Promise<InfraConfig> {
  const key = await sha256Hex([BUILD.version, BUILD.commit, maxSlots, path, text].join("\0"));
  const file = join(cacheDir, `infra-${key.slice(0, 32)}.json`);
  try {
    return JSON.parse(Deno.readTextFileSync(file)) as InfraConfig;
  } catch { /* not cached yet */ }
  const { parseInfraConfig } = await import("./load.ts");
  const config = parseInfraConfig(text, path, maxSlots);
  await writeFileAtomic(file, JSON.stringify(config)).catch(() => {});
  return config;
}
