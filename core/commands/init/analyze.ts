/**
 * The analysis half of `kinfra init`: every host port Compose's model publishes, traced to the entry
 * that writes it, and what init can do with it — a port to parameterize, a variable to adopt, or
 * something to tell the user (where it comes from, why it cannot move, what to write). Pure.
 */
import type { ComposeSources, PortSource } from "../../compose/file.ts";
import { type ComposeModel, type ModelPort, sourceFinder } from "../../compose/model.ts";
import { sameVariableBothSides, unreadableOrigin } from "../../compose/port_origin.ts";

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
  /** Entries init must refuse (a config written from them would be refused): what and why. */
  refused: string[];
}

/** The widest range a sandbox gets its own copy of (infra.toml's `width` allows 2–1000). */
export const MAX_RANGE_WIDTH = 1000;

export const at = (s: PortSource) => `${s.file}:${s.line} (${s.where}: "${s.text}")`;

/**
 * Traces every host port of the model to its entry.
 *
 * @example
 * analyzePorts(await scanCompose(root, "compose.yml"), model).choices[0]; // { source, services: ["api"], base: 8080, width: 1 }
 */
export function analyzePorts(sources: ComposeSources, model: ComposeModel): PortAnalysis {
  const bodies = (model.doc.services ?? {}) as Record<string, Record<string, unknown> | null>;
  const built = model.services.filter((s) => bodies[s]?.build !== undefined);
  const analysis: PortAnalysis = {
    choices: [],
    services: model.services,
    built,
    warnings: [],
    problems: [],
    refused: [],
  };
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
        const fixedWidth = end - host.start.port + 1;
        if (fixedWidth > MAX_RANGE_WIDTH) analysis.refused.push(tooWide(source, host.start.port, end));
        else analysis.choices.push({ source, services, base: host.start.port, width: fixedWidth });
      }
      continue;
    }
    const variable = host.start.variable;
    const both = sameVariableBothSides(source);
    if (both) analysis.warnings.push(`Port left as is: ${both}.`);
    else if (host.end && !("variable" in host.end && host.end.variable === `${variable}_END`)) {
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
  const said = analysis.problems.join("\n");
  for (const source of sources.ports) {
    if (typeof source.host === "string" && !said.includes(at(source))) {
      analysis.warnings.push(`Port left as is: ${at(source)}: ${source.host}.`);
    }
  }
  return analysis;
}

function tooWide(source: PortSource, start: number, end: number): string {
  const middle = start + MAX_RANGE_WIDTH - 1;
  return `${at(source)} is a range of ${
    end - start + 1
  } ports; a sandbox gets its own copy of ranges of up ` +
    `to ${MAX_RANGE_WIDTH} ports. Narrow it, or split it into entries of at most ${MAX_RANGE_WIDTH} ` +
    `(e.g. "${start}-${middle}:…" and "${middle + 1}${
      end > middle + 1 ? `-${end}` : ""
    }:…"), then run kinfra init again.`;
}

function unplaced(port: ModelPort, sources: ComposeSources): string {
  const origin = unreadableOrigin(port, sources);
  if (origin) {
    return `${port.service} publishes host port ${port.published} (→ ${port.target}/${port.protocol})${origin}.`;
  }
  const outside = sources.outside.length
    ? ` It may come from ${sources.outside.join(", ")}, outside the project: parameterize it there.`
    : "";
  return `${port.service} publishes host port ${port.published} (→ ${port.target}/${port.protocol}), but no ` +
    `ports entry in ${Object.keys(sources.files).join(", ")} gives it.${outside} Write it as ` +
    `"\${VAR:-${port.published}}:${port.target}" where it is defined and add VAR to [sandbox.ports].`;
}
