/**
 * `kinfra doctor`: checks everything kinfra depends on, each with a fix hint, plus the checks
 * plugins add through the `doctor` event. Exits 2 when only the config is broken, 4 when any other
 * essential check fails.
 */
import type { Context } from "../context.ts";
import { type ComposeTool, detectCompose, dockerEngineVersion, probeCompose } from "../compose/tool.ts";
import { ConfigError, Exit, isBug, KinfraError, messageOf } from "../errors.ts";
import type { CommandOutput } from "../io/output.ts";
import { exists } from "../io/home.ts";
import type { Check } from "../hooks/plugin_api.ts";
import { readRegistry } from "../slots/registry.ts";
import { scanRuntime } from "../sandbox/runtime.ts";
import { composeProject, parseComposeProject } from "../slots/slot_files.ts";
import { findStale } from "../slots/stale.ts";
import { projectInput } from "../hooks/inputs.ts";
import type { Project } from "../project/project.ts";
import { enabledNames, pluginStandings } from "../hooks/load.ts";

export async function doctor(ctx: Context): Promise<CommandOutput> {
  const checks: Check[] = [];
  // A broken config.toml, infra.toml or registry is what doctor is asked about: each check that
  // meets one reports it (once) and the others still run.
  const run = async (name: string, check: () => Promise<Check | Check[]>) => {
    try {
      checks.push(...[await check()].flat());
    } catch (e) {
      if (isBug(e)) throw e; // reported as one, with its stack under -v
      const failed = { name: e instanceof ConfigError ? "config" : name, detail: messageOf(e) };
      if (checks.some((c) => c.name === failed.name && c.detail === failed.detail)) return;
      const hint = e instanceof KinfraError ? e.hint : undefined;
      checks.push({ ...failed, ok: false, hint: hint ?? "Fix the file." });
    }
  };
  await run("git", () => gitCheck(ctx));
  await run("docker", () => dockerChecks(ctx));
  await run("registry", () => registryCheck(ctx));
  await run("slots", () => slotChecks(ctx));
  await run("proxy", async () => (await import("./proxy.ts")).proxyCheck(ctx));
  await run("hosts", async () => (await import("../remote/doctor.ts")).hostChecks(ctx));
  // Outside a project there is no infra.toml to check: only a broken one is reported.
  let project: Project | undefined;
  await run("config", async () => {
    project = await ctx.project().catch((e) => {
      if (e instanceof ConfigError) throw e;
      return undefined;
    });
    return [];
  });
  if (project) {
    checks.push(await pluginCheck(ctx, project));
    const hooks = await ctx.hooks(project);
    const { replies, failures } = await hooks.observe("doctor", projectInput(project));
    checks.push(...replies.flatMap((r) => r.result.checks ?? []));
    checks.push(
      ...failures.map((f) => ({
        name: `plugin ${f.plugin}`,
        ok: false,
        detail: f.message,
        severity: "warning" as const,
      })),
    );
  }
  const failed = checks.filter((c) => !c.ok && c.severity !== "warning");
  const mark = (c: Check) =>
    c.ok ? ctx.style.green("✓") : c.severity === "warning" ? ctx.style.yellow("!") : ctx.style.red("✗");
  return {
    data: { ok: failed.length === 0, checks },
    text: checks.map((c) => `${mark(c)} ${c.name}: ${c.detail}${!c.ok && c.hint ? `\n    → ${c.hint}` : ""}`)
      .join("\n"),
    // A broken infra.toml or config.toml is a config error (2), as for every command; any other
    // failed check is the environment's (4).
    exitCode: !failed.length
      ? Exit.ok
      : failed.every((c) => c.name === "config")
      ? Exit.usage
      : Exit.environment,
  };
}

async function gitCheck(ctx: Context): Promise<Check> {
  const result = await ctx.exec("git", ["--version"]).catch(() => undefined);
  return result?.success
    ? { name: "git", ok: true, detail: result.stdout.trim() }
    : { name: "git", ok: false, detail: "not found", hint: "Install git 2.31 or newer." };
}

async function dockerChecks(ctx: Context): Promise<Check[]> {
  const engine = await dockerEngineVersion(ctx.exec);
  // A broken config.toml is the config check's to report; the engine and Compose are checked anyway.
  const preferred = ctx.env.get("KINFRA_COMPOSE") ||
    (await ctx.globalConfig().catch(() => undefined))?.compose.command;
  const [plugin, standalone] = await Promise.all([
    probeCompose(ctx.exec, "docker compose"),
    probeCompose(ctx.exec, "docker-compose"),
  ]);
  const probed: Record<string, ComposeTool | undefined> = {
    "docker compose": plugin,
    "docker-compose": standalone,
  };
  // The same choice impl makes (detectCompose), from the answers just had.
  const chosen = await detectCompose(ctx.exec, preferred, (c) => Promise.resolve(probed[c]))
    .catch((e) => e instanceof KinfraError ? e : new KinfraError(messageOf(e)));
  const found = Object.entries(probed).flatMap(([c, t]) => t ? [`${c} ${t.version} (${t.flavour})`] : []);
  return [
    engine ? { name: "docker engine", ok: true, detail: `running (server ${engine})` } : {
      name: "docker engine",
      ok: false,
      detail: "not reachable",
      hint: "Start Docker (dockerd or Docker Desktop); sandboxes need it, spec worktrees do not.",
    },
    !(chosen instanceof KinfraError)
      ? {
        name: "compose",
        ok: true,
        detail: `using ${chosen.command} ${chosen.version} (${chosen.flavour}${
          preferred ? ", chosen explicitly" : ""
        }${chosen.env ? `, its plugin run directly: ${chosen.argv[0]}` : ""}); found: ${found.join(", ")}`,
      }
      : {
        name: "compose",
        ok: false,
        detail: `${chosen.message.replace(/\.$/, "")}${found.length ? `; found: ${found.join(", ")}` : ""}`,
        hint: chosen.hint ?? "Install the Compose v2 plugin or docker-compose.",
      },
  ];
}

async function registryCheck(ctx: Context): Promise<Check> {
  try {
    const registry = await readRegistry(ctx.home);
    const entries = Object.values(registry.worktrees);
    const missing = [];
    for (const e of entries) if (!await exists(e.path)) missing.push(e.path);
    return missing.length
      ? {
        name: "registry",
        ok: false,
        severity: "warning",
        detail: `${entries.length} worktrees, ${missing.length} missing on disk: ${missing.join(", ")}`,
        hint: "Run `kinfra gc` or `kinfra done <name>` for each.",
      }
      : {
        name: "registry",
        ok: true,
        detail: `${ctx.home.registry}: ${entries.length} worktrees, ${
          Object.keys(registry.slots).length
        } slots`,
      };
  } catch (e) {
    return {
      name: "registry",
      ok: false,
      detail: messageOf(e),
      hint: "Repair or move the file aside, then run `kinfra gc`.",
    };
  }
}

/** Stale slots and orphaned sandbox containers: both are what `kinfra gc` repairs. */
async function slotChecks(ctx: Context): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const stale = await findStale(ctx);
    checks.push(
      stale.length
        ? {
          name: "slots",
          ok: false,
          severity: "warning",
          detail: stale.map((s) => `slot ${s.slot.slot_id} (${s.slot.project}) is stale: ${s.reason}`).join(
            "; ",
          ),
          hint: "Run `kinfra gc`.",
        }
        : { name: "slots", ok: true, detail: "no stale slots" },
    );
    const registry = await readRegistry(ctx.home);
    const active = new Set(Object.values(registry.slots).map((s) => composeProject(s.project, s.slot_id)));
    const { ours, foreign, failures } = await scanRuntime(ctx);
    const orphans = [...ours].filter((p) => !active.has(p) && parseComposeProject(p));
    const lookalikes = [...foreign].filter((p) => parseComposeProject(p) && !ours.has(p));
    checks.push(
      failures.length
        ? {
          name: "orphans",
          ok: false,
          severity: "warning",
          detail: `could not look for orphaned sandboxes: ${failures.join("; ")}`,
        }
        : orphans.length
        ? {
          name: "orphans",
          ok: false,
          severity: "warning",
          detail: `containers or networks of unknown sandboxes: ${orphans.join(", ")}`,
          hint: "Run `kinfra gc` to remove them.",
        }
        : { name: "orphans", ok: true, detail: "no orphaned sandbox containers" },
    );
    if (lookalikes.length) {
      checks.push({
        name: "foreign sandboxes",
        ok: true,
        detail: `left alone (not this home's: another kinfra home's, or not kinfra's): ${
          lookalikes.join(", ")
        }`,
      });
    }
  } catch (e) {
    checks.push({ name: "slots", ok: false, severity: "warning", detail: messageOf(e) });
  }
  return checks;
}

/** Third-party plugins: invalid ones, and enabled ones that will not run (missing, untrusted, changed). */
async function pluginCheck(ctx: Context, project: Project): Promise<Check> {
  const standings = await pluginStandings(ctx, project);
  const found = standings.filter((s) => s.plugin);
  const problems = [
    ...found.filter((s) => s.plugin!.error).map((s) => `${s.name} (${s.plugin!.dir}): ${s.plugin!.error}`),
    ...standings.filter((s) => s.problem && !s.plugin?.error).map((s) => `${s.name} ${s.problem}`),
  ];
  const enabled = await enabledNames(ctx, project);
  return problems.length
    ? {
      name: "plugins",
      ok: false,
      severity: "warning",
      detail: problems.join("; "),
      hint: "See `kinfra plugins list`; trust with `kinfra plugins trust <name>`.",
    }
    : {
      name: "plugins",
      ok: true,
      detail: `${found.length} third-party plugin(s) found, ${enabled.size} enabled`,
    };
}
