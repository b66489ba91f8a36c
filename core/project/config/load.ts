/**
 * Reads and validates infra.toml and config.toml. Every problem becomes a usage error (exit 2)
 * that names the key path, the bad value and what is allowed; TOML syntax errors carry line and
 * column; unknown keys get a "did you mean" hint.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { usageError } from "../../errors.ts";
import type { HomePaths } from "../../io/home.ts";
import { closest } from "../../text/closest.ts";
import { GlobalConfig, InfraConfig } from "./schema.ts";
import { lastPort, portSpans } from "../../slots/ports.ts";

/**
 * Parses infra.toml text. `maxSlots` is needed for the rule `base + slots.max ≤ 65535`.
 *
 * @example
 * const config = parseInfraConfig(text, "/p/.devops-ai/infra.toml", 20);
 */
export function parseInfraConfig(text: string, path: string, maxSlots: number): InfraConfig {
  const config = validate(InfraConfig, parseTomlText(text, path), path);
  for (const [name, span] of Object.entries(portSpans(config.sandbox?.ports ?? {}))) {
    const { base, width } = span;
    if (lastPort(span, maxSlots) > 65535) {
      const used = width > 1
        ? `${maxSlots + 1} ranges of ${width} ports from ${base}`
        : `${base} + ${maxSlots}`;
      throw usageError(
        `${path}: sandbox.ports.${name}: base + slots.max (${used}) exceeds 65535.`,
        `Choose a base port of at most ${
          65536 - (maxSlots + 1) * width
        }, or lower [slots] max in the global config.`,
      );
    }
  }
  return config;
}

/** Reads the optional global config; a missing file gives the defaults. */
export async function loadGlobalConfig(home: HomePaths): Promise<GlobalConfig> {
  let text = "";
  try {
    text = await Deno.readTextFile(home.config);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return validate(GlobalConfig, parseTomlText(text, home.config), home.config);
}

function parseTomlText(text: string, path: string): unknown {
  try {
    return parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw usageError(
        `${path}:${e.line}:${e.column}: TOML syntax error: ${reason}.`,
        "Fix the syntax at that line and column.",
        e.message.split("\n").slice(1).filter((l) => l.trim()),
      );
    }
    throw e;
  }
}

function validate<S extends z.ZodType>(schema: S, data: unknown, path: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  // Unknown keys first: a misspelt table name explains the "missing" errors that follow from it.
  const issues = result.error.issues.toSorted((a, b) =>
    Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys")
  );
  const problems = issues.flatMap((issue) => describeIssue(issue, data, schema));
  const [first, ...rest] = problems;
  throw usageError(`${path}: ${first.text}`, first.hint ?? "Fix the value and run the command again.", [
    ...rest.map((p) => p.text + (p.hint ? ` (${p.hint})` : "")),
  ]);
}

interface Problem {
  text: string;
  hint?: string;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, schema: z.ZodType): Problem[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(schema, path);
    return issue.keys.map((key) => {
      const full = keyPath([...issue.path, key]);
      const guess = closest(key, known);
      return {
        text: `unknown key "${full}".`,
        hint: guess
          ? `Did you mean "${[...path, guess].join(".")}"?`
          : `Allowed keys here: ${known.join(", ") || "none"}.`,
      };
    });
  }
  const key = keyPath(issue.path) || "(top level)";
  const value = valueAt(data, path);
  if (value === undefined) return [{ text: `${key} is required but missing.`, hint: hintFor(issue) }];
  const shown = typeof value === "object"
    ? (Array.isArray(value) ? "an array" : "a table")
    : JSON.stringify(value);
  // A record key's own rule (zod says only "Invalid key in record") is in the nested issue.
  const why = issue.code === "invalid_type"
    ? `expected ${typeName(issue.expected)}`
    : issue.code === "invalid_key"
    ? issue.issues[0]?.message ?? issue.message
    : issue.message;
  return [{ text: `${key} = ${shown}: ${why}.` }];
}

/** `sandbox.mounts.code[0]` style paths. */
function keyPath(path: PropertyKey[]): string {
  return path.map((k, i) => typeof k === "number" ? `[${k}]` : (i ? "." : "") + String(k)).join("");
}

function hintFor(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === "invalid_type" ? `Add ${typeName(issue.expected)} for it.` : undefined;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    object: "a table",
    array: "an array",
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    record: "a table",
  };
  return names[expected] ?? expected;
}

function valueAt(data: unknown, path: string[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The keys a strict object in `schema` allows at `path`, found by walking zod's definitions. */
function knownKeys(schema: z.ZodType, path: string[]): string[] {
  // deno-lint-ignore no-explicit-any
  let def: any = schema._zod.def;
  const unwrap = () => {
    while (["optional", "default", "prefault", "nullable", "pipe", "union"].includes(def.type)) {
      def = def.type === "union"
        ? (def.options.find((o: z.ZodType) => o._zod.def.type === "object") ?? def.options[0])._zod.def
        : (def.innerType ?? def.in)._zod.def;
    }
  };
  for (const key of path) {
    unwrap();
    if (def.type === "object" && def.shape[key]) def = def.shape[key]._zod.def;
    else if (def.type === "object" && def.catchall) def = def.catchall._zod.def;
    else if (def.type === "record") def = def.valueType._zod.def;
    else return [];
  }
  unwrap();
  return def.type === "object" ? Object.keys(def.shape) : [];
}
