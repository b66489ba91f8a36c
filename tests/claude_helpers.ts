/**
 * Driving the real Claude Code (npm `@anthropic-ai/claude-code`, installed by scripts/setup.sh) in
 * tests, offline: a temp HOME that has finished onboarding and trusts the test repo, the API at a
 * closed loopback port, no credentials, no nonessential traffic, no marketplace clone. Interactive sessions run under a
 * tmux server of the test's own (its socket in the test's temp dir), which the test kills when done.
 */
import { join } from "node:path";
import { inCI, runCommand, type Sandbox } from "./helpers.ts";

/** `$KINFRA_TEST_CLAUDE`, else the prefix scripts/setup.sh installs into. */
export const CLAUDE = Deno.env.get("KINFRA_TEST_CLAUDE") ??
  "/opt/kinfra-test/claude/node_modules/.bin/claude";

const works = async (cmd: string, args: string[]) => {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
};
export const claudeAvailable = await works(CLAUDE, ["--version"]) && await works("tmux", ["-V"]);

/** A test that needs Claude Code and tmux: skipped without them, failed with CI=true. */
export function claudeTest(name: string, fn: () => Promise<void>, options: { docker?: boolean } = {}) {
  Deno.test({
    name,
    ignore: !claudeAvailable && !inCI,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (!claudeAvailable) {
        throw new Error(
          `This test needs Claude Code at ${CLAUDE} and tmux (bash scripts/setup.sh installs them).`,
        );
      }
      if (options.docker) (await import("./helpers.ts")).assertDocker();
      await fn();
    },
  });
}

/**
 * The environment Claude runs in: this one without anything that could log it in or reach out
 * (ANTHROPIC_*, CLAUDE_*, cloud-provider switches), plus the test's HOME and KINFRA_HOME.
 */
export async function claudeEnv(sb: Sandbox, repo: string): Promise<Record<string, string>> {
  const home = join(sb.dir, "claude-home");
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    join(home, ".claude.json"),
    JSON.stringify({ hasCompletedOnboarding: true, projects: { [repo]: { hasTrustDialogAccepted: true } } }),
  );
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !/^(ANTHROPIC_|CLAUDE|AWS_|GOOGLE_|VERTEX|TMUX)/.test(k)
    ),
  );
  return {
    ...env,
    HOME: home,
    KINFRA_HOME: sb.home,
    NO_COLOR: "1",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    // Else it tries to `git clone` its plugin marketplace from GitHub at start.
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: "1",
  };
}

/** `claude args…` in `cwd`, to its end (a `-p` run), with its debug log. */
export async function claudePrint(env: Record<string, string>, cwd: string, args: string[]) {
  const log = join(env.HOME, `debug-${crypto.randomUUID().slice(0, 8)}.txt`);
  const child = new Deno.Command(CLAUDE, {
    args: ["--debug-file", log, ...args],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: text(out.stdout),
    stderr: text(out.stderr),
    log: await Deno.readTextFile(log).catch(() => ""),
  };
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** An interactive Claude Code under a tmux server of its own; `exit()` types `/exit` like a user. */
export class ClaudeSession {
  readonly id = crypto.randomUUID().slice(0, 8);
  /** In the test's temp HOME, so nothing is left in tmux's shared socket directory. */
  readonly socket: string;
  readonly log: string;

  private constructor(private env: Record<string, string>) {
    this.log = join(env.HOME, `debug-${this.id}.txt`);
    this.socket = join(env.HOME, `tmux-${this.id}.sock`);
  }

  static async start(env: Record<string, string>, cwd: string, args: string[]): Promise<ClaudeSession> {
    const session = new ClaudeSession(env);
    const line = [CLAUDE, "--debug-file", session.log, ...args].map(quote).join(" ");
    await session.tmux(
      "new-session",
      "-d",
      "-s",
      "claude",
      "-x",
      "200",
      "-y",
      "50",
      "-c",
      cwd,
      `${line}; echo "claude exited $?"; sleep 600`,
    );
    return session;
  }

  private async tmux(...args: string[]): Promise<string> {
    const r = await runCommand("tmux", ["-S", this.socket, ...args], { env: this.env });
    if (r.code !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** What the pane shows now. */
  screen(): Promise<string> {
    return this.tmux("capture-pane", "-p", "-t", "claude");
  }

  /** Waits until the pane shows `pattern` (Claude Code starts in a few seconds; a sandbox takes longer). */
  async waitFor(pattern: RegExp, seconds = 180): Promise<string> {
    let screen = "";
    for (let i = 0; i < seconds * 4; i++) {
      screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (/claude exited/.test(screen)) break; // it ended without showing it: no point waiting
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`The pane never showed ${pattern}:\n${screen}\n--- debug log:\n${await this.debugLog()}`);
  }

  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.tmux("send-keys", "-t", "claude", key);
      await new Promise((r) => setTimeout(r, 700));
    }
  }

  /** Types `/exit` at Claude's prompt. */
  exit(): Promise<void> {
    return this.keys("/exit", "Enter");
  }

  debugLog(): Promise<string> {
    return Deno.readTextFile(this.log).catch(() => "");
  }

  /** Ends the test's tmux server (and whatever still runs in it). */
  async close(): Promise<void> {
    await runCommand("tmux", ["-S", this.socket, "kill-server"], { env: this.env }).catch(() => {});
  }
}
