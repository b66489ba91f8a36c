/**
 * The agent-deck CLI as documented for v1.14.0 (SPEC §9): `add … --json`, `session start|show|send|
 * stop|remove`. Never `agent-deck remove`, which deletes worktrees itself. Exit code 2 means the
 * session id is unknown.
 */
import { type Exec, type ExecResult, KinfraError } from "../../core/hooks/plugin_api.ts";

export const UNKNOWN_SESSION = 2;

export interface AddOptions {
  path: string;
  title: string;
  tool: string;
  group?: string;
}

export class AgentDeck {
  constructor(private readonly exec: Exec) {}

  private run(args: string[]): Promise<ExecResult> {
    return this.exec("agent-deck", args);
  }

  /** Creates a session; returns its id from the `--json` reply. */
  async add(o: AddOptions): Promise<string> {
    const r = await this.run([
      "add",
      o.path,
      "-t",
      o.title,
      "-c",
      o.tool,
      ...(o.group ? ["-g", o.group] : []),
      "--json",
    ]);
    if (!r.success) {
      throw new KinfraError(`agent-deck add failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    }
    const reply = JSON.parse(r.stdout);
    const id = reply.id ?? reply.session_id ?? reply.session?.id;
    if (typeof id !== "string" || !id) {
      throw new KinfraError(`agent-deck add replied without a session id: ${r.stdout.trim()}`);
    }
    return id;
  }

  async session(verb: "start" | "stop" | "remove", id: string): Promise<ExecResult> {
    return await this.run(["session", verb, id]);
  }

  async send(id: string, message: string): Promise<ExecResult> {
    return await this.run(["session", "send", id, message]);
  }

  /** The session's status ("idle", "waiting", "running", …), "unknown" for an unknown id, undefined if `show` fails. */
  async status(id: string): Promise<string | undefined> {
    const r = await this.run(["session", "show", id, "--json"]);
    if (r.code === UNKNOWN_SESSION) return "unknown";
    if (!r.success) return undefined;
    try {
      const status = JSON.parse(r.stdout).status;
      return typeof status === "string" ? status : undefined;
    } catch {
      return undefined;
    }
  }
}
