/**
 * The pure part of `kinfra init`: from the answers and the compose file, the infra.toml text and
 * the parameterized compose text. No prompts and no I/O here, so it is tested without a terminal.
 */
import { analyzeCompose, type ComposeInfo, lineDiff, parameterize } from "./compose_file.ts";
import { parseMount } from "./config/mounts.ts";
import { PORT_VAR } from "./config/schema.ts";

export interface InitAnswers {
  name: string;
  prefix: string;
  /** Relative to the project root; undefined for a worktree-only project. */
  composeFile?: string;
  /** Ports (by index into the analysis) to parameterize; default all. */
  ports?: number[];
  healthEndpoint?: string;
  healthPortVar?: string;
  mounts: string[];
  codeTargets?: string[];
}

export interface InitPlan {
  infraToml: string;
  compose?: { path: string; before: string; after: string; diff: string[] };
  ports: Record<string, number>;
  warnings: string[];
}

/** The variable for a port: `<PREFIX>_<SERVICE>_PORT`, with the container port added for a service's later ports. */
export function portVariable(prefix: string, service: string, target: string, taken: Set<string>): string {
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  let name = `${clean(prefix)}_${clean(service)}_PORT`;
  if (!PORT_VAR.test(name)) name = `_${name}`;
  if (taken.has(name)) name = `${name}_${clean(target.split("/")[0])}`;
  for (let i = 2; taken.has(name); i++) name = `${name}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Builds the plan: which variables, the compose edit and infra.toml.
 *
 * @example
 * const plan = planInit({ name: "shop", prefix: "shop", composeFile: "compose.yml", mounts: [] }, text);
 */
export function planInit(answers: InitAnswers, composeText?: string): InitPlan {
  const warnings: string[] = [];
  const ports: Record<string, number> = {};
  let compose: InitPlan["compose"];
  let info: ComposeInfo | undefined;
  if (answers.composeFile && composeText !== undefined) {
    info = analyzeCompose(composeText, answers.composeFile);
    const taken = new Set(info.ports.flatMap((p) => p.variable ? [p.variable] : []));
    const chosen = answers.ports ?? info.ports.map((_, i) => i);
    const edits = info.ports.flatMap((port, i) => {
      if (!chosen.includes(i)) return [];
      const variable = port.variable ?? portVariable(answers.prefix, port.service, port.target, taken);
      ports[variable] = port.published;
      return port.variable ? [] : [{ port, variable }];
    });
    const after = parameterize(composeText, edits);
    compose = { path: answers.composeFile, before: composeText, after, diff: lineDiff(composeText, after) };
    warnings.push(...info.skipped.map((s) => `Port left as is: ${s}.`));
    if (info.networks.length) {
      warnings.push(
        `The compose file uses custom networks (${info.networks.join(", ")}); they are listed in ` +
          `[sandbox.networks] include so sandboxes keep them (GAP-18).`,
      );
    }
  }
  for (const mount of answers.mounts) {
    const parsed = parseMount(mount);
    if (typeof parsed === "string") throw new TypeError(`Mount "${mount}": ${parsed}`);
  }
  return { infraToml: renderInfraToml(answers, ports, info), compose, ports, warnings };
}

const q = (s: string) => JSON.stringify(s);
const list = (items: string[]) => `[${items.map(q).join(", ")}]`;

function renderInfraToml(answers: InitAnswers, ports: Record<string, number>, info?: ComposeInfo): string {
  const lines = [
    "# kinfra project configuration (written by `kinfra init`; commit it).",
    "[project]",
    `name = ${q(answers.name)}`,
    `prefix = ${
      q(answers.prefix)
    }  # worktrees: <prefix>-spec-<feature>, <prefix>-impl-<feature>-<milestone>`,
  ];
  if (!info || !answers.composeFile) return lines.join("\n") + "\n";
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
  for (const [variable, port] of Object.entries(ports)) lines.push(`${variable} = ${port}`);
  lines.push(
    "",
    "[sandbox.mounts]                     # host:container[:ro], host side relative to the worktree",
    `code = ${list(answers.mounts)}`,
    `code_targets = ${list(targets)}`,
  );
  if (info.networks.length) lines.push("", "[sandbox.networks]", `include = ${list(info.networks)}`);
  return lines.join("\n") + "\n";
}
