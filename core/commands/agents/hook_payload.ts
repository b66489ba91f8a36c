/**
 * The agent-host side of `kinfra agent-hook`: one JSON payload read from stdin (without waiting for
 * it to close — hosts keep it open), its fields, its `cwd`, and the one-line failure a host shows.
 */
import type { Context } from "../../context.ts";
import { Exit, KinfraError, messageOf, usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { after } from "../../io/timers.ts";

/** Reads exactly one JSON object from `stream`, without waiting for the end of it (hosts keep it open). */
export async function readOneObject(stream: ReadableStream<Uint8Array>, timeoutMs = 30_000) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let [depth, start, inString, escaped] = [0, -1, false, false];
  const cancel = after(timeoutMs, () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const from = text.length;
      text += decoder.decode(value, { stream: true });
      for (let i = from; i < text.length; i++) {
        const c = text[i];
        if (inString) [escaped, inString] = [!escaped && c === "\\", escaped || c !== '"'];
        else if (c === '"') inString = true;
        else if (c === "{" || c === "[") {
          if (depth++ === 0 && start < 0) start = i;
        } else if ((c === "}" || c === "]") && --depth === 0) return parseObject(text.slice(start, i + 1));
      }
    }
  } finally {
    cancel();
    reader.releaseLock();
  }
  throw usageError(`stdin ended (or stayed silent ${timeoutMs / 1000} s) before one JSON object arrived.`);
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usageError(`stdin is not JSON: ${messageOf(e)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw usageError("stdin is not a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** A non-empty string field of the payload. */
export const field = (payload: Record<string, unknown>, ...names: string[]) => {
  for (const name of names) {
    if (typeof payload[name] === "string" && payload[name]) return payload[name] as string;
  }
  return undefined;
};

/** The host's one-line failure: the message and its hint on one line of stderr, and the exit code. */
export function failed(e: unknown): CommandOutput {
  const hint = e instanceof KinfraError && e.hint ? ` (${e.hint.replace(/\s*\n\s*/g, " ")})` : "";
  console.error(`kinfra: ${messageOf(e).replace(/\s*\n\s*/g, " ")}${hint}`);
  return {
    data: { error: messageOf(e) },
    text: "",
    exitCode: e instanceof KinfraError ? e.code : Exit.failed,
  };
}

/** Works from the payload's `cwd` (the project, or for WorktreeRemove the worktree itself). */
export async function useCwd(ctx: Context, cwd: string | undefined): Promise<void> {
  if (!cwd) return;
  try {
    ctx.cwd = await Deno.realPath(cwd);
  } catch {
    throw usageError(`The payload's cwd ${JSON.stringify(cwd)} is not a directory.`);
  }
}
