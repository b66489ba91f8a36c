/**
 * Test helpers: temp dirs, real git repositories, and running the real kinfra CLI as a subprocess
 * with KINFRA_HOME pointed at a temp dir.
 */
import { join } from "node:path";
import { V8_FLAGS_ARG } from "../core/io/v8_flags.ts";

/**
 * The command line that runs kinfra: `$KINFRA_BIN` when set — a compiled binary, or the bundle
 * (`.js`, run by this deno) that scripts/test.sh builds — else `deno run main.ts`.
 */
export const KINFRA: readonly string[] = (() => {
  const bin = Deno.env.get("KINFRA_BIN");
  const main = new URL("../main.ts", import.meta.url).pathname;
  // With the V8 flags the bundle's `#!` line and the compiled binary carry: what ships is what is tested.
  const run = [Deno.execPath(), "run", "-A", "--quiet", V8_FLAGS_ARG];
  if (!bin || bin === "source") return [...run, main];
  return bin.endsWith(".js") ? [...run, bin] : [bin];
})();

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export interface Sandbox {
  dir: string;
  home: string;
  /** Runs `kinfra args…` in `cwd` (default: the sandbox dir). */
  kinfra(args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<Run>;
  /** Starts `kinfra args…` in `cwd` without waiting, for tests that signal or kill it. */
  spawnKinfra(args: string[], cwd: string): Deno.ChildProcess;
  /** Creates a git repository with one commit; returns its path. */
  repo(name: string, files?: Record<string, string>): Promise<string>;
  cleanup(): Promise<void>;
}

export async function makeSandbox(): Promise<Sandbox> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "kinfra-test-" }));
  const home = join(dir, "home");
  return {
    dir,
    home,
    kinfra: (args, options = {}) =>
      runCommand(KINFRA[0], [...KINFRA.slice(1), ...args], {
        cwd: options.cwd ?? dir,
        env: { KINFRA_HOME: home, NO_COLOR: "1", ...options.env },
      }),
    spawnKinfra: (args, cwd) =>
      new Deno.Command(KINFRA[0], {
        args: [...KINFRA.slice(1), ...args],
        cwd,
        env: { KINFRA_HOME: home, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    repo: async (name, files = {}) => {
      const path = join(dir, name);
      await Deno.mkdir(path, { recursive: true });
      await writeFiles(path, { "README.md": `# ${name}\n`, ...files });
      await git(path, "init", "-q", "-b", "main");
      await git(path, "add", "-A");
      await git(path, "commit", "-qm", "initial");
      return path;
    },
    // Worktrees are created beside their repos, inside `dir`, so removing it removes everything.
    cleanup: async () => {
      // The home's proxy first (it exits by itself once its lock goes, but a test leaves nothing).
      if (await pathExists(join(home, "proxy", "state.json"))) {
        await runCommand(KINFRA[0], [...KINFRA.slice(1), "proxy", "stop"], {
          cwd: dir,
          env: { KINFRA_HOME: home, NO_COLOR: "1" },
        });
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs `fn` with a fresh sandbox and always cleans it up. */
export async function withSandbox(fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await makeSandbox();
  try {
    await fn(sb);
  } finally {
    await sb.cleanup();
  }
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, content);
  }
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "kinfra test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "kinfra test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** Runs git in `cwd`; throws with its stderr on failure. Returns trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const r = await runCommand("git", args, { cwd, env: GIT_ENV });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: { ...GIT_ENV, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  return {
    code: out.code,
    stdout,
    stderr,
    json: <T>() => {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${out.code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Docker tests run when an engine answers; with CI=true a missing engine fails them instead of skipping. */
export const dockerAvailable = await (async () => {
  try {
    const out = await new Deno.Command("docker", {
      args: ["info", "--format", "{{.ServerVersion}}"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
})();
export const inCI = Deno.env.get("CI") === "true";

/** A Compose command line and what it says it is. */
export interface ComposeUnderTest {
  /** `KINFRA_COMPOSE`'s value (or what kinfra detects without it). */
  command: string;
  argv: string[];
  flavour: "v1" | "v2";
  version: string;
}

/**
 * The Compose the Docker tests run against: `KINFRA_COMPOSE` (scripts/test.sh runs every test that
 * needs Docker once with "docker compose" and once with "docker-compose"), else what kinfra picks
 * without it. Undefined when that Compose does not answer `version`.
 */
export const compose: ComposeUnderTest | undefined = await (async () => {
  const chosen = Deno.env.get("KINFRA_COMPOSE");
  for (const command of chosen ? [chosen] : ["docker compose", "docker-compose"]) {
    const argv = command.split(" ");
    try {
      const out = await new Deno.Command(argv[0], {
        args: [...argv.slice(1), "version", "--short"],
        stdout: "piped",
        stderr: "null",
      }).output();
      const version = new TextDecoder().decode(out.stdout).trim().replace(/^v/, "");
      if (out.success && version) {
        return { command, argv, version, flavour: version.startsWith("1.") ? "v1" : "v2" };
      }
    } catch { /* not installed */ }
  }
  return undefined;
})();

/** Options for a test that needs the Docker engine and Compose. */
export function needsDocker(): { ignore: boolean } {
  return { ignore: !(dockerAvailable && compose) && !inCI };
}

/** Fails a Docker test (CI=true never skips one) when the engine or the Compose under test is missing. */
export function assertDocker(): void {
  if (!dockerAvailable) throw new Error("This test needs a running Docker engine (CI=true: not skipping).");
  if (!compose) {
    throw new Error(
      `This test needs Compose (${Deno.env.get("KINFRA_COMPOSE") ?? "docker compose or docker-compose"}), ` +
        "which does not answer `version` (CI=true: not skipping).",
    );
  }
}
