/**
 * A content-addressed cache of resolved compose models. `compose config` is deterministic in its
 * inputs, and Compose v1 (Python) takes ~0.5 s to start, twice per `impl`; so its output is kept
 * under the sha256 of everything it reads: the compose program, every compose file reached through
 * `extends`/`include`, `.env` and each `env_file`, the values of every variable those files name
 * and of `COMPOSE_*`, the slot's variables and its project name. Paths inside the checkout are
 * stored relative to it (the same project in another worktree is the same model), so the key has
 * the checkout's parent instead: `../x` resolves the same only beside the same parent. A slot seen
 * for the first time is derived from the project's proven template (its values swapped in) once
 * two slots showed that swapping them gives exactly what Compose prints.
 */
import { dirname, join } from "../io/path.ts";
import type { ComposeTool } from "./tool.ts";
import type { ComposeSources } from "./file.ts";
import { type ComposeModel, modelOf } from "./model.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { whichPath } from "../io/exec.ts";
import { sha256Hex } from "../io/hash.ts";
import { prune } from "../io/home.ts";

export interface ModelInputs {
  /** The checkout (worktree or project root) the compose file is read from. */
  root: string;
  /** The compose file, relative to `root`. */
  file: string;
  sources: ComposeSources;
  /** kinfra's variables (they win over everything else). */
  env: Record<string, string>;
  project?: string;
  environment: { get(key: string): string | undefined; toObject?(): Record<string, string> };
}

const PLACEHOLDER = "\u0000kinfra-checkout\u0000";
const VARIABLE = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;
/** How kinfra asks Compose for a model (resolveCompose's arguments): a change makes old entries stale. */
const MODEL_FORMAT = 2;
/** Keep the directory small: past this many models, the older half goes. */
const MAX_ENTRIES = 256;

/**
 * The key of a model, or undefined when an input lies outside the checkout (then nothing is cached).
 * With `anySlot`, the slot's values and project name are left out: the key of the project's template.
 */
async function modelKey(
  tool: ComposeTool,
  inputs: ModelInputs,
  anySlot = false,
): Promise<string | undefined> {
  if (inputs.sources.outside.length) return undefined;
  const texts: [string, string][] = Object.entries(inputs.sources.files).sort();
  for (const name of [join(dirname(inputs.file), ".env"), ...envFiles(inputs.sources)]) {
    texts.push([name, await Deno.readTextFile(join(inputs.root, name)).catch(() => "\0missing")]);
  }
  const names = new Set(texts.flatMap(([, t]) => [...t.matchAll(VARIABLE)].map((m) => m[1])));
  const all = inputs.environment.toObject?.() ?? {};
  for (const name of Object.keys(all)) if (name.startsWith("COMPOSE_")) names.add(name);
  const slotValue = (n: string) => anySlot ? n in inputs.env ? "\0slot" : undefined : inputs.env[n];
  const variables = [...names].sort().map((n) => [n, slotValue(n) ?? inputs.environment.get(n) ?? null]);
  const program = tool.flavour === "v2" ? undefined : await whichPath(tool.argv[0]);
  return await sha256Hex(JSON.stringify({
    format: MODEL_FORMAT,
    tool: [tool.argv, tool.version, program?.path, program?.info.mtime?.getTime(), program?.info.size],
    parent: dirname(inputs.root),
    file: inputs.file,
    project: anySlot && inputs.project !== undefined
      ? "\0slot"
      : inputs.project ?? dirname(join(inputs.root, inputs.file)),
    slot: anySlot ? Object.keys(inputs.env).sort() : undefined,
    texts,
    variables,
  }));
}

/** Every `env_file` the compose files name, relative to the checkout (each is read by Compose). */
function envFiles(sources: ComposeSources): string[] {
  const names: string[] = [];
  const add = (from: string, value: unknown) => {
    for (const item of [value].flat()) {
      const path = typeof item === "string" ? item : (item as { path?: unknown } | null)?.path;
      if (typeof path === "string") names.push(join(dirname(from), path));
    }
  };
  // The scan's plain values: parsing each file again here was the slowest part of a large file.
  for (const [name, doc] of Object.entries(sources.values)) {
    for (const service of Object.values((doc?.services ?? {}) as Record<string, { env_file?: unknown }>)) {
      add(name, service?.env_file);
    }
    for (const item of [doc?.include ?? []].flat()) {
      const { env_file, project_directory } = (item ?? {}) as Record<string, unknown>;
      if (env_file !== undefined || project_directory !== undefined) throw new Error("not cached");
    }
  }
  return names;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** `text` with every path under `from` (a whole path segment) rewritten to start with `to`. */
const relocate = (text: string, from: string, to: string) =>
  text.replace(new RegExp(`${escapeRegExp(from)}(?=[/:"\\\\]|$)`, "g"), to);
const jsonString = (s: string) => JSON.stringify(s).slice(1, -1);

/**
 * The model from the cache, or from `resolve` (then stored). Only what `resolve` returned
 * successfully is stored, so Compose's own errors are always reported. A slot not seen before is
 * derived from the project's template when there is a proven one (see `Template`).
 */
export async function cachedModel(
  cacheDir: string,
  tool: ComposeTool,
  inputs: ModelInputs,
  resolve: () => Promise<ComposeModel>,
): Promise<ComposeModel> {
  const [key, templateKey] = await Promise.all([
    modelKey(tool, inputs).catch(() => undefined),
    modelKey(tool, inputs, true).catch(() => undefined),
  ]);
  if (!key || !templateKey) return await resolve();
  const dir = join(cacheDir, "models");
  const file = join(dir, `${key.slice(0, 40)}.json`);
  const root = jsonString(inputs.root);
  const load = (text: string) => modelOf(JSON.parse(text.replaceAll(jsonString(PLACEHOLDER), root)));
  try {
    return load(await Deno.readTextFile(file));
  } catch { /* not cached yet */ }
  const templateFile = join(dir, `t-${templateKey.slice(0, 40)}.json`);
  const template = await readJson<Template>(templateFile);
  const values = slotValues(inputs);
  let text = template?.proven && values ? substitute(template.text, template.values, values) : undefined;
  if (text === undefined) {
    text = relocate(JSON.stringify((await resolve()).doc), root, jsonString(PLACEHOLDER));
    const next = values && nextTemplate(template, values, text);
    if (next) await writeFileAtomic(templateFile, JSON.stringify(next));
  }
  await writeFileAtomic(file, text);
  await prune(dir, MAX_ENTRIES).catch(() => {});
  return load(text);
}

/**
 * A project's model as one slot resolved it, and the slot's values (ports, project name). Once a
 * second slot's model came out exactly as the first's with the values swapped, the template is
 * `proven`, and further slots are derived from it without asking Compose.
 */
interface Template {
  values: string[];
  text: string;
  proven: boolean;
}

/** The slot's values, in key order, or undefined when two are equal (a swap would be ambiguous). */
function slotValues(inputs: ModelInputs): string[] | undefined {
  const values = [
    ...Object.keys(inputs.env).sort().map((k) => inputs.env[k]),
    ...(inputs.project === undefined ? [] : [inputs.project]),
  ];
  return new Set(values).size === values.length && values.every((v) => v !== "") ? values : undefined;
}

/** The template after a resolve: the first model seen, then proven (or dropped) by the next slot's. */
function nextTemplate(template: Template | undefined, values: string[], text: string): Template | undefined {
  if (!template) return { values, text, proven: false };
  if (template.proven || !template.values.length || template.values.some((v, i) => v === values[i])) {
    return undefined;
  }
  const proven = substitute(template.text, template.values, values) === text;
  return proven ? { values, text, proven } : { values: [], text: "", proven: false };
}

/** `text` with each of `from` (a whole word) replaced by the same position of `to`, in one pass. */
function substitute(text: string, from: string[], to: string[]): string | undefined {
  if (from.length !== to.length || !from.length) return undefined;
  const words = new RegExp(`(?<![A-Za-z0-9])(${from.map(escapeRegExp).join("|")})(?![A-Za-z0-9])`, "g");
  return text.replace(words, (word) => to[from.indexOf(word)]);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(file)) as T;
  } catch {
    return undefined;
  }
}
