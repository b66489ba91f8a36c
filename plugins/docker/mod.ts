/**
 * The docker plugin (order 20): code mounts and labels in `sandbox.prepare`, `compose up -d` in
 * `sandbox.start`, the health gate (Docker healthchecks, then the HTTP check) in `sandbox.ready`,
 * `compose down` in `sandbox.stop`, the container list in `status`, removal by label in `sandbox.purge` and the engine's compose projects
 * in `runtime.scan`, `compose logs`/`restart` for `kinfra logs`/`restart`, and the engine's events
 * for `watch`. Uses only the public plugin API; every Docker call of kinfra's sandboxes is here.
 */
import {
  composeTail,
  definePlugin,
  healthUrl,
  HOME_LABEL,
  type HookContext,
  join,
  KinfraError,
  parseMount,
  probe,
  readSlotCompose,
  runCompose,
  SLOT_LABEL,
  type SlotEvent,
  slotName,
  tail,
} from "../../core/hooks/plugin_api.ts";
import {
  dockerProjects,
  listContainers,
  projectVolumes,
  removeByLabel,
  slotArgs,
  slotCopies,
  type SlotFiles,
  stopSlotContainers,
} from "./containers.ts";
import { waitHealthy } from "./health.ts";
import { codeVolume, remapBinds } from "./remote_binds.ts";
import { waitContainersHealthy } from "./container_health.ts";

/** How long the compose file's healthchecks may take when infra.toml has no [sandbox.health]. */
const DEFAULT_HEALTH_TIMEOUT = 60;
import { logs, restart, watch } from "./live.ts";
import { runtimeUsage } from "./usage.ts";

/**
 * The files `up` uses: the worktree's compose file (latest code) with the slot's override. Compose
 * reads the project's own `.env` beside it, exactly as `docker compose up` in the worktree would;
 * kinfra's variables come in the environment (`ctx.env`), which wins over `.env`.
 */
function upFiles(ctx: HookContext<SlotEvent>): SlotFiles {
  // A warm sandbox has no worktree yet: the slot's resolved copy of the base commit's file.
  if (ctx.flags.warm === "start") return slotCopies(ctx.slot.dir, ctx.slot.compose_project);
  const { override, project } = slotCopies(ctx.slot.dir, ctx.slot.compose_project);
  return { override, project, composeFile: join(ctx.worktree.path, ctx.config!.sandbox!.compose_file) };
}

async function composeLogs(ctx: HookContext<SlotEvent>): Promise<string[]> {
  const args = slotArgs(upFiles(ctx), ["logs", "--no-color", "--tail", "20"]);
  const result = await runCompose(ctx.exec, await ctx.compose(), args, { env: ctx.env }).catch(() =>
    undefined
  );
  return result ? tail(result.stdout, 30).concat(composeTail(result.stderr, 30)).slice(-30) : [];
}

/**
 * Labels for the networks and named volumes the project's compose file creates (not external ones),
 * so that they too are recognisably this home's. The `default` network is labelled as well. File
 * formats 1 and 2.0 have no labels on networks or volumes; there only containers carry them.
 */
function ownedObjectLabels(doc: Record<string, unknown>, labels: Record<string, string>) {
  const version = String(doc.version ?? "");
  if (/^(1|2|2\.0)$/.test(version)) return {};
  const owned = (section: unknown, extra: string[]) => {
    const entries = Object.entries((section ?? {}) as Record<string, Mapping | null>);
    const names = [...extra, ...entries.filter(([, v]) => !v?.external).map(([k]) => k)];
    return Object.fromEntries([...new Set(names)].map((n) => [n, { labels }]));
  };
  const defaultExternal = ((doc.networks ?? {}) as Record<string, Mapping | null>).default?.external;
  const result: Record<string, Record<string, Mapping>> = {
    networks: owned(doc.networks, defaultExternal ? [] : ["default"]),
  };
  const volumes = owned(doc.volumes, []);
  if (Object.keys(volumes).length) result.volumes = volumes;
  return result;
}

/**
 * Names that would collide between slots, made the slot's own: every `container_name`
 * (`<project>-slot-<n>-<service>`) and every network `name:` that is not external and not shared on
 * purpose through `[sandbox.networks] include` (`<project>-slot-<n>_<network>`). Says what it renamed.
 */
function slotNames(ctx: HookContext<"sandbox.prepare">, doc: Record<string, unknown>) {
  const project = ctx.slot.compose_project;
  const include = ctx.config?.sandbox?.networks.include ?? [];
  const services: Record<string, Mapping> = {};
  const networks: Record<string, Mapping> = {};
  const messages: string[] = [];
  for (const [name, body] of Object.entries((doc.services ?? {}) as Record<string, Mapping | null>)) {
    if (typeof body?.container_name !== "string") continue;
    services[name] = { container_name: `${project}-${name}` };
    messages.push(`container_name ${body.container_name} → ${project}-${name}`);
  }
  for (const [key, net] of Object.entries((doc.networks ?? {}) as Record<string, Mapping | null>)) {
    const name = net?.name;
    const own = `${project}_${key}`;
    if (typeof name !== "string" || name === own || net?.external || include.includes(key)) continue;
    networks[key] = { name: own };
    messages.push(`network ${name} → ${own}`);
  }
  return { services, networks, messages };
}

type Mapping = Record<string, unknown>;

export const dockerPlugin = definePlugin({
  name: "docker",
  order: 20,
  description: "Runs the sandbox with docker compose",
  watch,
  hooks: {
    "sandbox.logs": logs,
    "sandbox.restart": restart,

    "sandbox.prepare": async (ctx) => {
      const sandbox = ctx.config?.sandbox;
      if (!sandbox) return;
      const { doc, services: names } = await readSlotCompose(ctx);
      const labels = { [HOME_LABEL]: ctx.homeId, [SLOT_LABEL]: slotName(ctx.project.name, ctx.slot.id) };
      // Networks and volumes carry no worktree: a warm sandbox's are the same once `impl` takes it.
      const owned = ownedObjectLabels(doc, labels);
      const serviceLabels = ctx.flags.warm === "start"
        ? labels
        : { ...labels, "dev.kinfra.worktree": ctx.worktree.path };
      const renamed = slotNames(ctx, doc);
      const services: Record<string, Mapping> = {};
      for (const service of names) {
        services[service] = { labels: serviceLabels, ...renamed.services[service] };
      }
      for (const [key, net] of Object.entries(renamed.networks)) {
        owned.networks[key] = { ...owned.networks[key], ...net };
      }
      const fragment: Mapping = { services, ...owned };
      const remote = ctx.slot.remote;
      const volumes = remote?.code_volumes;
      const mount = (spec: string, root: string, inVolumes?: Record<string, string>) => {
        const m = parseMount(spec);
        if (typeof m === "string") throw new KinfraError(`Mount "${spec}": ${m}`);
        const source = inVolumes ? codeVolume(inVolumes, m.host, spec) : join(root, m.host);
        return `${source}:${m.container}${m.readOnly ? ":ro" : ""}`;
      };
      const add = (targets: string[], specs: string[], root: string, inVolumes?: Record<string, string>) => {
        for (const target of specs.length ? targets : []) {
          services[target].volumes = [
            ...(services[target].volumes as string[] ?? []),
            ...specs.map((s) => mount(s, root, inVolumes)),
          ];
        }
      };
      add(sandbox.mounts.code_targets, sandbox.mounts.code, remote?.code_root ?? ctx.worktree.path, volumes);
      add(sandbox.mounts.shared_targets, sandbox.mounts.shared, remote?.shared_root ?? ctx.project.root);
      if (remote?.code_root) remapBinds(doc, services, ctx.worktree.path, remote.code_root);
      if (volumes) {
        remapBinds(
          doc,
          services,
          ctx.worktree.path,
          (rel) => codeVolume(volumes, rel, `${ctx.worktree.path}/${rel}`),
        );
        // kinfra made and feeds them: external, so Compose neither creates nor removes them.
        fragment.volumes = {
          ...owned.volumes,
          ...Object.fromEntries(Object.values(volumes).map((v) => [v, { external: true }])),
        };
      }
      return { compose: fragment, messages: renamed.messages };
    },

    "sandbox.start": async (ctx) => {
      if (!ctx.config?.sandbox) return;
      // `services`: a warm sandbox's share, or — taking one — the rest, which must not touch the
      // services already running (--no-deps: they are up, seeded and healthy).
      const only = ctx.flags.services ?? [];
      const up = only.length
        ? ["up", "-d", ...(ctx.flags.warm === "take" ? ["--no-deps"] : []), ...only]
        : ["up", "-d"];
      const args = slotArgs(upFiles(ctx), up);
      // ctx.env wins over the caller's environment (say, an earlier `eval "$(kinfra env)"` of another
      // slot) and over the project's .env, which Compose reads from the compose file's directory.
      const cwd = ctx.flags.warm === "start"
        ? ctx.slot.dir
        : join(ctx.worktree.path, ctx.config.sandbox.compose_file, "..");
      const result = await runCompose(ctx.exec, await ctx.compose(), args, {
        signal: ctx.signal,
        cwd,
        env: ctx.env,
      });
      if (!result.success) {
        throw new KinfraError(`docker compose up failed (exit ${result.code}).`, {
          details: composeTail(result.stderr, 15),
        });
      }
    },

    "sandbox.ready": async (ctx) => {
      if (!ctx.config?.sandbox) return;
      const health = ctx.config.sandbox.health;
      // The compose file's own healthchecks first (what v2's `up --wait` would wait for; v1 has none).
      const checks = await waitContainersHealthy(
        () => listContainers(ctx.exec, ctx.slot.compose_project),
        (health?.timeout ?? DEFAULT_HEALTH_TIMEOUT) * 1000,
        ctx.signal,
      );
      if (!checks.ok) {
        throw new KinfraError(
          `Healthcheck failed: ${checks.failing.join(", ")} ${
            checks.reason === "unhealthy" ? "turned unhealthy" : checks.reason
          } after ${Math.round(checks.elapsedMs / 1000)}s.`,
          { details: ["Last lines of compose logs:", ...await composeLogs(ctx)] },
        );
      }
      const checked = checks.checked
        ? [`healthcheck: ${checks.checked} container(s) healthy (${checks.elapsedMs} ms)`]
        : [];
      // A warm sandbox (`kinfra warm`) runs no code service yet: its healthchecks are all there is.
      if (!health || ctx.flags.warm === "start") return { messages: checked };
      const url = healthUrl(ctx.ports, health);
      ctx.log.step(`Waiting for ${url} (up to ${health.timeout}s)`);
      const outcome = await waitHealthy(url, health.timeout * 1000, ctx.signal);
      if (!outcome.ok) {
        throw new KinfraError(`Health check failed: ${url} ${outcome.last} after ${health.timeout}s.`, {
          details: ["Last lines of compose logs:", ...await composeLogs(ctx)],
        });
      }
      return { messages: [...checked, `healthy: ${url} (${outcome.elapsedMs} ms)`] };
    },

    "sandbox.stop": async (ctx) => {
      let missing = false;
      try {
        await Deno.stat(ctx.slot.dir);
      } catch {
        missing = true;
        ctx.log.warn(
          `Slot directory ${ctx.slot.dir} is missing; removing containers by their compose label instead.`,
        );
      }
      const volumes = ctx.flags.keepVolumes !== true;
      const how = await stopSlotContainers(
        ctx.exec,
        await ctx.compose(),
        ctx.slot.dir,
        ctx.slot.compose_project,
        { volumes, homeId: ctx.homeId },
      );
      const kept = volumes ? [] : await projectVolumes(ctx.exec, ctx.slot.compose_project, ctx.homeId);
      return {
        messages: [
          `stopped ${ctx.slot.compose_project}${missing || how === "labels" ? " (by label)" : ""}`,
          ...(kept.length
            ? [
              `kept volumes ${
                kept.join(", ")
              } (docker volume ls); \`kinfra gc\` removes them once no worktree has them`,
            ]
            : []),
        ],
      };
    },

    "sandbox.purge": async (ctx) => {
      await removeByLabel(ctx.exec, ctx.slot.compose_project, true, ctx.homeId);
    },

    "runtime.scan": async (ctx) => {
      // Asked what this home's sandboxes use (`kinfra status`, the memory budget): the Engine API's stats.
      if (ctx.flags.usage) {
        return await runtimeUsage(ctx.home, ctx.homeId, ctx.flags.cpu === true, ctx.dockerHost);
      }
      const { ours, foreign } = await dockerProjects(ctx.exec, ctx.homeId, ctx.dockerHost);
      return { ours: [...ours], foreign: [...foreign] };
    },

    status: async (ctx) => {
      if (!ctx.slot) return;
      const health = ctx.config?.sandbox?.health;
      const url = health && healthUrl(ctx.ports, health);
      const [containers, state] = await Promise.all([
        listContainers(ctx.exec, ctx.slot.compose_project, ctx.dockerHost),
        url && probe(url),
      ]);
      return {
        running: containers.length > 0 && containers.every((c) => c.state === "running"),
        status: { containers, health: url ? { url, state } : null },
        lines: [
          ...containers.map((c) => `container ${c.service}: ${c.state} (${c.status})`),
          ...(url ? [`health: ${state}`] : []),
        ],
      };
    },
  },
});
