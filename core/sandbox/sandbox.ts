/**
 * Starting a worktree's sandbox (README, "How a sandbox starts"; stopping is stop.ts). Start is all-or-nothing: every
 * step after the claim registers its undo, and any failure — a compose error, the health gate, a plugin,
 * Ctrl-C — stops what started, releases the slot and removes the slot dir. The worktree is kept.
 */
import { join } from "../io/path.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../io/atomic.ts";
import { toYaml } from "../text/yaml_emit.ts";
import { scanCompose } from "../compose/scan.ts";
import { mergeFragments, renderOverride } from "./override.ts";
import { httpVariables, portProtocols, slotCompose } from "../compose/slot_compose.ts";
import type { Context } from "../context.ts";
import {
  bugHint,
  bugOf,
  Exit,
  failureMessage,
  interrupted,
  isBug,
  KinfraError,
  usageError,
} from "../errors.ts";
import { type Hooks, messagesOf } from "../hooks/dispatch.ts";
import { exists } from "../io/home.ts";
import type { Project } from "../project/project.ts";
import { type SlotInput, withSlot, type WorktreeInput } from "../hooks/inputs.ts";
import { worktreeName } from "../project/names.ts";
import type { SlotEntry, WorktreeEntry } from "../slots/registry.ts";
import { Rollback } from "../hooks/rollback.ts";
import { type RuntimeSandboxes, scanRuntime } from "./runtime.ts";
import { claimSlot, setSlotStatus, warnCloseBases } from "../slots/slots.ts";
import { composeProject } from "../slots/slot_files.ts";
import { cleanStale } from "./repair.ts";
import { chooseHost } from "../remote/choose_host.ts";
import { adoptWarm } from "../slots/adopt.ts";
import { renderEnv, slotFiles, slotName } from "../slots/slot_files.ts";

export interface SandboxResult {
  slot: SlotEntry;
  messages: string[];
  /** The input the sandbox's events saw (with the slot, its env and the model), for the events after. */
  input: SlotInput;
  /** True when a warm sandbox (`kinfra warm`) was taken instead of starting one from nothing. */
  warm?: boolean;
}

/** The worktree's compose file must exist (it is committed; a user may have deleted it since). */
async function requireComposeFile(project: Project, worktree: string): Promise<void> {
  const path = join(worktree, project.config!.sandbox!.compose_file);
  if (!await exists(path)) {
    throw usageError(
      `The compose file ${path} does not exist.`,
      "Check [sandbox] compose_file in infra.toml.",
    );
  }
}

/**
 * Claims a slot and brings the sandbox up, health-gated. On failure everything is rolled back and
 * the error says how to retry (`kinfra up`) or finish (`kinfra done`).
 */
export async function startSandbox(
  ctx: Context,
  project: Project,
  hooks: Hooks,
  entry: WorktreeEntry,
  worktreeInput: WorktreeInput,
  options: {
    host?: string;
    warm?: SlotEntry;
    /** Where the sandbox's data is (a snapshot, a sandbox to copy): `auto` chooses among them. */
    engines?: string[];
    /** This machine's engine's `runtime.scan`, started by the caller while it waited for git. */
    runtime?: Promise<RuntimeSandboxes>;
  } = {},
): Promise<SandboxResult> {
  const sandbox = project.config!.sandbox!;
  await requireComposeFile(project, entry.path);
  const sources = await scanCompose(
    entry.path,
    sandbox.compose_file,
    undefined,
    join(ctx.home.root, "cache"),
  );
  await cleanStale(ctx);
  // A remote host (--host, the worktree's last one, [sandbox] host) is asked for its busy ports first.
  // The remote code loads only then: a local sandbox needs none of it.
  const host = await chooseHost(ctx, options.host, entry.last_host as string | undefined, options.engines);
  const remote = host && await import("../remote/remote_slot.ts");
  const [{ foreign, ours }, planned] = await Promise.all([
    (!host && options.runtime) || scanRuntime(ctx, host?.docker_host, host?.name),
    remote && remote.planRemote(ctx, host, entry.path, {
      name: project.name,
      root: project.root,
      shared: sandbox.mounts.shared_targets.length ? sandbox.mounts.shared : [],
      code: sandbox.mounts.code,
      compose: sources,
    }),
    // The shared stack runs here, for remote sandboxes too (their traces come back through ssh).
    sandbox.otel.enabled && (await import("./observability.ts")).ensureObservability(ctx),
  ]);
  warnCloseBases(ctx, sandbox.ports, (await ctx.globalConfig()).slots.max);
  const rollback = new Rollback(ctx.log);
  const messages: string[] = [];
  const collect = (replies: { plugin: string; result: { messages?: string[] } }[]) =>
    messages.push(...messagesOf(replies));
  const checkpoint = () => {
    if (ctx.signal.aborted) throw interrupted();
  };

  // A warm sandbox runs its services that mount no code already: only the others are started.
  const adopted = !host && options.warm && await adoptWarm(ctx, options.warm, entry.path);
  if (adopted) {
    ctx.log.step(`Taking warm sandbox ${composeProject(project.name, adopted.slot_id)}`);
  }
  const slot = adopted || await claimSlot(ctx, {
    project: project.name,
    worktreePath: entry.path,
    bases: sandbox.ports,
    maxSlots: (await ctx.globalConfig()).slots.max,
    foreignProjects: foreign,
    leftoverProjects: ours,
    protocols: portProtocols(sources),
    http: httpVariables(sources, sandbox.health?.port_var),
    primary: sandbox.health?.port_var ?? httpVariables(sources)[0],
    ...planned && { remote: planned.remote, remoteBusy: planned.busy },
    // A local sandbox is `starting` from its claim on (its files and hooks take milliseconds); a
    // remote one is `claiming` while its code is copied to the host.
    status: planned ? "claiming" : "starting",
  });
  rollback.add(
    `release slot ${slot.slot_id}`,
    async () => await (await import("../remote/release.ts")).releaseChecked(ctx, slot),
  );
  const name = composeProject(project.name, slot.slot_id);
  ctx.log.step(
    `${adopted ? "Took" : "Claimed"} slot ${slot.slot_id}${host ? ` on host ${host.name}` : ""}: ${
      Object.entries(slot.ports).map(([k, v]) => `${k}=${v}`).join(" ")
    }`,
  );
  let input = withSlot(worktreeInput, slot, { COMPOSE_PROJECT_NAME: name, ...mapValues(slot.ports, String) });
  // Each setup event hands back the input the next one gets (with the env and state replies added).
  const run = async (event: "slot.claimed" | "sandbox.start" | "sandbox.ready") => {
    const done = await hooks.setup(event, input, rollback);
    collect(done.replies);
    input = done.input;
  };

  try {
    checkpoint();
    // The code copied over, then tunnels and sync up (the health gate goes through them).
    if (slot.remote) {
      // A slot on a host was planned there: the remote code is loaded (above).
      await remote!.startRemote(ctx, slot, { traces: sandbox.otel.enabled, busy: planned?.busy.tcp });
      input = withSlot(input, slot); // with where its traces go
    }
    checkpoint();
    const { model } = await slotCompose(ctx, project, {
      dir: entry.path,
      project: name,
      vars: slot.ports,
      widths: slot.widths,
      sources,
    });
    input = { ...input, model: model.doc };
    if (adopted) {
      // Taking a warm sandbox: only the services it does not run yet are started.
      const running = new Set(options.warm!.warm?.services ?? []);
      const services = Object.keys((model.doc.services ?? {}) as Record<string, unknown>).filter((s) =>
        !running.has(s)
      );
      input = { ...input, flags: { ...input.flags, warm: "take", services } };
    }
    await Deno.mkdir(slot.slot_dir, { recursive: true });
    // The resolved model: self-contained (no .env, extends or include needed), so teardown works
    // from it alone, and plugins reading it see every service as Compose does.
    writeFileAtomicSync(slot.compose_file_copy, renderResolved(model.doc, entry.path));
    await run("slot.claimed");

    checkpoint();
    const prepared = await prepareOverride(hooks, input, rollback, collect);
    input = prepared.input;
    const override = prepared.override;
    // Two files, two fsyncs: written side by side, both finished before a failure is handled (the
    // rollback removes the slot dir, which a write still under way would make again).
    const written = await Promise.allSettled([
      writeFileAtomic(
        slotFiles(slot.slot_dir).override,
        renderOverride(override, {
          worktree: entry.path,
          slot: slotName(project.name, slot.slot_id),
          generatedAt: ctx.now().toISOString(),
        }),
      ),
      writeFileAtomic(slotFiles(slot.slot_dir).env, renderEnv(input.env)),
    ]);
    for (const w of written) if (w.status === "rejected") throw w.reason;

    checkpoint();
    if (slot.status !== "starting") await setSlotStatus(ctx, slot, "starting");
    ctx.log.step(`Starting sandbox ${name}`);
    // What runs once the sandbox is healthy loads while Compose works (loading runs none of it).
    const afterStart = Promise.all([
      import("../proxy/routes.ts"),
      import("../proxy/ensure.ts"),
      import("./usage.ts"),
    ]);
    afterStart.catch(() => {}); // awaited below, where a failure to load is reported
    await run("sandbox.start");
    checkpoint();
    const [{ pluginRoutes }, { ensureProxy, checkedOutNow, reconcileProxy }, { rememberUsage }] =
      await afterStart;
    // Its stable name (and a checkout of this worktree) need the proxy process: start it if it is not up.
    // A checked-out worktree's ports open before `up` returns, from the registry saying `running`: that
    // waits for the write. Otherwise the proxy only has to be alive (a `starting` slot counts as live
    // already): asked while the health gate runs, before `running` is written, as a proxy answers only
    // once it has caught up with a change of the registry. A status question has no side effect.
    const asked = await checkedOutNow(ctx, entry.path) ? undefined : reconcileProxy(ctx, "status");
    await run("sandbox.ready");
    checkpoint();
    const routes = await pluginRoutes(ctx, hooks, input);
    const running = setSlotStatus(ctx, slot, "running", routes && { routes });
    const wait = await checkedOutNow(ctx, entry.path); // checked out during the health gate: it waits
    await Promise.all([
      wait ? running.then(() => ensureProxy(ctx, { wait })) : ensureProxy(ctx, { asked }),
      running,
      // What a sandbox of this project uses once healthy: the memory budget's estimate for the next one.
      rememberUsage(ctx, project.name, name, slot.remote),
    ]);
  } catch (e) {
    const failure = ctx.signal.aborted ? interrupted() : e;
    ctx.log.warn(`Sandbox start failed: ${failureMessage(failure)}`);
    await rollback.run();
    const hint = `The worktree is kept at ${entry.path}. Retry with \`kinfra up ${worktreeName(entry)}\`, ` +
      `or remove it with \`kinfra done ${worktreeName(entry)}\`.`;
    if (failure instanceof KinfraError) {
      throw new KinfraError(failure.message, {
        code: failure.code === Exit.usage ? Exit.failed : failure.code,
        hint: bugOf(failure) && failure.hint ? `${failure.hint} ${hint}` : hint,
        details: failure.details,
        cause: failure,
      });
    }
    throw new KinfraError(failureMessage(failure), {
      hint: isBug(failure) ? `${bugHint()} ${hint}` : hint,
      cause: failure,
    });
  }
  return { slot, messages, input, ...(adopted && { warm: true }) };
}

/**
 * Runs `sandbox.prepare` and merges the plugins' fragments into the override document. A service
 * on the implicit `default` network (no `networks`, no `network_mode`) keeps it.
 */
export async function prepareOverride(
  hooks: Hooks,
  input: SlotInput,
  rollback?: Rollback,
  collect: (replies: { plugin: string; result: { messages?: string[] } }[]) => void = () => {},
): Promise<{ override: Record<string, unknown>; input: SlotInput }> {
  const { replies: prepared, input: next } = await hooks.setup("sandbox.prepare", input, rollback);
  collect(prepared);
  const services = (input.model?.services ?? {}) as Record<string, Record<string, unknown> | null>;
  const implicit = new Set(
    Object.entries(services).filter(([, body]) => !body?.networks && !body?.network_mode).map(([name]) =>
      name
    ),
  );
  const override = mergeFragments(
    prepared.flatMap((r) => r.result.compose ? [r.result.compose] : []),
    implicit,
  );
  return { override, input: next };
}

/** The slot's copy of the resolved model, with a header saying what it is. */
export function renderResolved(doc: Record<string, unknown>, worktree: string): string {
  return `# Resolved by \`compose config\` from ${worktree} for this slot (kinfra); teardown uses it.\n` +
    toYaml(doc);
}

function mapValues<T, U>(record: Record<string, T>, fn: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
