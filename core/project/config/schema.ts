/**
 * The infra.toml schema (README, "infra.toml") and the global config.toml schema. Every object is
 * strict so an unknown key is an error (the loader adds a "did you mean" hint).
 */
import { z } from "zod";
import { GLOBAL_DEFAULTS, OBSERVABILITY_DEFAULTS as OBS } from "./defaults.ts";
import { isContainedPath, parseMount } from "./mounts.ts";
import { parseDuration } from "../../text/duration.ts";
import { parseBytes } from "../../text/bytes.ts";

export const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const PORT_VAR = /^[A-Z_][A-Z0-9_]*$/;
/**
 * Variables that steer the programs kinfra runs or a service runs (a port number in PATH or
 * DOCKER_HOST breaks Compose itself; LD_PRELOAD, BASH_ENV or NODE_OPTIONS change what a program
 * loads), or that kinfra sets: no slot value may take their place. Exact names, so that SSH_PORT or
 * GIT_WEB_PORT stay free.
 */
export const RESERVED_VARIABLE = new RegExp(
  "^(" + [
    "PATH|HOME|PWD|TMPDIR|SHELL|USER|LANG|LANGUAGE|LC_ALL|LC_CTYPE|LC_MESSAGES|TERM|IFS|PS4|ENV|BASH_ENV|CDPATH|_",
    "LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_INSERT_LIBRARIES|DYLD_LIBRARY_PATH",
    "GIT_DIR|GIT_WORK_TREE|GIT_INDEX_FILE|GIT_SSH|GIT_SSH_COMMAND|GIT_EXEC_PATH|GIT_CONFIG|GIT_CONFIG_GLOBAL",
    "PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|NODE_OPTIONS|NODE_PATH|PERL5LIB|PERL5OPT|RUBYOPT|SSH_AUTH_SOCK|SSH_ASKPASS",
    "DOCKER_.*|COMPOSE_.*|KINFRA_.*|BUILDKIT_.*",
  ].join("|") + ")$",
);
export const PLUGIN_NAME = /^[a-z][a-z0-9-]{0,63}$/;
export const SNAPSHOT_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const SNAPSHOT_RULE =
  "snapshot names are 1–63 characters of a–z, 0–9, '_', '.' or '-', starting with a letter or digit";

const projectName = z.string().regex(
  PROJECT_NAME,
  "must be 1–40 characters of a–z, 0–9, '_' or '-', starting with a letter or digit",
);
const port = z.int("must be a whole number").min(1, "must be 1–65535").max(65535, "must be 1–65535");
const relativePath = z.string().refine(
  isContainedPath,
  "must be a relative path inside the project (no '..')",
);
const mountSpec = z.string().superRefine((spec, ctx) => {
  const parsed = parseMount(spec);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: `${parsed} (format host:container[:ro])` });
  }
});
/** A duration such as "4h", "30m" or "45s" (`idle_stop`). */
const DURATION = 'must be a duration such as "4h", "30m" or "90s"';
const duration = z.string(DURATION).refine((v) => parseDuration(v) !== undefined, DURATION);
/** A memory size such as "8g" or "512m" (powers of 1024, as Docker writes them), or bytes. */
const MEMORY = 'must be a memory size such as "8g" or "512m"';
const memorySize = z.union([z.string(), z.int()], MEMORY).refine(
  (v) => (parseBytes(v) ?? 0) > 0,
  MEMORY,
);
const serviceList = z.array(z.string().min(1, "must not be empty"));

/** A variable kinfra sets in a service: a name, and none that steers how its programs run. */
const serviceVariable = z.string().regex(PORT_VAR, "must be an environment variable name")
  .refine(
    (v) => !RESERVED_VARIABLE.test(v),
    "is a variable the service's programs read for other things (PATH, HOME, LD_*…)",
  );

/** A value that reaches git or Docker as one argument: not empty, one line, no control characters. */
const oneLine = z.string().min(1, "must not be empty")
  // deno-lint-ignore no-control-regex
  .regex(/^[^\x00-\x1f\x7f]*$/, "must be one line without control characters");

/** A range of host ports (`9090-9091`): slot n publishes `base + n·width` … `+ width − 1`. */
const PortRange = z.strictObject({
  base: port,
  width: z.int("must be a whole number").min(2, "must be 2–1000").max(1000, "must be 2–1000"),
});

const Health = z.strictObject({
  // Sent as the request line's path: a space or a line break would end it and start another header.
  endpoint: z.string().regex(
    // deno-lint-ignore no-control-regex
    /^\/[^\s\x00-\x1f\x7f]*$/,
    "must be a path starting with '/', without spaces or control characters",
  ),
  port_var: z.string(),
  timeout: z.int("must be a whole number of seconds").min(1, "must be 1–3600").max(3600, "must be 1–3600")
    .default(60),
});

const Sandbox = z.strictObject({
  compose_file: relativePath.refine(
    (p) => !/(^|\/)\.?\.?$/.test(p),
    "must name a compose file (such as docker-compose.yml), not a directory",
  ).default("docker-compose.yml"),
  health: Health.optional(),
  ports: z.record(
    z.string().regex(PORT_VAR, "port variable names must match ^[A-Z_][A-Z0-9_]*$"),
    z.union([port, PortRange], "must be a port (1–65535) or a table { base = <port>, width = <2–1000> }"),
  ).default({}),
  mounts: z.strictObject({
    code: z.array(mountSpec).default([]),
    code_targets: serviceList.default([]),
    shared: z.array(mountSpec).default([]),
    shared_targets: serviceList.default([]),
  }).prefault({}),
  otel: z.strictObject({
    enabled: z.boolean().default(true),
    services: serviceList.optional(),
    endpoint_var: serviceVariable.default("OTEL_EXPORTER_OTLP_ENDPOINT"),
    namespace_var: serviceVariable.default("OTEL_RESOURCE_ATTRIBUTES"),
  }).prefault({}),
  networks: z.strictObject({ include: z.array(z.string().min(1)).default([]) }).prefault({}),
  /** Stop the sandbox after this long unused (overrides the global `[slots] idle_stop`). */
  idle_stop: z.union([duration, z.literal(false)], `${DURATION}, or false`).optional(),
  /** Per-slot data (the data plugin): the snapshot new slots start from, and which volumes count. */
  data: z.strictObject({
    seed: z.string().regex(SNAPSHOT_NAME, SNAPSHOT_RULE).optional(),
    volumes: z.array(z.string().min(1, "must not be empty")).optional(),
  }).prefault({}),
});

export const InfraConfig = z.strictObject({
  project: z.strictObject({ name: projectName, prefix: projectName.optional() }),
  sandbox: Sandbox.optional(),
  worktree: z.strictObject({
    // Relative to the project root, and kept inside the project's parent (checked by findProject).
    root: z.string().min(1, "must not be empty").refine(
      (p) => isContainedPath(p.replace(/^(\.\.\/?)/, "")) || p === "..",
      'must be a relative path such as ".." or "../worktrees"',
    ).refine((p) => !p.split("/").includes(".git"), "must not lead into a .git directory").optional(),
    copy: z.array(relativePath).default([]),
    base: oneLine.optional(),
  }).prefault({}),
  /** `kinfra agent-hook`: what an agent host's worktree is. */
  agents: z.strictObject({
    /** impl (default with a [sandbox]) or spec. */
    worktree: z.enum(["impl", "spec"], 'must be "impl" or "spec"').optional(),
    milestone: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a milestone name like M1")
      .default("M1"),
    /** What `remove` does with uncommitted work: refuse (exit 3, like `done`) or force. */
    remove_dirty: z.enum(["refuse", "force"], 'must be "refuse" or "force"').default("refuse"),
  }).prefault({}),
  plugins: z.object({
    enable: z.array(z.string().regex(PLUGIN_NAME, `plugin names match ${PLUGIN_NAME.source}`)).default([]),
  }).catchall(z.record(z.string(), z.unknown(), "each [plugins.<name>] must be a table")).prefault({}),
}).superRefine((config, ctx) => {
  for (const name of Object.keys(config.plugins)) {
    if (name !== "enable" && !PLUGIN_NAME.test(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["plugins", name],
        message: `is not a plugin name (plugin names match ${PLUGIN_NAME.source})`,
      });
    }
  }
  const health = config.sandbox?.health;
  // Own keys only: `"toString" in {}` is true, and a health check would then wait on no port at all.
  if (health && !Object.hasOwn(config.sandbox!.ports, health.port_var)) {
    const known = Object.keys(config.sandbox!.ports);
    ctx.addIssue({
      code: "custom",
      path: ["sandbox", "health", "port_var"],
      message: known.length
        ? `must be one of the keys of [sandbox.ports] (${known.join(", ")})`
        : "must name a key of [sandbox.ports], which is empty",
    });
  }
});
export type InfraConfig = z.infer<typeof InfraConfig>;
export type SandboxConfig = NonNullable<InfraConfig["sandbox"]>;

export const GlobalConfig = z.strictObject({
  slots: z.strictObject({
    max: z.int().min(1, "must be 1–200").max(200, "must be 1–200").default(GLOBAL_DEFAULTS.slots.max),
    /** The memory all of this home's sandboxes may use (default: the engine's memory less a reserve). */
    memory: memorySize.optional(),
    /** Stop a sandbox unused for this long (off by default; infra.toml's `[sandbox] idle_stop` wins). */
    idle_stop: duration.optional(),
  })
    .prefault({}),
  compose: z.strictObject({
    command: z.enum(["docker compose", "docker-compose"], 'must be "docker compose" or "docker-compose"')
      .optional(),
  }).prefault({}),
  observability: z.strictObject({
    name: projectName.default(OBS.name),
    jaeger_image: oneLine.default(OBS.jaeger_image),
    prometheus_image: oneLine.default(OBS.prometheus_image),
    grafana_image: oneLine.default(OBS.grafana_image),
    jaeger_ui_port: port.default(OBS.jaeger_ui_port),
    otlp_grpc_port: port.default(OBS.otlp_grpc_port),
    otlp_http_port: port.default(OBS.otlp_http_port),
    prometheus_port: port.default(OBS.prometheus_port),
    grafana_port: port.default(OBS.grafana_port),
  }).prefault({}),
  plugins: z.strictObject({ enable: z.array(z.string().regex(PLUGIN_NAME)).default([]) }).prefault({}),
  data: z.strictObject({
    /** The image of the helper container that copies volumes (needs `sh`, `cp -a`, `du`). */
    helper_image: oneLine.default(GLOBAL_DEFAULTS.data.helper_image),
  }).prefault({}),
  sandbox: z.strictObject({
    /** Where new sandboxes run: a host of `kinfra hosts`, "auto", or "local" (the default). */
    host: z.string().regex(
      /^[a-z0-9][a-z0-9_-]{0,39}$/,
      "must be a host name (kinfra hosts list), auto or local",
    )
      .optional(),
  }).prefault({}),
  worktree: z.strictObject({
    /** Where every project's worktrees go, as an absolute path (infra.toml's own root wins). */
    root: z.string().startsWith("/", "must be an absolute path").optional(),
  }).prefault({}),
  proxy: z.strictObject({
    /** The router's port on 127.0.0.1: `http://<feature>-<milestone>.<project>.localhost:<port>/`. */
    port: port.default(GLOBAL_DEFAULTS.proxy.port),
  }).prefault({}),
});
export type GlobalConfig = z.infer<typeof GlobalConfig>;
