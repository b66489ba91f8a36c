/**
 * Which Docker Compose to call: the v2 plugin (`docker compose`) or v1 (`docker-compose`).
 * `KINFRA_COMPOSE` or `[compose] command` in the global config picks one explicitly.
 */
import { environmentError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type Exec, whichPath } from "../io/exec.ts";

export interface ComposeTool {
  /** The argv prefix: ["docker", "compose"] or ["docker-compose"]. */
  argv: string[];
  flavour: "v2" | "v1";
  version: string;
}

const CANDIDATES: Record<string, string[]> = {
  "docker compose": ["docker", "compose"],
  "docker-compose": ["docker-compose"],
};

/** Asks one compose flavour for its version; undefined when it is not there. */
export async function probeCompose(exec: Exec, command: string): Promise<ComposeTool | undefined> {
  const argv = CANDIDATES[command];
  const result = await exec(argv[0], [...argv.slice(1), "version", "--short"]).catch(() => undefined);
  if (!result?.success) return undefined;
  const version = result.stdout.trim().replace(/^v/, "");
  return { argv, version, flavour: version.startsWith("1.") ? "v1" : "v2" };
}

/**
 * Finds the compose command to use: the explicit choice, else the `docker compose` plugin, else a
 * standalone `docker-compose`. Each is asked for its version: a standalone `docker-compose` is v2 as
 * often as v1 (Debian's and Docker's v2 packages ship one), and v1 and v2 read and print differently.
 * `probe` lets a caller that probed already (doctor) reuse its answers.
 *
 * @example
 * const compose = await detectCompose(exec, Deno.env.get("KINFRA_COMPOSE"));
 * // compose → { argv: ["docker-compose"], flavour: "v1", version: "1.29.2" } with only Compose v1
 */
export async function detectCompose(
  exec: Exec,
  preferred?: string,
  probe: (command: string) => Promise<ComposeTool | undefined> = (c) => probeCompose(exec, c),
): Promise<ComposeTool> {
  if (preferred) {
    if (!CANDIDATES[preferred]) {
      throw environmentError(
        `Unknown compose command "${preferred}".`,
        `Set KINFRA_COMPOSE or [compose] command to "docker compose" or "docker-compose".`,
      );
    }
    const tool = await probe(preferred);
    if (!tool) {
      throw environmentError(
        `"${preferred}" was requested but does not work here.`,
        "Install it, or unset KINFRA_COMPOSE.",
      );
    }
    return tool;
  }
  const tool = await probe("docker compose") ?? await probe("docker-compose");
  if (!tool) {
    throw environmentError(
      "Docker Compose is not installed (neither `docker compose` nor `docker-compose` works).",
      "Install the Compose v2 plugin (docker-compose-plugin) or Compose v1 (docker-compose).",
    );
  }
  return tool;
}

/** Where the docker CLI looks for its compose plugin (docs.docker.com, "Install the plugin manually"). */
const PLUGIN_DIRS = [
  "/usr/local/lib/docker/cli-plugins",
  "/usr/local/libexec/docker/cli-plugins",
  "/usr/lib/docker/cli-plugins",
  "/usr/libexec/docker/cli-plugins",
];

/**
 * detectCompose, remembered in `cacheDir` while nothing it depends on changes: PATH, the choice,
 * and the `docker`, `docker-compose` and compose-plugin files (an upgrade changes their mtime).
 * Saves the ~15 ms `docker compose version` (~0.3 s for v1, a Python program) on every impl and done.
 */
export async function detectComposeCached(exec: Exec, preferred: string | undefined, cacheDir: string) {
  const stamp = (path?: string) => {
    try {
      const info = path && Deno.statSync(path);
      return info ? [path, info.mtime?.getTime(), info.size] : null;
    } catch {
      return null;
    }
  };
  const config = Deno.env.get("DOCKER_CONFIG") ?? `${Deno.env.get("HOME")}/.docker`;
  const key = JSON.stringify([
    Deno.env.get("PATH"),
    preferred ?? null,
    stamp((await whichPath("docker"))?.path),
    stamp((await whichPath("docker-compose"))?.path),
    ...[`${config}/cli-plugins`, ...PLUGIN_DIRS].map((d) => stamp(`${d}/docker-compose`)),
  ]);
  const file = `${cacheDir}/compose.json`;
  try {
    const cached = JSON.parse(await Deno.readTextFile(file));
    if (cached.key === key) return cached.tool as ComposeTool;
  } catch { /* not cached yet */ }
  const tool = await detectCompose(exec, preferred);
  await writeFileAtomic(file, JSON.stringify({ key, tool })).catch(() => {});
  return tool;
}

/** The Docker engine's version, or undefined when the engine does not answer. */
export async function dockerEngineVersion(exec: Exec): Promise<string | undefined> {
  const result = await exec("docker", ["info", "--format", "{{.ServerVersion}}"]).catch(() => undefined);
  const version = result?.stdout.trim();
  return result?.success && version ? version : undefined;
}
