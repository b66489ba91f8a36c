/**
 * What the dashboard's buttons do: each runs this very kinfra as a command line (`kinfra down <path>
 * --json`, …), so an action has exactly the CLI's guarantees — its locks, rollback, refusals and
 * messages. Only worktrees the registry knows can be named; `done --force` needs the worktree's name
 * typed back as the confirmation.
 */
import type { Context } from "../../context.ts";
import { Exit } from "../../errors.ts";
import { kinfraBin } from "../../hooks/external.ts";
import { existsSync } from "../../io/home.ts";
import { basename } from "../../io/path.ts";
import { readRegistry } from "../../slots/registry.ts";

export const ACTIONS = ["up", "down", "restart", "logs", "done"] as const;
export type Action = typeof ACTIONS[number];

export interface ActionRequest {
  action: Action;
  path: string;
  service?: string;
  force?: boolean;
  /** With `force`: the worktree's name, as the user typed it to confirm. */
  confirm?: string;
}

export interface ActionReply {
  /** HTTP status: 200 done, 400 a bad request, 409 refused (exit 3), 500 failed. */
  status: number;
  body: { ok: boolean; exit_code?: number; data?: unknown; error?: { message: string; hint?: string } };
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const bad = (message: string): ActionReply => ({ status: 400, body: { ok: false, error: { message } } });

/** The request, checked; or the reply refusing it. */
export async function checkRequest(ctx: Context, raw: unknown): Promise<ActionRequest | ActionReply> {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  if (!ACTIONS.includes(r.action as Action)) return bad(`Unknown action ${JSON.stringify(r.action)}.`);
  const entry = typeof r.path === "string" ? (await readRegistry(ctx.home)).worktrees[r.path] : undefined;
  if (!entry) return bad(`${JSON.stringify(r.path)} is not a kinfra worktree (it may be gone already).`);
  if (r.service !== undefined && (typeof r.service !== "string" || !SERVICE.test(r.service))) {
    return bad(`${JSON.stringify(r.service)} is not a service name.`);
  }
  if (r.force !== undefined && (r.force !== true || r.action !== "done")) {
    return bad("Only done takes force.");
  }
  if (r.force && r.confirm !== basename(entry.path)) {
    return bad(`done --force removes uncommitted work: confirm by typing the worktree's name.`);
  }
  return r as unknown as ActionRequest;
}

/** The command line an action runs. */
export function actionArgv(request: ActionRequest): string[] {
  return [
    request.action,
    request.path,
    "--json",
    ...(request.service ? ["--service", request.service] : []),
    ...(request.force ? ["--force"] : []),
  ];
}

/** Runs the action as `kinfra <argv>` and turns its exit code and JSON document into a reply. */
export async function runAction(ctx: Context, request: ActionRequest): Promise<ActionReply> {
  const root = (await readRegistry(ctx.home)).worktrees[request.path]?.project_root;
  const output = await new Deno.Command(kinfraBin(ctx.home.root), {
    args: actionArgv(request),
    cwd: root && existsSync(root) ? root : ctx.home.root,
    env: { KINFRA_HOME: ctx.home.root, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(text);
  } catch {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" ");
    doc = { error: { message: stderr || `kinfra ${request.action} exited with ${output.code}` } };
  }
  if (output.code === 0) return { status: 200, body: { ok: true, exit_code: 0, data: doc } };
  const status = output.code === Exit.blocked ? 409 : output.code === Exit.usage ? 400 : 500;
  const error = doc.error as { message: string; hint?: string };
  return {
    status,
    body: { ok: false, exit_code: output.code, error: { message: error.message, hint: error.hint } },
  };
}
