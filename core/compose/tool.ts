/**
 * Which Docker Compose to call: the v2 plugin (`docker compose`) or v1 (`docker-compose`).
 * `KINFRA_COMPOSE` or `[compose] command` in the global config picks one explicitly.
 */
import { environmentError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type Exec, type ExecOptions, whichPath } from "../io/exec.ts";
import { basename } from "../io/path.ts";

export interface ComposeTool {
  /**
   * The argv prefix: the compose plugin's own file and "compose" (what `docker compose` runs, see
   * composePlugin), ["docker", "compose"], or ["docker-compose"].
   */
  argv: string[];
  /** Variables the argv needs: the plugin, called directly, is told which docker CLI it belongs to. */
  env?: Record<string, string>;
  /** What a user types to run it: "docker compose" or "docker-compose". */
  command: string;
  flavour: "v2" | "v1";
  version: string;
}

/** Runs `compose <args…>` with the tool's argv and variables, `options.env` laid over them. */
export function runCompose(exec: Exec, tool: ComposeTool, args: string[], options: ExecOptions = {}) {
  const env = tool.env ? { ...tool.env, ...options.env } : options.env;
  return exec(tool.argv[0], [...tool.argv.slice(1), ...args], { ...options, env });
}

const CANDIDATES: Record<string, string[]> = {
  "docker compose": ["docker", "compose"],
  "docker-compose": ["docker-compose"],
};

/**
 * Asks one compose flavour for its version; undefined when it is not there. `docker compose` is
 * asked through its plugin file first (composePlugin), then through the docker CLI.
 */
export async function probeCompose(
  exec: Exec,
  command: string,
  found = command === "docker compose" ? composePlugin() : undefined,
): Promise<ComposeTool | undefined> {
  const plugin = await found;
  const ways: Pick<ComposeTool, "argv" | "env">[] = [...(plugin ? [plugin] : []), {
    argv: CANDIDATES[command],
  }];
  for (const way of ways) {
    const tool: ComposeTool = { ...way, command, flavour: "v2", version: "" };
    const result = await runCompose(exec, tool, ["version", "--short"]).catch(() => undefined);
    const version = result?.success ? result.stdout.trim().replace(/^v/, "") : "";
    if (version) return { ...tool, version, flavour: version.startsWith("1.") ? "v1" : "v2" };
  }
  return undefined;
}

/**
 * `docker compose` without the docker CLI in between: the plugin file the CLI would run, with the
 * variable the CLI sets for it (DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND, which also tells the plugin
 * it runs as one). The CLI itself adds ~25 ms to every call: its own start, and asking every
 * installed plugin for its metadata first. Looked up where the CLI looks (pluginDirs).
 * Undefined without Docker's own `docker` on PATH (isDockerCli) or without a plugin file.
 */
export async function composePlugin(): Promise<{ argv: string[]; env: Record<string, string> } | undefined> {
  const docker = await whichPath("docker");
  if (!docker || !isDockerCli(docker.path)) return undefined;
  for (const dir of pluginDirs()) {
    const file = `${dir}/docker-compose`;
    try {
      const info = Deno.statSync(file);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) {
        return { argv: [file, "compose"], env: { DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: docker.path } };
      }
    } catch { /* not in this directory */ }
  }
  return undefined;
}

/**
 * True for Docker's own CLI program. A `docker` that is a script (podman-docker's runs `podman`) or
 * another program under that name (a snap) may set up what it runs in its own way: kinfra then
 * goes through it, as a user's `docker compose` does.
 */
function isDockerCli(path: string): boolean {
  try {
    if (!/^(docker|com\.docker\.cli)$/.test(basename(Deno.realPathSync(path)))) return false;
    const file = Deno.openSync(path);
    const head = new Uint8Array(2);
    try {
      file.readSync(head);
    } finally {
      file.close();
    }
    return new TextDecoder().decode(head) !== "#!";
  } catch {
    return false;
  }
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

/** The docker CLI's configuration directory. */
const dockerConfigDir = () => Deno.env.get("DOCKER_CONFIG") ?? `${Deno.env.get("HOME")}/.docker`;

/**
 * Where the docker CLI looks for its plugins, in its order: config.json's `cliPluginsExtraDirs`,
 * then `$DOCKER_CONFIG/cli-plugins`, then the system's (docs.docker.com, "Install the plugin manually").
 */
function pluginDirs(): string[] {
  let extra: unknown;
  try {
    extra = JSON.parse(Deno.readTextFileSync(`${dockerConfigDir()}/config.json`)).cliPluginsExtraDirs;
  } catch { /* no config, or not JSON: the CLI then has no extra directories either */ }
  return [
    ...(Array.isArray(extra) ? extra.filter((d) => typeof d === "string") : []),
    `${dockerConfigDir()}/cli-plugins`,
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
  ];
}

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
  const key = JSON.stringify([
    2, // the cached answer's shape
    Deno.env.get("PATH"),
    preferred ?? null,
    stamp((await whichPath("docker"))?.path),
    stamp((await whichPath("docker-compose"))?.path),
    ...pluginDirs().map((d) => stamp(`${d}/docker-compose`)),
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
