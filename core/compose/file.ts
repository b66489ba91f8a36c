/**
 * Where a project's published ports are written: every `ports` entry of the compose file and of the
 * files it reaches through `extends` and `include`, wherever it sits — a service, an `x-` anchor
 * merged with `<<`, a list shared with `ports: *p`. Each entry keeps its source offsets, so a
 * rewrite changes that scalar's text and nothing else: comments, blank lines and key order stay.
 */
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { type AliasTargets, aliasTargets, documentSize, duplicateKey, toPlain } from "./yaml_plain.ts";
import { usageError } from "../errors.ts";
import { lineIndex } from "../text/line_index.ts";
import { containerTarget, parseHostPorts, parseShortPort } from "./port_spec.ts";
import { portRender, type PortSource } from "./sources.ts";

// Kept here too for the code that reads compose files with their YAML (init, the large-file tests).
export {
  COMPOSE_NAMES,
  type ComposeSources,
  findComposeFile,
  hostVariables,
  MAX_ALIASES,
  type PortSource,
} from "./sources.ts";

/** Aliases may grow a document to this many nodes, or ten times its written size if that is more. */
export const MAX_EXPANDED_NODES = 1_000_000;

export interface ParsedCompose {
  doc: Doc;
  /** Every alias's anchor (see yaml_plain.ts: resolving them one by one is quadratic). */
  targets: AliasTargets;
  /** The file as plain data, aliases and merge keys applied. */
  value: Record<string, unknown>;
}

/** Parses compose YAML into its AST, with syntax errors as usage errors naming line and column. */
export function parseComposeText(text: string, path: string): ParsedCompose {
  const doc = parseDocument(text, { keepSourceTokens: true, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw usageError(
      `${path}:${e.linePos?.[0].line}:${e.linePos?.[0].col}: YAML syntax error: ${e.message.split("\n")[0]}`,
    );
  }
  const duplicate = duplicateKey(doc.contents);
  if (duplicate) {
    throw usageError(
      `${path}:${lineIndex(text)(duplicate.range?.[0] ?? 0)}: YAML syntax error: Map keys must be unique ` +
        `(${JSON.stringify(String((duplicate as Scalar).value))} is written twice).`,
    );
  }
  const targets = aliasTargets(doc.contents);
  for (const [alias, target] of targets) {
    if (target) continue;
    const source = (alias as Alias).source;
    throw usageError(
      `${path}:${
        lineIndex(text)(alias.range?.[0] ?? 0)
      }: YAML alias *${source} names no anchor &${source} before it.`,
      "Define the anchor (&name) above its first use.",
    );
  }
  const { written, expanded } = documentSize(doc.contents, targets);
  const limit = Math.max(MAX_EXPANDED_NODES, 10 * written);
  if (expanded > limit) {
    throw usageError(
      `${path}: its YAML aliases expand to more than ${limit} nodes (${written} written), which is how a ` +
        '"billion laughs" document exhausts memory; kinfra does not read it.',
      "Real compose files stay far below this; check the anchors (&name) and aliases (*name) in the file.",
    );
  }
  const plain = toPlain(doc.contents, targets);
  const value = plain !== null && typeof plain === "object" && !Array.isArray(plain)
    ? plain as Record<string, unknown>
    : {};
  if (!isMap(doc.get("services")) && !doc.has("include")) {
    throw usageError(`${path} has no "services" mapping.`, "Is this a Docker Compose file?");
  }
  return { doc, targets, value };
}

type Doc = ReturnType<typeof parseDocument>;

/**
 * One compose file's text as plain data and its published port entries (core/compose/scan.ts caches
 * this by text). Syntax errors, duplicate keys and alias bombs are usage errors, as in parseComposeText.
 */
export function readPorts(
  text: string,
  path: string,
): { value: Record<string, unknown>; ports: PortSource[] } {
  const parsed = parseComposeText(text, path);
  return { value: parsed.value, ports: portsIn(parsed, path, text) };
}

/** Every entry of every `ports` list in the document, following aliases to the lists they share. */
function portsIn({ doc, targets }: ParsedCompose, file: string, text: string): PortSource[] {
  const found: PortSource[] = [];
  const seen = new Set<Node>();
  const lineOf = lineIndex(text);
  const resolve = (node: unknown) => (isAlias(node) ? targets.get(node) : node) as Node | undefined;

  const visit = (node: Node | undefined, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = String((pair.key as Scalar)?.value);
        const value = pair.value as Node | undefined;
        if (key === "ports") {
          const list = resolve(value);
          const via = isAlias(value) ? ` (*${value.source})` : "";
          if (isSeq(list) && !seen.has(list)) {
            seen.add(list);
            list.items.forEach((item, i) => {
              const entry = readEntry(resolve(item), [...path, `ports${via}[${i}]`]);
              if (entry) found.push({ ...entry, file, line: lineOf(entry.range[0]) });
            });
          }
        } else if (!isAlias(value)) visit(value, [...path, key]);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => visit(item as Node, [...path, `[${i}]`]));
  };

  const readEntry = (node: Node | undefined, path: string[]) => {
    const at = (
      scalar: Scalar,
      fields: Pick<PortSource, "text" | "form" | "host" | "container" | "containerVariable" | "protocol">,
    ) => ({
      ...fields,
      render: portRender(fields.form, fields.text),
      where: path.join(".").replaceAll(".[", "["),
      service: path[0] === "services" && path.length === 3 ? path[1] : undefined,
      range: [scalar.range![0], scalar.range![1]] as [number, number],
    });
    if (isScalar(node) && node.range) {
      const text = String(node.value);
      const parsed = parseShortPort(text);
      if (typeof parsed === "string") {
        return at(node, { text, form: "short", host: parsed, container: "", protocol: "tcp" });
      }
      return at(node, {
        text,
        host: parsed.host,
        container: containerTarget(parsed),
        containerVariable: parsed.containerVariable,
        protocol: parsed.protocol,
        form: "short",
      });
    }
    const published = isMap(node) ? node.get("published", true) as Scalar | undefined : undefined;
    if (!published?.range) return undefined;
    const text = String(published.value);
    return at(published, {
      text,
      host: text === "" ? undefined : parseHostPorts(text),
      container: String((node as YAMLMap).get("target")),
      protocol: String((node as YAMLMap).get("protocol") ?? "tcp"),
      form: "long",
    });
  };
  visit(doc.contents as Node, []);
  return found;
}

/** Applies replacements (source offsets → new scalar text) to one file's text, last first. */
export function applyEdits(text: string, edits: { range: [number, number]; text: string }[]): string {
  // Pieces joined once: slicing the whole text per edit is quadratic in a large file.
  const pieces: string[] = [];
  let at = 0;
  for (const edit of edits.toSorted((a, b) => a.range[0] - b.range[0])) {
    pieces.push(text.slice(at, edit.range[0]), edit.text);
    at = edit.range[1];
  }
  pieces.push(text.slice(at));
  return pieces.join("");
}

/** A minimal line diff (changed lines only) for showing an edit before it is written. */
export function lineDiff(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const lines: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) lines.push(`${i + 1} - ${a[i]}`);
    if (b[i] !== undefined) lines.push(`${i + 1} + ${b[i]}`);
  }
  return lines;
}
