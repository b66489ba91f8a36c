/** Command groups of the table (see program.ts): per-slot data, agent hosts, the proxy process. */
import { type Command, command, NAME_ARG } from "./command.ts";

/** Which Claude Code settings file `install`/`uninstall` edit. */
const SETTINGS_FILE = [
  { flags: "--project", description: "the project's .claude/settings.json (the default)" },
  { flags: "--user", description: "the user's ~/.claude/settings.json" },
] as const;

export const GROUPS: Command[] = [
  {
    name: "agent-hook",
    description: "be the worktree provider of a coding-agent host",
    subcommands: [{
      name: "claude-code",
      description: "Claude Code's WorktreeCreate/WorktreeRemove hooks",
      subcommands: [
        command({
          name: "create",
          description: "read the hook's JSON on stdin, make the worktree, print only its path",
          run: async (ctx) => (await import("../commands/agents/claude_create.ts")).create(ctx),
        }),
        command({
          name: "remove",
          description: "read the hook's JSON on stdin and `done` its worktree_path",
          run: async (ctx) => (await import("../commands/agents/claude_remove.ts")).remove(ctx),
        }),
        command({
          name: "install",
          description: "add both hooks to .claude/settings.json (or ~/.claude with --user)",
          options: SETTINGS_FILE,
          run: async (ctx, _, o) => (await import("../commands/agents/agent_hook.ts")).install(ctx, o),
        }),
        command({
          name: "uninstall",
          description: "take both hooks out again, leaving everything else as it was",
          options: SETTINGS_FILE,
          run: async (ctx, _, o) =>
            (await import("../commands/agents/agent_hook.ts")).install(ctx, { ...o, uninstall: true }),
        }),
      ],
    }],
  },
  {
    name: "proxy",
    description: "the on-demand background process behind checkouts and sandbox names (docs/proxy.md)",
    subcommands: [
      command({
        name: "status",
        description: "whether it runs, its pid, port and parts, and what needs it",
        run: async (ctx) => (await import("../commands/proxy.ts")).status(ctx),
      }),
      command({
        name: "start",
        description: "start it now if something needs it (commands do this themselves)",
        run: async (ctx) => (await import("../commands/proxy.ts")).start(ctx),
      }),
      command({
        name: "stop",
        description: "stop it; the next command that needs it starts it again",
        run: async (ctx) => (await import("../commands/proxy.ts")).stop(ctx),
      }),
      command({
        name: "run",
        description: "run it in the foreground (what commands start detached)",
        run: async (ctx) => (await import("../commands/proxy.ts")).run(ctx),
      }),
    ],
  },
  {
    name: "snapshot",
    description: "save, list and remove copies of a sandbox's data (its named volumes)",
    subcommands: [
      command({
        name: "save",
        description: "copy a sandbox's volumes into a snapshot (its services stopped meanwhile)",
        args: [{ name: "name", description: "the snapshot's name", required: true }, NAME_ARG],
        run: async (ctx, [name, worktree]) =>
          (await import("../commands/snapshot.ts")).save(ctx, { name: name!, worktree }),
      }),
      command({
        name: "list",
        description: "this home's snapshots: volumes, size, source, created",
        run: async (ctx) => (await import("../commands/snapshot.ts")).list(ctx),
      }),
      command({
        name: "rm",
        description: "remove a snapshot",
        args: [{ name: "name", description: "the snapshot's name", required: true }],
        run: async (ctx, [name]) => (await import("../commands/snapshot.ts")).remove(ctx, { name: name! }),
      }),
    ],
  },
  {
    name: "hosts",
    description: "remote Docker hosts that sandboxes can run on (impl --host)",
    subcommands: [
      command({
        name: "add",
        description: "add a host: ssh://user@host[:port], tcp://host:port or a docker context",
        args: [
          { name: "name", description: "a short name, e.g. big", required: true },
          {
            name: "endpoint",
            description: "ssh://user@host[:port], tcp://host:port or a context",
            required: true,
          },
        ],
        options: [{
          flags: "--tls-certs <dir>",
          description:
            "tcp:// with TLS: ca.pem, cert.pem, key.pem (default with DOCKER_TLS_VERIFY: DOCKER_CERT_PATH)",
        }, {
          flags: "--memory <size>",
          description: "its memory budget for sandboxes, e.g. 8g (default: its memory less a reserve)",
        }],
        run: async (ctx, [name, endpoint], o) =>
          (await import("../commands/hosts.ts")).add(ctx, {
            name: name!,
            endpoint: endpoint!,
            tlsCerts: o.tlsCerts,
            memory: o.memory,
          }),
      }),
      command({
        name: "list",
        description: "the hosts, the default one and the sandboxes on each",
        run: async (ctx) => (await import("../commands/hosts.ts")).list(ctx),
      }),
      command({
        name: "test",
        description: "check a host: ssh, docker and rsync there (or its engine API and TLS), compose here",
        args: [{ name: "name", description: "host name", required: true }],
        run: async (ctx, [name]) => (await import("../commands/hosts.ts")).test(ctx, { name: name! }),
      }),
      command({
        name: "rm",
        description: "forget a host (refused while sandboxes run on it)",
        args: [{ name: "name", description: "host name", required: true }],
        run: async (ctx, [name]) => (await import("../commands/hosts.ts")).rm(ctx, { name: name! }),
      }),
    ],
  },
];
