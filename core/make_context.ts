/**
 * Wires the real Context (core/context.ts): subprocesses logged under -v, the home, git with a
 * per-repository lock, and lazily the global config, compose detection, projects and dispatchers.
 */
import type { Context } from "./context.ts";
import type { GlobalConfig } from "./project/config/schema.ts";
import { join } from "./io/path.ts";
import type { ComposeTool } from "./compose/tool.ts";
import { type Exec, exec as realExec } from "./io/exec.ts";
import { Git } from "./project/git.ts";
import type { Hooks } from "./hooks/dispatch.ts";
import { withLock } from "./io/lock.ts";
import { sha256Hex } from "./io/hash.ts";
import { type Logger, makeLogger, makeStyle, type Style } from "./io/output.ts";
import { existsSync, fileStamp, homeId, type HomePaths, homePaths } from "./io/home.ts";
import type { Plugin } from "./hooks/plugin_api.ts";
import { findProject, type Project } from "./project/project.ts";
import { GLOBAL_DEFAULTS } from "./project/config/defaults.ts";

/**
 * The global config; without a config.toml, its defaults, without loading the validator. Looked
 * for synchronously and copied through JSON: every command asks, and the async stat and
 * `structuredClone` cost it ~0.5 ms more before anything else runs.
 */
async function loadGlobalConfig(home: HomePaths): Promise<GlobalConfig> {
  if (!existsSync(home.config)) {
    return JSON.parse(JSON.stringify(GLOBAL_DEFAULTS));
  }
  return (await import("./project/config/load.ts")).loadGlobalConfig(home);
}

export interface ContextOptions {
  cwd?: string;
  env?: { get(key: string): string | undefined };
  exec?: Exec;
  log?: Logger;
  style?: Style;
  signal?: AbortSignal;
  interactive?: boolean;
  /** The built-in plugins (none by default, so core tests run without them). */
  builtins?: () => Promise<Plugin[]>;
}

/**
 * Builds a context; every option has a real default.
 *
 * @example
 * const ctx = makeContext({ cwd: repo, env: new Map([["KINFRA_HOME", tmp]]) });
 */
export function makeContext(options: ContextOptions = {}): Context {
  const style = options.style ?? makeStyle(false);
  const log = options.log ?? makeLogger({ quiet: false, verbose: false }, style);
  const inner = options.exec ?? realExec;
  // With -v every subprocess is logged with its duration.
  const run: Exec = async (cmd, args, opts) => {
    const start = performance.now();
    try {
      return await inner(cmd, args, opts);
    } finally {
      log.debug(`$ ${cmd} ${args.join(" ")}  (${(performance.now() - start).toFixed(0)} ms)`);
    }
  };
  let global: { stamp: string; config: Promise<GlobalConfig> } | undefined;
  let compose: Promise<ComposeTool> | undefined;
  let id: Promise<string> | undefined;
  const projects = new Map<string, Promise<Project>>();
  const dispatchers = new Map<string, Promise<Hooks>>();
  const repoLocks = new Map<string, Promise<string>>();
  const ctx: Context = {
    cwd: options.cwd ?? Deno.cwd(),
    env: options.env ?? Deno.env,
    home: homePaths(options.env),
    exec: run,
    git: new Git(run, async (repo, fn) => {
      // Keyed by the repository path; kept in the home so nothing is written into the user's .git.
      // Made once per repository and command (impl and done take it three times each).
      const path = repoLocks.get(repo) ?? (async () => {
        const key = (await sha256Hex(repo)).slice(0, 16);
        Deno.mkdirSync(join(ctx.home.root, "locks"), { recursive: true });
        return join(ctx.home.root, "locks", `repo-${key}.lock`);
      })();
      repoLocks.set(repo, path);
      return await withLock(await path, fn);
    }),
    log,
    style,
    signal: options.signal ?? new AbortController().signal,
    interactive: options.interactive ?? false,
    now: () => new Date(),
    homeId: () => id ??= homeId(ctx.home),
    // Read again once the file changed: the proxy process lives on while the user edits it (an
    // idle_stop set then was otherwise never seen there, and its idle check said "none set").
    globalConfig: () => {
      const stamp = fileStamp(ctx.home.config);
      if (global?.stamp !== stamp) global = { stamp, config: loadGlobalConfig(ctx.home) };
      return global.config;
    },
    compose: () =>
      compose ??= Promise.all([ctx.globalConfig(), import("./compose/tool.ts")]).then(([g, tool]) =>
        tool.detectComposeCached(
          run,
          ctx.env.get("KINFRA_COMPOSE") || g.compose.command,
          join(ctx.home.root, "cache"),
        )
      ),
    // Once per directory and command: status and done look the project up from the cwd and again
    // from the registry entry, usually the same place.
    project: (dir = ctx.cwd) => {
      const found = projects.get(dir) ??
        ctx.globalConfig().then((global) =>
          findProject(ctx.git, dir, global.slots.max, join(ctx.home.root, "cache"), global.worktree.root)
        );
      projects.set(dir, found);
      return found;
    },
    builtins: options.builtins ?? (() => Promise.resolve([])),
    // Once per project and command: gc and stale repair dispatch per slot, and discovering
    // third-party plugins (with its warnings) should happen once.
    hooks: (project) => {
      const key = project?.root ?? "";
      const made = dispatchers.get(key) ??
        (async () =>
          new (await import("./hooks/dispatch.ts")).Hooks(
            await (await import("./hooks/load.ts")).activePlugins(ctx, project, await ctx.builtins()),
            {
              log: ctx.log,
              exec: run,
              signal: ctx.signal,
              home: ctx.home.root,
              homeId: await ctx.homeId(),
              compose: ctx.compose,
              global: await ctx.globalConfig(),
            },
          ))();
      dispatchers.set(key, made);
      return made;
    },
  };
  return ctx;
}
