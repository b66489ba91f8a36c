/**
 * The command table: every command, argument and flag as data, each command's implementation
 * loaded lazily, so `kinfra --version` loads almost nothing. Actions only turn flags into typed
 * options; command modules do the work and return a CommandOutput.
 */
import { BUILD } from "#build";
import { type Command, command, GLOBAL_OPTIONS, NAME_ARG } from "./command.ts";
import { GROUPS } from "./program_groups.ts";
export { type Command, GLOBAL_OPTIONS, type Globals } from "./command.ts";

export const VERSION = BUILD.version;

/** Every command. Options are the command's own; globals are accepted everywhere. */
export const PROGRAM: Command = {
  name: "kinfra",
  description: "Parallel development worktrees, each with its own Docker Compose sandbox.",
  subcommands: [
    command({
      name: "init",
      description: "set up .devops-ai/infra.toml and parameterize the compose file's ports",
      options: [
        { flags: "-y, --yes", description: "accept every default without prompting" },
        { flags: "--force", description: "replace an existing infra.toml without asking" },
        { flags: "--name <name>", description: "project name (default: directory name)" },
        { flags: "--prefix <prefix>", description: "worktree prefix (default: the name)" },
        { flags: "--compose-file <path>", description: "compose file (default: detected)" },
        { flags: "--no-sandbox", description: "configure worktrees only, no sandbox" },
        {
          flags: "--health-endpoint <path>",
          description: "HTTP path answering 2xx when the sandbox is healthy",
        },
        {
          flags: "--health-port-var <var>",
          description:
            "port variable the health check uses (default: the first serving HTTP, else the first)",
        },
        {
          flags: "--code-target <service>",
          description: "a service that receives the code mounts (repeatable)",
          repeatable: true,
        },
        {
          flags: "--mount <spec>",
          description: "a code mount, host:container[:ro] (repeatable)",
          repeatable: true,
        },
        {
          flags: "--port <var=base>",
          description: "base port of a port variable, e.g. SHOP_WEB_PORT=9000 (repeatable)",
          repeatable: true,
        },
      ],
      run: async (ctx, _, o) => (await import("../commands/init/init.ts")).init(ctx, o),
    }),
    command({
      name: "spec",
      description: "create a spec worktree on branch spec/<feature>",
      args: [{ name: "feature", description: "feature name", required: true }],
      options: [
        { flags: "--base <ref>", description: "branch or commit to start from" },
        { flags: "--session", description: "start an agent-deck session in it" },
      ],
      run: async (ctx, [feature], o) => (await import("../commands/spec.ts")).spec(ctx, { feature, ...o }),
    }),
    command({
      name: "impl",
      description: "create an impl worktree with its own running sandbox",
      args: [{ name: "feature/milestone", description: "e.g. checkout/M1", required: true }],
      options: [
        { flags: "--base <ref>", description: "branch or commit to start from" },
        { flags: "--session", description: "start an agent-deck session in it" },
        { flags: "--no-sandbox", description: "create the worktree only" },
        { flags: "--seed <snapshot>", description: "start the sandbox's volumes from a snapshot" },
        { flags: "--from <worktree>", description: "start the sandbox's volumes as a copy of another's" },
        { flags: "--host <host>", description: "run the sandbox on a host of `kinfra hosts`, auto or local" },
        { flags: "--dry-run", description: "print the plan and change nothing" },
        { flags: "--force", description: "start the sandbox even when the memory budget is used up" },
      ],
      run: async (ctx, [target], o) => (await import("../commands/impl.ts")).impl(ctx, { target, ...o }),
    }),
    command({
      name: "done",
      description: "remove a worktree and its sandbox without losing work",
      args: [NAME_ARG],
      options: [
        { flags: "--force", description: "remove even with uncommitted changes or a veto" },
        { flags: "--delete-branch", description: "delete the branch even when it is not merged" },
        { flags: "--keep-volumes", description: "keep the sandbox's named volumes (its data)" },
      ],
      run: async (ctx, [name], o) => (await import("../commands/done.ts")).done(ctx, { name, ...o }),
    }),
    command({
      name: "worktrees",
      description: "list kinfra worktrees of all projects",
      options: [{ flags: "--names", description: "only their names, one per line (for completions)" }],
      run: async (ctx, _, o) => (await import("../commands/worktrees.ts")).worktrees(ctx, o),
    }),
    command({
      name: "status",
      description: "show a worktree's sandbox: slot, ports, containers, health",
      args: [NAME_ARG],
      options: [{
        flags: "-w, --watch",
        description: "every project's sandboxes, redrawn as they change (--json: a line per change)",
      }],
      run: async (ctx, [name], o) =>
        o.watch
          ? (await import("../commands/ui/watch.ts")).watch(ctx, { name, json: Boolean(o.json) })
          : (await import("../commands/status.ts")).status(ctx, { name }),
    }),
    command({
      name: "up",
      description: "start the sandbox of an existing impl worktree",
      args: [NAME_ARG],
      options: [
        { flags: "--host <host>", description: "on this host (default: where it ran last)" },
        { flags: "--force", description: "start it even when the memory budget is used up" },
      ],
      run: async (ctx, [name], o) => (await import("../commands/sandbox_cmds.ts")).up(ctx, { name, ...o }),
    }),
    command({
      name: "warm",
      description: "keep n sandboxes of this project's base ready for impl to take (0 removes them)",
      args: [{ name: "n", description: "how many (default 1)" }],
      options: [
        { flags: "--force", description: "start them even when the memory budget is used up" },
        { flags: "--host <host>", description: "only local: warm sandboxes run on this machine" },
      ],
      run: async (ctx, [count], o) => (await import("../commands/warm.ts")).warm(ctx, { count, ...o }),
    }),
    command({
      name: "down",
      description: "stop the sandbox of an impl worktree and release its slot",
      args: [NAME_ARG],
      run: async (ctx, [name]) => (await import("../commands/sandbox_cmds.ts")).down(ctx, { name }),
    }),
    command({
      name: "checkout",
      description: "lead the project's canonical ports (its base ports) to this worktree's sandbox",
      args: [NAME_ARG],
      options: [{ flags: "--none", description: "release the project's canonical ports" }],
      run: async (ctx, [name], o) => (await import("../commands/checkout.ts")).checkout(ctx, { name, ...o }),
    }),
    command({
      name: "logs",
      description: "print the last lines of a sandbox's logs",
      args: [NAME_ARG],
      options: [
        { flags: "-s, --service <service>", description: "only this compose service" },
        { flags: "-n, --tail <lines>", description: "lines per service (default: 200)" },
      ],
      run: async (ctx, [name], o) => (await import("../commands/sandbox_cmds.ts")).logs(ctx, { name, ...o }),
    }),
    command({
      name: "restart",
      description: "restart a sandbox's services (or one, with --service)",
      args: [NAME_ARG],
      options: [{ flags: "-s, --service <service>", description: "only this compose service" }],
      run: async (ctx, [name], o) =>
        (await import("../commands/sandbox_cmds.ts")).restart(ctx, { name, ...o }),
    }),
    command({
      name: "env",
      description: 'print the sandbox variables as export lines: eval "$(kinfra env)"',
      args: [NAME_ARG],
      run: async (ctx, [name]) => (await import("../commands/sandbox_cmds.ts")).env(ctx, { name }),
    }),
    command({
      name: "ui",
      description: "a live dashboard of every project's worktrees and sandboxes, in the browser",
      options: [
        { flags: "-p, --port <port>", description: "port to serve on (default: 4380, or the next free one)" },
        {
          flags: "--host <address>",
          description: "address to serve on (default: 127.0.0.1; anything else is reachable by others)",
        },
        { flags: "--open", description: "open the page in the default browser" },
      ],
      run: async (ctx, _, o) =>
        (await import("../commands/ui/serve.ts")).ui(ctx, { ...o, json: Boolean(o.json) }),
    }),
    command({
      name: "gc",
      description: "remove stale slots, entries of missing worktrees, orphaned containers",
      options: [{ flags: "--dry-run", description: "list what would be removed" }],
      run: async (ctx, _, o) => (await import("../commands/gc.ts")).gc(ctx, o),
    }),
    {
      name: "observability",
      description: "the shared Jaeger + Prometheus + Grafana stack",
      subcommands: [
        command({
          name: "up",
          description: "start it (creates the devops-ai-observability network first)",
          run: async (ctx) => (await import("../commands/observability.ts")).up(ctx),
        }),
        command({
          name: "down",
          description: "stop it; the network stays while sandboxes use it",
          run: async (ctx) => (await import("../commands/observability.ts")).down(ctx),
        }),
        command({
          name: "status",
          description: "containers, URLs, and whether each endpoint answers",
          run: async (ctx) => (await import("../commands/observability.ts")).status(ctx),
        }),
      ],
    },
    ...GROUPS,
    {
      name: "plugins",
      description: "list, inspect, create and trust third-party plugins",
      subcommands: [
        command({
          name: "list",
          description: "every plugin: source, version, events, enabled, trust, shadowed, errors",
          run: async (ctx) => (await import("../commands/plugins.ts")).list(ctx, await ctx.builtins()),
        }),
        command({
          name: "info",
          description: "one plugin in detail",
          args: [{ name: "name", description: "plugin name", required: true }],
          run: async (ctx, [name]) =>
            (await import("../commands/plugins.ts")).info(ctx, await ctx.builtins(), name),
        }),
        command({
          name: "new",
          description: "write a working plugin skeleton",
          args: [{ name: "name", description: "plugin name, e.g. seed-db", required: true }],
          options: [
            {
              flags: "--lang <lang>",
              description: "sh (default) or ts (run with deno)",
              choices: ["sh", "ts"],
            },
            { flags: "--user", description: "create it in the home's plugins/ instead of the project's" },
          ],
          run: async (ctx, [name], o) => (await import("../commands/plugins.ts")).create(ctx, name, o),
        }),
        command({
          name: "trust",
          description: "allow a project plugin to run, as its files are now",
          args: [{ name: "name", description: "plugin name", required: true }],
          run: async (ctx, [name]) =>
            (await import("../commands/plugins.ts")).trust(ctx, await ctx.builtins(), name, true),
        }),
        command({
          name: "untrust",
          description: "stop a project plugin from running",
          args: [{ name: "name", description: "plugin name", required: true }],
          run: async (ctx, [name]) =>
            (await import("../commands/plugins.ts")).trust(ctx, await ctx.builtins(), name, false),
        }),
      ],
    },
    {
      name: "skill",
      description: "the kworktree skill that teaches coding agents to use kinfra",
      subcommands: [
        command({
          name: "install",
          description: "install it for Claude Code (default --user)",
          options: [
            { flags: "--user", description: "into ~/.claude/skills/kworktree/" },
            { flags: "--project", description: "into <project>/.claude/skills/kworktree/" },
            { flags: "--force", description: "replace a different existing SKILL.md" },
          ],
          run: async (ctx, _, o) => (await import("../commands/skill.ts")).install(ctx, o),
        }),
      ],
    },
    command({
      name: "doctor",
      description: "check git, Docker, compose, the registry, infra.toml and plugins",
      run: async (ctx) => (await import("../commands/doctor.ts")).doctor(ctx),
    }),
    command({
      name: "completions",
      description: "print a shell completion script",
      args: [{
        name: "shell",
        description: "bash, zsh or fish",
        required: true,
        choices: ["bash", "zsh", "fish"],
      }],
      run: async (_, [shell]) =>
        (await import("./completions.ts")).completions(PROGRAM, GLOBAL_OPTIONS, shell),
    }),
    command({
      name: "version",
      description: "print the version, the commit and the target it was built for",
      run: () =>
        Promise.resolve({
          data: { ...BUILD, deno: Deno.version.deno },
          text: `kinfra ${BUILD.version} (${BUILD.commit}, ${BUILD.target}; deno ${Deno.version.deno})`,
        }),
    }),
  ],
};
