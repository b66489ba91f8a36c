/**
 * The subprocess runner. Every external program is started with an argv array, never through a
 * shell, so no value can be interpreted as shell syntax.
 */
import { environmentError, KinfraError } from "../errors.ts";

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Variables of our own environment the child must not inherit. */
  unset?: string[];
  stdin?: string;
  signal?: AbortSignal;
  /** Let the child write straight to our stderr instead of capturing it. */
  inheritStderr?: boolean;
}

export interface ExecResult {
  code: number;
  success: boolean;
  stdout: string;
  stderr: string;
}

export type Exec = (cmd: string, args: string[], options?: ExecOptions) => Promise<ExecResult>;

const decoder = new TextDecoder();

/**
 * Runs `cmd args…` and collects its output. A missing executable is an environment error (exit 4).
 *
 * @example
 * const { stdout } = await exec("git", ["rev-parse", "HEAD"], { cwd: repo });
 */
export const exec: Exec = async (cmd, args, options = {}) => {
  const command = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? existingCwd(),
    env: options.unset ? { ...without(Deno.env.toObject(), options.unset), ...options.env } : options.env,
    clearEnv: Boolean(options.unset),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: options.inheritStderr ? "inherit" : "piped",
    signal: options.signal,
  });
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && options.cwd && !existsSync(options.cwd)) {
      throw new KinfraError(`Cannot run ${cmd}: the directory "${options.cwd}" does not exist.`);
    }
    if (e instanceof Deno.errors.NotFound) {
      throw environmentError(`"${cmd}" is not installed or not on PATH.`, `Install ${cmd} and try again.`);
    }
    throw e;
  }
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  return {
    code: out.code,
    success: out.success,
    stdout: decoder.decode(out.stdout),
    stderr: options.inheritStderr ? "" : decoder.decode(out.stderr),
  };
};

const without = (env: Record<string, string>, keys: string[]) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => !keys.includes(k)));

/** The working directory, or "/" once it has been deleted (as `done` does to the worktree it ran in). */
function existingCwd(): string {
  try {
    return Deno.cwd();
  } catch {
    return "/";
  }
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command and throws a KinfraError with the tail of its stderr when it fails. */
export async function execOk(run: Exec, cmd: string, args: string[], options?: ExecOptions): Promise<string> {
  const result = await run(cmd, args, options);
  if (!result.success) {
    throw new KinfraError(`Command failed: ${cmd} ${args.join(" ")} (exit ${result.code})`, {
      details: tail(result.stderr || result.stdout, 15),
    });
  }
  return result.stdout;
}

/** The last `n` non-empty lines of a text. */
export function tail(text: string, n: number): string[] {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-n);
}

/** True when `cmd` can be found on PATH. */
export async function onPath(cmd: string): Promise<boolean> {
  return (await whichPath(cmd)) !== undefined;
}

/**
 * Where `cmd` is found on PATH (an executable file), with its stat; undefined when it is not. The
 * stats are synchronous: a dozen local stats take microseconds, a dozen event-loop round trips a
 * millisecond or two (every impl and done looks up `docker` and `docker-compose`).
 */
// deno-lint-ignore require-await
export async function whichPath(cmd: string): Promise<{ path: string; info: Deno.FileInfo } | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${cmd}`);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return { path: `${dir}/${cmd}`, info };
    } catch { /* not in this directory */ }
  }
  return undefined;
}
