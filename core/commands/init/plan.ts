/**
 * The pure part of `kinfra init`: from the answers, the compose sources and Compose's resolved
 * model, the infra.toml text and the rewritten compose files. Every host port the model publishes
 * is traced to the entry that writes it — in the service, an anchor, an extended or included file —
 * and rewritten there; a port already written as a variable is adopted as it is; what cannot be
 * placed is reported with where to look. No prompts and no I/O here.
 */
import { applyEdits, type ComposeSources, lineDiff, type PortSource } from "../../compose/file.ts";
import { type ComposeModel, type ModelPort, sourceFinder } from "../../compose/model.ts";
import { parseMount } from "../../project/config/mounts.ts";
import { PORT_VAR } from "../../project/config/schema.ts";
import { renderHost } from "../../compose/port_spec.ts";
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

/** A published port init can give each slot its own value for. */
export interface PortChoice {
  source: PortSource;
  /** The services publishing through this entry (an anchor may serve several). */
  services: string[];
  base: number;
  width: number;
  /** The project's own variable, adopted as it is (no rewrite). */
  adopt?: string;
}

export interface PortAnalysis {
  choices: PortChoice[];
  services: string[];
  /** Services a code mount likely belongs in: the ones built from the project (`build:`). */
  built: string[];
  warnings: string[];
  /** Published ports kinfra cannot make slot-specific: where they are and what to do. */
  problems: string[];
}

export interface InitPlan {
  infraToml: string;
  /** Each compose file that changes. */
  files: { path: string; before: string; after: string; diff: string[] }[];
  ports: Record<string, PortSetting>;
  warnings: string[];
  /** What init decided that needs no action (adopted variables). */
  notes: string[];
  problems: string[];
}

/** The variable for a port: `<PREFIX>_<SERVICE>_PORT`, with the container port added for a service's later ports. */
export function portVariable(prefix: string, service: string, target: string, taken: Set<string>): string {
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  let name = `${clean(prefix)}_${clean(service)}_PORT`;
  if (!PORT_VAR.test(name)) name = `_${name}`;
  if (taken.has(name)) name = `${name}_${clean(target.split(/[-/]/)[0])}`;
  const stem = name;
  for (let i = 2; taken.has(name); i++) name = `${stem}_${i}`;
  taken.add(name);
  return name;
}

const at = (s: PortSource) => `${s.file}:${s.line} (${s.where}: "${s.text}")`;

/**
 * Traces every host port of the model to its entry.
 *
 * @example
 * analyzePorts(await scanCompose(root, "compose.yml"), model).choices[0]; // { source, services: ["api"], base: 8080, width: 1 }
 */
export function analyzePorts(sources: ComposeSources, model: ComposeModel): PortAnalysis {
  const bodies = (model.doc.services ?? {}) as Record<string, Record<string, unknown> | null>;
  const built = model.services.filter((s) => bodies[s]?.build !== undefined);
  const analysis: PortAnalysis = { choices: [], services: model.services, built, warnings: [], problems: [] };
  const groups = new Map<PortSource, ModelPort[]>();
  for (const service of model.hostNetwork) {
    analysis.warnings.push(
      `Service "${service}" uses network_mode: host, so its ports are the host's: they cannot be isolated ` +
        "per sandbox, and two sandboxes running it will collide.",
    );
  }
  const find = sourceFinder(sources.ports);
  const hostNetwork = new Set(model.hostNetwork);
  for (const port of model.ports) {
    if (hostNetwork.has(port.service)) continue;
    const source = find(port);
    if (source) groups.get(source)?.push(port) ?? groups.set(source, [port]);
    else analysis.problems.push(unplaced(port, sources));
  }
  const adopted = new Set<string>();
  for (const [source, ports] of groups) {
    const host = source.host as Exclude<PortSource["host"], string | undefined>;
    const published = ports.map((p) => p.published);
    const [base, width] = [Math.min(...published), Math.max(...published) - Math.min(...published) + 1];
    const services = [...new Set(ports.map((p) => p.service))];
    if ("port" in host.start) {
      if (host.end && !("port" in host.end)) {
        analysis.problems.push(
          `${at(source)}: a range from a number to a variable; write both ends as numbers.`,
        );
      } else {
        const end = host.end && "port" in host.end ? host.end.port : host.start.port;
        analysis.choices.push({ source, services, base: host.start.port, width: end - host.start.port + 1 });
      }
      continue;
    }
    const variable = host.start.variable;
    if (host.end && !("variable" in host.end && host.end.variable === `${variable}_END`)) {
      analysis.warnings.push(
        `Port left as is: ${
          at(source)
        } is a range whose ends are not \${${variable}} and \${${variable}_END}; ` +
          `write it as "\${${variable}:-${base}}-\${${variable}_END:-${
            base + width - 1
          }}:…" to give each sandbox its own.`,
      );
    } else if (!adopted.has(variable)) {
      adopted.add(variable);
      analysis.choices.push({ source, services, base, width: host.end ? width : 1, adopt: variable });
    }
  }
  for (const source of sources.ports) {
    if (typeof source.host === "string") {
      analysis.warnings.push(`Port left as is: ${at(source)}: ${source.host}.`);
    }
  }
  return analysis;
}

function unplaced(port: ModelPort, sources: ComposeSources): string {
  const outside = sources.outside.length
    ? ` It may come from ${sources.outside.join(", ")}, outside the project: parameterize it there.`
    : "";
  return `${port.service} publishes host port ${port.published} (→ ${port.target}/${port.protocol}), but no ` +
    `ports entry in ${Object.keys(sources.files).join(", ")} gives it.${outside} Write it as ` +
    `"\${VAR:-${port.published}}:${port.target}" where it is defined and add VAR to [sandbox.ports].`;
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
    analysis.choices.forEach((choice, i) => {
      if (answers.ports && !answers.ports.includes(i)) return;
      const { source, base, width } = choice;
      const variable = choice.adopt ??
        portVariable(answers.prefix, choice.services[0] ?? source.where, source.container, taken);
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
  plan.infraToml = renderInfraToml(answers, ports, Boolean(compose));
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

function renderInfraToml(answers: InitAnswers, ports: Record<string, PortSetting>, sandbox: boolean): string {
  const lines = [
    "# kinfra project configuration (written by `kinfra init`; commit it).",
    "[project]",
    `name = ${q(answers.name)}`,
    `prefix = ${
      q(answers.prefix)
    }  # worktrees: <prefix>-spec-<feature>, <prefix>-impl-<feature>-<milestone>`,
  ];
  if (!sandbox || !answers.composeFile) return lines.join("\n") + "\n";
  const portVars = Object.keys(ports);
  const targets = answers.codeTargets ?? [];
  lines.push("", "[sandbox]", `compose_file = ${q(answers.composeFile)}`);
  if (answers.healthEndpoint) {
    lines.push(
      "",
      "[sandbox.health]",
      `endpoint = ${q(answers.healthEndpoint)}`,
      `port_var = ${q(answers.healthPortVar ?? portVars[0] ?? "")}`,
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
