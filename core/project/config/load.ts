/**
 * Reads and validates infra.toml and config.toml. Every problem becomes a usage error (exit 2)
 * that names the key path, the bad value and what is allowed; TOML syntax errors carry line and
 * column; unknown keys get a "did you mean" hint.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { configError } from "../../errors.ts";
import type { HomePaths } from "../../io/home.ts";
import { closest } from "../../text/closest.ts";
import { GlobalConfig, InfraConfig } from "./schema.ts";
import { portProblem } from "./port_rules.ts";

/**
 * Parses infra.toml text. `maxSlots` is needed for the rule `base + slots.max ≤ 65535`.
 *
 * @example
 * const config = parseInfraConfig(text, "/p/.devops-ai/infra.toml", 20);
 */
export function parseInfraConfig(text: string, path: string, maxSlots: number): InfraConfig {
  const config = validate(InfraConfig, parseTomlText(text, path), path);
  const problem = portProblem(config.sandbox?.ports ?? {}, maxSlots);
  if (problem) throw configError(`${path}: sandbox.ports.${problem.key}: ${problem.text}`, problem.hint);
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

/** Far deeper than any kinfra or plugin setting; deeper tables would overflow the stack further on. */
const MAX_DEPTH = 32;

function parseTomlText(text: string, path: string): unknown {
  try {
    const data = parseToml(text);
    const deep = deepestKey(data);
    if (deep.length > MAX_DEPTH) {
      throw configError(
        `${path}: tables nest ${deep.length}+ levels deep under "${
          keyPath(deep.slice(0, 3))
        }…" (at most ${MAX_DEPTH}).`,
        "Flatten that table: no kinfra or plugin setting nests that deep.",
      );
    }
    return data;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw configError(
        `${path}:${e.line}:${e.column}: TOML syntax error: ${reason}.`,
        "Fix the syntax at that line and column.",
        e.message.split("\n").slice(1).filter((l) => l.trim()),
      );
    }
    throw e;
  }
}

/** The key path of the first value nested deeper than MAX_DEPTH (walked without recursion), else []. */
function deepestKey(data: unknown): PropertyKey[] {
  const stack: [unknown, PropertyKey[]][] = [[data, []]];
  while (stack.length) {
    const [node, path] = stack.pop()!;
    if (path.length > MAX_DEPTH) return path;
    if (node === null || typeof node !== "object" || node instanceof Date) continue;
    for (const [key, value] of Object.entries(node)) {
      stack.push([value, [...path, Array.isArray(node) ? Number(key) : key]]);
    }
  }
  return [];
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
  throw configError(`${path}: ${first.text}`, first.hint ?? "Fix the value and run the command again.", [
    // A file of thousands of bad keys would print thousands of lines: the first few make the point.
    ...rest.slice(0, MAX_DETAILS).map((p) => p.text + (p.hint ? ` (${p.hint})` : "")),
    ...(rest.length > MAX_DETAILS ? [`… and ${rest.length - MAX_DETAILS} more problems.`] : []),
  ]);
}

const MAX_DETAILS = 10;

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
  const shown = shownValue(value);
  // A record key's own rule (zod says only "Invalid key in record") is in the nested issue.
  const why = issue.code === "invalid_type"
    ? `expected ${typeName(issue.expected)}`
    : issue.code === "invalid_key"
    ? `${issue.issues[0]?.message ?? issue.message}${lookalikes(String(issue.path.at(-1)))}`
    : issue.message;
  return [{ text: `${key} = ${shown}: ${why}.` }];
}

/** A value as TOML wrote it: `nan`, `inf`, a date as its text, a string quoted with escapes visible. */
function shownValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }
  if (value instanceof Date) return `${value.toISOString()} (a date)`;
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "a table";
  return JSON.stringify(value).replace(
    /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `sandbox.mounts.code[0]` style paths; a key that is not a bare TOML key is quoted, escapes visible. */
function keyPath(path: PropertyKey[]): string {
  return path.map((k, i) => {
    if (typeof k === "number") return `[${k}]`;
    const key = /^[A-Za-z0-9_-]+$/.test(String(k)) ? String(k) : shownValue(String(k));
    return (i ? "." : "") + key;
  }).join("");
}

/** Names the characters of a key that only look like ASCII (a Cyrillic "О" in WEB_PОRT). */
function lookalikes(key: string): string {
  const odd = [...new Set([...key].filter((c) => c > "\x7f"))];
  return odd.length
    ? ` (it contains ${
      odd.map((c) => `"${c}" U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(", ")
    }, not ASCII)`
    : "";
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
