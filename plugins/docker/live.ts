/**
 * The docker plugin's live side: a slot's logs and a restart of its services (`kinfra logs` and
 * `kinfra restart`, which the dashboard runs too), and the engine's event stream, so that `kinfra ui`
 * and `status --watch` hear of a container starting, dying or going away as it happens.
 */
import {
  composeTail,
  HOME_LABEL,
  type HookContext,
  KinfraError,
  observabilityNames,
  readSlotCompose,
  runCompose,
  type WatchContext,
} from "../../core/hooks/plugin_api.ts";
import { slotArgs, slotCopies } from "./containers.ts";

const noSuchService = (ctx: HookContext<"sandbox.logs" | "sandbox.restart">, services?: string[]) =>
  new KinfraError(`${ctx.slot.compose_project} has no service "${ctx.flags.service}".`, {
    code: 2,
    hint: services
      ? `Its services: ${services.join(", ")}.`
      : "`kinfra status` lists the sandbox's containers and their services.",
  });

/**
 * `compose <args> [service]` on the slot directory's copies, its output, or a KinfraError. The
 * service is checked against the slot's model first: v1 refuses an unknown one, but v2's `logs`
 * prints nothing and succeeds.
 */
async function composeOnSlot(ctx: HookContext<"sandbox.logs" | "sandbox.restart">, args: string[]) {
  const files = slotCopies(ctx.slot.dir, ctx.slot.compose_project);
  const service = ctx.flags.service;
  if (service) {
    const known = await readSlotCompose(ctx).then((c) => c.services, () => undefined);
    if (known && !known.includes(service)) throw noSuchService(ctx, known);
  }
  const argv = slotArgs(files, [...args, ...(service ? [service] : [])]);
  const result = await runCompose(ctx.exec, await ctx.compose(), argv, {
    cwd: ctx.slot.dir,
    signal: ctx.signal,
  });
  if (!result.success) {
    if (/no such service/i.test(result.stderr)) throw noSuchService(ctx);
    throw new KinfraError(`docker compose ${args[0]} failed (exit ${result.code}).`, {
      details: composeTail(result.stderr, 10),
    });
  }
  return result;
}

export async function logs(ctx: HookContext<"sandbox.logs">) {
  const result = await composeOnSlot(ctx, ["logs", "--no-color", "--tail", String(ctx.flags.lines ?? 200)]);
  // Compose v1 writes a header line ("Attaching to …") first; the log lines are the rest.
  const lines = result.stdout.split("\n").filter((l) => l && !l.startsWith("Attaching to "));
  return { lines };
}

export async function restart(ctx: HookContext<"sandbox.restart">) {
  await composeOnSlot(ctx, ["restart"]);
  return { messages: [`restarted ${ctx.flags.service ?? "every service"} of ${ctx.slot.compose_project}`] };
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Follows `docker events` and calls `changed` for every event of a container that is this home's
 * or the shared observability stack's, until the signal aborts. Other people's containers are none
 * of kinfra's business and are ignored. Returns when the stream ends (the engine went away).
 */
export async function watch(ctx: WatchContext, changed: () => void): Promise<void> {
  const stack = observabilityNames(ctx.global.observability).project;
  if (ctx.signal.aborted) return; // a child spawned now would never be told to stop
  const child = new Deno.Command("docker", {
    args: ["events", "--format", "{{json .}}", "--filter", "type=container"],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
    signal: ctx.signal,
  }).spawn();
  let buffer = "";
  try {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        let event: EngineEvent;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        const labels = event.Actor?.Attributes ?? {};
        if (event.Action?.startsWith("exec_")) continue; // a health check's command, every few seconds
        if (labels[HOME_LABEL] !== ctx.homeId && labels["com.docker.compose.project"] !== stack) continue;
        changed();
        // The engine announces a death a moment before its container list says so: look again.
        setTimeout(() => ctx.signal.aborted || changed(), 300);
      }
    }
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
  } finally {
    await child.status.catch(() => {});
  }
}
