/**
 * `kinfra impl <feature>/<milestone>`: an impl worktree on `impl/<feature>-<milestone>` and, with a
 * `[sandbox]`, its running sandbox on a slot of its own. `--dry-run` prints the plan and changes
 * nothing.
 */
import type { Context } from "../context.ts";
import { messagesOf } from "../hooks/dispatch.ts";
import { usageError } from "../errors.ts";
import type { Project } from "../project/project.ts";
import type { ComposeSources } from "../compose/file.ts";
import { parseImplTarget } from "../project/names.ts";
import type { CommandOutput } from "../io/output.ts";
import { readRegistry } from "../slots/registry.ts";
import { Rollback } from "../hooks/rollback.ts";
import type { SandboxResult } from "../sandbox/sandbox.ts";
import { composeProject } from "../slots/slot_files.ts";
import { slotOf, warmSlots } from "../slots/registry.ts";
import { findWorktree } from "../project/find_worktree.ts";
import type { HookFlags } from "../hooks/plugin_api.ts";
import { createWorktree, discardWorktree, resolveBaseCommit } from "../project/worktrees.ts";
import { showBaseCompose } from "../project/show_compose.ts";
import { hookInput, saveState, type WorktreeInput } from "../hooks/inputs.ts";
import { renderSandbox } from "./status.ts";
import { sandboxView } from "../proxy/view.ts";
import { type RuntimeSandboxes, scanRuntime } from "../sandbox/runtime.ts";

export interface ImplOptions {
  target: string;
  base?: string;
  session?: boolean;
  /** false with `--no-sandbox`. */
  sandbox?: boolean;
  /** `--seed <snapshot>` / `--from <worktree>`: where the sandbox's volumes start from. */
  seed?: string;
  from?: string;
  /** `--host`: a remote host of `kinfra hosts`, "auto" or "local". */
  host?: string;
  dryRun?: boolean;
  /** `--force`: start the sandbox even when the memory budget says it does not fit. */
  force?: boolean;
}

/**
 * The base compose check of `impl`, loaded on demand: it needs the YAML library, which takes ~25 ms
 * to load (a CommonJS package), time `impl` spends waiting for git anyway.
 */
const baseCheck = () => import("../sandbox/base_compose.ts");

/** `promise`, marked handled: started early and awaited later, its rejection is reported then. */
const early = <T>(promise: Promise<T>): Promise<T> => {
  promise.catch(() => {});
  return promise;
};

export async function impl(ctx: Context, options: ImplOptions): Promise<CommandOutput> {
  const { feature, milestone } = parseImplTarget(options.target);
  const project = await ctx.project();
  const withSandbox = options.sandbox !== false && Boolean(project.config?.sandbox);
  // The plugins and the base compose check load while git answers below. Loading runs none of their
  // events, and each is awaited where it was needed before, so a refusal on the way is still the
  // first thing said and nothing is created any earlier.
  const loading = early(ctx.hooks(project));
  const side = withSandbox ? early(baseCheck()) : undefined;
  // So does the memory budget's code, needed before anything is created (a warm sandbox skips it):
  // this machine's unless a host is named.
  const budget = withSandbox ? early(import("../sandbox/host_capacity.ts")) : undefined;
  if (withSandbox && (!options.host || options.host === "local")) early(import("../sandbox/capacity.ts"));
  // Which Compose to call (a cache read) is found meanwhile as well; every later caller shares it.
  if (withSandbox) early(ctx.compose());
  // The base is the current branch unless one is named: its compose file is asked for at once, with
  // HEAD's name and commit. HEAD is that branch, so this is the text `git show <base>:<file>` gives.
  const fromHead = options.base === undefined && project.config?.worktree.base === undefined;
  const showing = withSandbox && fromHead ? early(showBaseCompose(ctx, project, "HEAD")) : undefined;
  const { base, commit } = await resolveBaseCommit(ctx, project, options.base);
  const compose = withSandbox
    ? await (await side!).checkBaseCompose(ctx, project, base, undefined, showing)
    : undefined;
  const { flags: dataSource, engines } = await dataFlags(ctx, project, options, withSandbox);
  // An unknown or unusable host is refused before anything is created.
  if (options.host) await checkHostFlag(ctx, options.host, withSandbox, project, compose?.sources);
  // `auto` goes where the data is: refused now when none of those engines can take a sandbox.
  if (engines && (options.host ?? (await ctx.globalConfig()).sandbox.host) === "auto") {
    const { autoCandidates } = await import("../remote/room.ts");
    autoCandidates((await (await import("../remote/hosts.ts")).readHosts(ctx.home)).hosts, engines);
  }
  if (options.dryRun) {
    return await (await import("./impl_plan.ts")).plan(ctx, project, { feature, milestone }, base, compose);
  }
  // A warm sandbox of this commit is taken, unless the data is to start elsewhere (--seed, --from);
  // it is counted against the memory budget already.
  // Warm sandboxes are this machine's: a sandbox bound for a remote host (`kinfra hosts`) skips them.
  let target = options.host ?? (await ctx.globalConfig()).sandbox.host ?? "local";
  // `auto` picks its engine now, so that engine's budget is checked before anything is created.
  if (withSandbox && target === "auto") {
    const { chooseHost } = await import("../remote/remote_slot.ts");
    target = (await chooseHost(ctx, "auto", undefined, engines))?.name ?? "local";
  }
  const local = target === "local";
  const ownData = options.from || (options.seed && options.seed !== project.config?.sandbox?.data.seed);
  const registry = await readRegistry(ctx.home);
  const warm = withSandbox && local && !ownData && warmSlots(registry, project.name).length
    ? await (await import("../sandbox/warm.ts")).takeableWarm(registry, project, commit)
    : undefined;
  if (withSandbox && !warm) {
    // The memory budget of the engine it goes to: this machine's, or the host's.
    const { ensureRoom } = await budget!;
    await ensureRoom(ctx, target, { project: project.name, force: options.force, model: compose?.model.doc });
  }

  const hooks = await loading;
  // Which sandboxes the engine runs, asked while git makes the worktree (once it runs, so as not to
  // slow the name's claim): a read-only question whose answer is as fresh as before (the slot is
  // claimed after it either way).
  // The code that starts the sandbox loads then too: the main thread is busy up to the claim, and
  // waits for git there.
  let runtime: Promise<RuntimeSandboxes> | undefined;
  let starter: Promise<typeof import("../sandbox/sandbox.ts")> | undefined;
  const startCode = () => starter ??= early(import("../sandbox/sandbox.ts"));
  const scan = () => {
    startCode();
    runtime = early(scanRuntime(ctx));
  };
  const made = { kind: "impl" as const, feature, milestone };
  const entry = await createWorktree(
    ctx,
    project,
    made,
    base,
    commit,
    withSandbox ? (local ? scan : startCode) : undefined,
  );
  let input: WorktreeInput = hookInput(project, entry, {
    session: options.session,
    sandbox: withSandbox,
    ...dataSource,
  });

  // A failure in worktree.created undoes the fresh worktree; later failures keep it (see startSandbox).
  const rollback = new Rollback(ctx.log);
  rollback.add("remove worktree", () => discardWorktree(ctx, project.gitRoot, entry));
  const messages: string[] = [];
  try {
    const created = await hooks.setup("worktree.created", input, rollback);
    messages.push(...messagesOf(created.replies));
    input = created.input;
  } catch (e) {
    await rollback.run();
    throw e;
  }

  let sandbox: SandboxResult | undefined;
  let refilling = false;
  if (withSandbox) {
    sandbox = await (await startCode()).startSandbox(ctx, project, hooks, entry, input, {
      host: target,
      warm,
      engines,
      runtime,
    });
    input = sandbox.input;
    // A warm sandbox was taken: the pool is refilled in the background (`kinfra warm <n>`).
    if (sandbox.warm) refilling = await (await import("../sandbox/warm.ts")).refillInBackground(ctx, project);
    messages.push(...sandbox.messages);
  }
  const ready = await hooks.setup("worktree.ready", input);
  messages.push(...messagesOf(ready.replies));
  await saveState(ctx, entry.path, ready.input);

  const view = sandbox && await sandboxView(ctx, entry, sandbox.slot);
  const data = {
    kind: "impl",
    project: project.name,
    path: entry.path,
    branch: entry.branch,
    base,
    slot: sandbox?.slot.slot_id ?? null,
    compose_project: sandbox ? composeProject(project.name, sandbox.slot.slot_id) : null,
    ports: sandbox?.slot.ports ?? {},
    url: view?.url ?? null,
    urls: view?.urls ?? {},
    warm: sandbox?.warm === true,
    warm_refill: refilling,
    messages,
  };
  return {
    data,
    text: [
      `${ctx.style.green("✓")} Impl worktree ready: ${ctx.style.bold(entry.path)}`,
      `  branch ${entry.branch} (from ${base})${
        sandbox?.warm
          ? ` · took a warm sandbox${refilling ? " (another is warming in the background)" : ""}`
          : ""
      }`,
      ...(sandbox ? renderSandbox(sandbox.slot, project.config?.sandbox, view) : ["  no sandbox"]),
      ...messages.map((m) => `  ${m}`),
      `  next: cd ${
        JSON.stringify(entry.path)
      } · kinfra status ${feature}-${milestone} · kinfra done ${feature}-${milestone}`,
    ].join("\n"),
  };
}

/**
 * `--seed` and `--from`, checked before anything is created: the snapshot exists (so does
 * `[sandbox.data] seed`'s), the worktree to fork is this project's and has a sandbox.
 */
async function dataFlags(ctx: Context, project: Project, options: ImplOptions, withSandbox: boolean) {
  if (!withSandbox && (options.seed || options.from)) {
    throw usageError(
      `--${options.seed ? "seed" : "from"} starts a sandbox's data, and this impl has no sandbox.`,
    );
  }
  if (options.seed && options.from) {
    throw usageError("--seed and --from both say where the data starts; pick one.");
  }
  const flags: HookFlags = {};
  const seed = options.from ? undefined : options.seed ?? project.config?.sandbox?.data.seed;
  // `--host auto` chooses among the engines holding the data (a snapshot, a sandbox to copy).
  let engines: string[] | undefined;
  if (seed) {
    engines = await (await import("./snapshot.ts")).requireSnapshot(ctx, seed, options.host, !options.seed);
    flags.seed = seed;
  }
  if (options.from) {
    const source = await findWorktree(ctx, options.from);
    const slot = source.project === project.name ? await slotOf(ctx, source.path) : undefined;
    if (!slot) {
      throw usageError(
        `--from ${options.from}: ${source.path} ${
          source.project === project.name ? "has no sandbox (no slot)" : `is a worktree of ${source.project}`
        }, so there is no data of this project to copy.`,
        "Name an impl worktree of this project whose sandbox is up (`kinfra worktrees`).",
      );
    }
    await (await import("../remote/remote_slot.ts")).requireSameEngine(ctx, slot, options.host, options.from);
    flags.fork = { worktree: source.path, compose_project: composeProject(slot.project, slot.slot_id) };
    engines = [slot.remote?.host ?? "local"];
  }
  return { flags, engines };
}

/** `--host` names a host a sandbox can go to, and there is a sandbox to place. */
async function checkHostFlag(
  ctx: Context,
  host: string,
  withSandbox: boolean,
  project: Project,
  compose?: ComposeSources,
): Promise<void> {
  if (!withSandbox) throw usageError(`--host places a sandbox, and this impl has no sandbox.`);
  if (host === "auto" || host === "local") return;
  const chosen = await (await import("../remote/remote_slot.ts")).chooseHost(ctx, host);
  const mounts = project.config!.sandbox!.mounts;
  if (chosen && !chosen.ssh) {
    await (await import("../remote/tcp_host.ts")).refuseWithoutSsh(chosen, {
      shared: mounts.shared_targets.length ? mounts.shared : [],
      compose,
    });
  }
}
