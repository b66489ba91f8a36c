/**
 * The pure part of `kinfra init`: from the answers, the compose sources and Compose's resolved
 * model, the infra.toml text and the rewritten compose files. Every host port the model publishes
 * is traced to the entry that writes it — in the service, an anchor, an extended or included file —
 * and rewritten there; a port already written as a variable is adopted as it is; what cannot be
 * placed is reported with where to look. No prompts and no I/O here.
 */
import { applyEdits, type ComposeSources, lineDiff } from "../../compose/file.ts";
import { servesHttp } from "../../compose/sources.ts";
import type { ComposeModel } from "../../compose/model.ts";
import { parseMount } from "../../project/config/mounts.ts";
import { PORT_VAR, RESERVED_VARIABLE } from "../../project/config/schema.ts";
import { renderHost } from "../../compose/port_spec.ts";
import { at, type PortAnalysis } from "./analyze.ts";
import type { PortSetting } from "../../slots/ports.ts";

export interface InitAnswers {
  name: string;
  prefix: string;
  /** Relative to the project root; undefined for a worktree-only project. */
  composeFile?: string;
  /** Ports (by index into the analysis' choices) to parameterize; default all. */
  ports?: number[];
  healthEndpoint?: string;
  healthPortVar?: string;
  mounts: string[];
  codeTargets?: string[];
  /** `--port VAR=BASE`: bases other than the published port (the compose default stays that port). */
  bases?: Record<string, number>;
}

export { analyzePorts, MAX_RANGE_WIDTH, type PortAnalysis, type PortChoice } from "./analyze.ts";

export interface InitPlan {
  infraToml: string;
  /** Each compose file that changes. */
  files: { path: string; before: string; after: string; diff: string[] }[];
  ports: Record<string, PortSetting>;
  warnings: string[];
  /** What init decided that needs no action (adopted variables). */
  notes: string[];
  problems: string[];
  /** The port the health check probes unless `--health-port-var` names one: the first that serves HTTP. */
  healthPortVar?: string;
}

/** The variable for a port: `<PREFIX>_<SERVICE>_PORT`, with the container port added for a service's later ports. */
export function portVariable(prefix: string, service: string, target: string, taken: Set<string>): string {
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  let name = `${clean(prefix)}_${clean(service)}_PORT`;
  // A name the schema would refuse (a prefix "docker" makes DOCKER_…) gets a leading underscore.
  if (!PORT_VAR.test(name) || RESERVED_VARIABLE.test(name)) name = `_${name}`;
  if (taken.has(name)) name = `${name}_${clean(target.split(/[-/]/)[0])}`;
  const stem = name;
  for (let i = 2; taken.has(name); i++) name = `${stem}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Builds the plan: which variables, the compose edits and infra.toml.
 *
 * @example
 * const plan = planInit({ name: "shop", prefix: "shop", composeFile: "compose.yml", mounts: [] }, { sources, analysis });
 */
export function planInit(
  answers: InitAnswers,
  compose?: { sources: ComposeSources; analysis: PortAnalysis; model: ComposeModel },
): InitPlan {
  const ports: Record<string, PortSetting> = {};
  const plan: InitPlan = { infraToml: "", files: [], ports, warnings: [], notes: [], problems: [] };
  for (const mount of answers.mounts) {
    const parsed = parseMount(mount);
    if (typeof parsed === "string") throw new TypeError(`Mount "${mount}": ${parsed}`);
  }
  if (answers.composeFile && compose) {
    const { sources, analysis } = compose;
    plan.warnings.push(...analysis.warnings, ...namingNotes(compose.model));
    plan.problems.push(...analysis.problems);
    const taken = new Set(analysis.choices.flatMap((c) => c.adopt ? [c.adopt] : []));
    const edits: Record<string, { range: [number, number]; text: string }[]> = {};
    // One number over TCP and UDP ("53:53/tcp", "53:53/udp") is one variable: two with one base
    // would collide with each other in every slot.
    const byNumber = new Map<string, { variable: string; protocols: Set<string> }>();
    analysis.choices.forEach((choice, i) => {
      if (answers.ports && !answers.ports.includes(i)) return;
      const { source, base, width } = choice;
      const number = `${base}/${width}`;
      const twin = choice.adopt ? undefined : byNumber.get(number);
      const shared = twin && !twin.protocols.has(source.protocol) ? twin.variable : undefined;
      const variable = choice.adopt ?? shared ??
        portVariable(answers.prefix, choice.services[0] ?? source.where, source.container, taken);
      if (!choice.adopt) {
        const entry = byNumber.get(number) ?? { variable, protocols: new Set<string>() };
        if (entry.variable === variable) entry.protocols.add(source.protocol);
        byNumber.set(number, entry);
      }
      if (width === 1 && servesHttp(source)) plan.healthPortVar ??= variable;
      const slotBase = answers.bases?.[variable] ?? base;
      ports[variable] = width > 1 ? { base: slotBase, width } : slotBase;
      if (choice.adopt) {
        plan.notes.push(`Adopted the project's own \${${variable}} (${at(source)}) with base ${base}.`);
        return;
      }
      const host = renderHost(variable, base, width > 1 ? base + width - 1 : undefined);
      (edits[source.file] ??= []).push({ range: source.range, text: source.render(host) });
    });
    for (const [path, list] of Object.entries(edits)) {
      const before = sources.files[path];
      const after = applyEdits(before, list);
      plan.files.push({ path, before, after, diff: lineDiff(before, after) });
    }
  }
  plan.healthPortVar = answers.healthPortVar ?? plan.healthPortVar ?? Object.keys(ports)[0];
  plan.infraToml = renderInfraToml(answers, ports, Boolean(compose), plan.healthPortVar);
  return plan;
}

/** What the sandboxes will rename: fixed container names and network names. */
function namingNotes(model: ComposeModel): string[] {
  const notes: string[] = [];
  const services = (model.doc.services ?? {}) as Record<string, Record<string, unknown> | null>;
  for (const [name, body] of Object.entries(services)) {
    if (typeof body?.container_name === "string") {
      notes.push(
        `Service "${name}" sets container_name "${body.container_name}": each sandbox names it ` +
          `<project>-slot-<n>-${name} instead.`,
      );
    }
  }
  const networks = (model.doc.networks ?? {}) as Record<string, Record<string, unknown> | null>;
  for (const [key, net] of Object.entries(networks)) {
    if (typeof net?.name === "string" && !net.external && !net.name.endsWith(`_${key}`)) {
      notes.push(
        `Network "${key}" has the fixed name "${net.name}": each sandbox gets its own; list it in ` +
          "[sandbox.networks] include to share it between sandboxes on purpose.",
      );
    }
  }
  return notes;
}

const q = (s: string) => JSON.stringify(s);
const list = (items: string[]) => `[${items.map(q).join(", ")}]`;

function renderInfraToml(
  answers: InitAnswers,
  ports: Record<string, PortSetting>,
  sandbox: boolean,
  healthPortVar?: string,
): string {
  const lines = [
    "# kinfra project configuration (written by `kinfra init`; commit it).",
    "[project]",
    `name = ${q(answers.name)}`,
    `prefix = ${
      q(answers.prefix)
    }  # worktrees: <prefix>-spec-<feature>, <prefix>-impl-<feature>-<milestone>`,
  ];
  if (!sandbox || !answers.composeFile) return lines.join("\n") + "\n";
  const targets = answers.codeTargets ?? [];
  lines.push("", "[sandbox]", `compose_file = ${q(answers.composeFile)}`);
  if (answers.healthEndpoint) {
    lines.push(
      "",
      "[sandbox.health]",
      `endpoint = ${q(answers.healthEndpoint)}`,
      `port_var = ${q(healthPortVar ?? "")}`,
      "timeout = 60",
    );
  }
  lines.push("", "[sandbox.ports]                      # variable = base port; slot n uses base + n");
  if (Object.values(ports).some((p) => typeof p !== "number")) {
    lines.push("# a range { base, width } gives slot n VAR = base + n·width and VAR_END = VAR + width − 1");
  }
  for (const [variable, port] of Object.entries(ports)) {
    lines.push(
      `${variable} = ${typeof port === "number" ? port : `{ base = ${port.base}, width = ${port.width} }`}`,
    );
  }
  lines.push(
    "",
    "[sandbox.mounts]                     # host:container[:ro], host side relative to the worktree",
    `code = ${list(answers.mounts)}`,
    `code_targets = ${list(targets)}`,
  );
  return lines.join("\n") + "\n";
}
