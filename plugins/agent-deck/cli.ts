/**
 * The agent-deck CLI as v1.14.0 has it (docs/agent-deck.md): `add … --json`, `session start|show|send|
 * stop|remove … --json`. Never `agent-deck remove` and never `--prune-worktree`: both delete worktrees.
 * Every call passes `--json`, so an error comes back as `{success: false, error, code}` on stdout;
 * exit 2 means the session id is unknown (NOT_FOUND).
 */
import { type Exec, KinfraError } from "../../core/hooks/plugin_api.ts";

export const NOT_FOUND_EXIT = 2;

export interface AddOptions {
  path: string;
  title: string;
  tool: string;
  group?: string;
}

/** One call's outcome: its JSON reply (empty when stdout was not JSON) and, on failure, why. */
export interface DeckReply {
  ok: boolean;
  exitCode: number;
  data: Record<string, unknown>;
  /** agent-deck's error text: the JSON `error`, else stderr, else stdout. */
  error: string;
  /** The JSON error code: NOT_FOUND, ALREADY_EXISTS, INVALID_OPERATION, … ("" when there is none). */
  code: string;
}

/** A failed call, with agent-deck's own words and error code. */
export class DeckError extends KinfraError {
  constructor(readonly what: string, readonly reply: DeckReply) {
    super(
      `agent-deck ${what} failed (exit ${reply.exitCode}${
        reply.code ? `, ${reply.code}` : ""
      }): ${reply.error}`,
    );
  }
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

export class AgentDeck {
  constructor(private readonly exec: Exec) {}

  async run(args: string[]): Promise<DeckReply> {
    // `--json` before a "--", after which everything is the message.
    const end = args.includes("--") ? args.indexOf("--") : args.length;
    const r = await this.exec("agent-deck", [...args.slice(0, end), "--json", ...args.slice(end)]);
    const data = parseJson(r.stdout);
    const ok = r.success && data.success !== false;
    return {
      ok,
      exitCode: r.code,
      data,
      error: ok ? "" : String(data.error ?? "").trim() || r.stderr.trim() || r.stdout.trim() || "no output",
      code: typeof data.code === "string" ? data.code : "",
    };
  }

  /**
   * Creates a session; returns its id. `--no-parent`: run from inside an agent-deck session, `add` would
   * make the new one that session's child (docs/agent-deck.md says why kinfra does not want that).
   */
  async add(o: AddOptions): Promise<string> {
    const r = await this.run([
      "add",
      o.path,
      "-t",
      o.title,
      "-c",
      o.tool,
      ...(o.group ? ["-g", o.group] : []),
      "--no-parent",
    ]);
    if (!r.ok) throw new DeckError("add", r);
    const id = r.data.id;
    if (typeof id !== "string" || !id) {
      throw new DeckError("add", {
        ...r,
        ok: false,
        error: `its reply has no session id: ${JSON.stringify(r.data)}`,
      });
    }
    return id;
  }

  start(id: string): Promise<DeckReply> {
    return this.run(["session", "start", id]);
  }

  /** Delivers a message; agent-deck itself waits up to `timeoutMs` for the agent to take input. */
  send(id: string, message: string, timeoutMs: number): Promise<DeckReply> {
    // "--" so a message starting with "-" is not read as a flag (agent-deck moves flags first).
    return this.run([
      "session",
      "send",
      id,
      "--timeout",
      `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`,
      "--",
      message,
    ]);
  }

  stop(id: string): Promise<DeckReply> {
    return this.run(["session", "stop", id]);
  }

  /**
   * Drops the session from agent-deck (killing its tmux). `--force` because agent-deck judges the stored
   * status, which stays "running"/"starting" when tmux died behind its back; kinfra has decided by now.
   */
  remove(id: string): Promise<DeckReply> {
    return this.run(["session", "remove", id, "--force"]);
  }

  /**
   * The session's status: running, waiting, idle, error, stopped, queued or unknown (starting) as
   * agent-deck reports them; "gone" when agent-deck no longer knows the id; undefined if `show` fails.
   */
  async status(id: string): Promise<string | undefined> {
    const r = await this.run(["session", "show", id]);
    if (r.exitCode === NOT_FOUND_EXIT || r.code === "NOT_FOUND") return "gone";
    if (!r.ok) return undefined;
    return typeof r.data.status === "string" ? r.data.status : undefined;
  }
}
