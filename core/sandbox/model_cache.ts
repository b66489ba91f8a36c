/**
 * A content-addressed cache of resolved compose models. `compose config` is deterministic in its
 * inputs, and Compose v1 (Python) takes ~0.5 s to start, twice per `impl`; so its output is kept
 * under the sha256 of everything it reads: the compose program, every compose file reached through
 * `extends`/`include`, `.env` and each `env_file`, the values of every variable those files name
 * and of `COMPOSE_*`, the slot's variables and its project name. Paths inside the checkout are
 * stored relative to it (the same project in another worktree is the same model), so the key has
 * the checkout's parent instead: `../x` resolves the same only beside the same parent.
 */
import { dirname, join } from "../io/path.ts";
import type { ComposeTool } from "./compose.ts";
import { parse } from "yaml";
import { type ComposeSources, MAX_ALIASES } from "./compose_file.ts";
import { type ComposeModel, modelOf } from "./compose_model.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { whichPath } from "../io/exec.ts";
import { sha256Hex } from "../io/hash.ts";

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
/** Keep the directory small: past this many models, the older half goes. */
const MAX_ENTRIES = 256;

/** The key of a model, or undefined when an input lies outside the checkout (then nothing is cached). */
async function modelKey(tool: ComposeTool, inputs: ModelInputs): Promise<string | undefined> {
  if (inputs.sources.outside.length) return undefined;
  const texts: [string, string][] = Object.entries(inputs.sources.files).sort();
  for (const name of [join(dirname(inputs.file), ".env"), ...envFiles(inputs.sources)]) {
    texts.push([name, await Deno.readTextFile(join(inputs.root, name)).catch(() => "\0missing")]);
  }
  const names = new Set(texts.flatMap(([, t]) => [...t.matchAll(VARIABLE)].map((m) => m[1])));
  const all = inputs.environment.toObject?.() ?? {};
  for (const name of Object.keys(all)) if (name.startsWith("COMPOSE_")) names.add(name);
  const variables = [...names].sort().map((n) => [n, inputs.env[n] ?? inputs.environment.get(n) ?? null]);
  const program = tool.flavour === "v2" ? undefined : await whichPath(tool.argv[0]);
  return await sha256Hex(JSON.stringify({
    tool: [tool.argv, tool.version, program?.path, program?.info.mtime?.getTime(), program?.info.size],
    parent: dirname(inputs.root),
    file: inputs.file,
    project: inputs.project ?? dirname(join(inputs.root, inputs.file)),
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
  for (const [name, text] of Object.entries(sources.files)) {
    const doc = parse(text, { maxAliasCount: MAX_ALIASES }) as Record<string, unknown> | null;
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
 * successfully is stored, so Compose's own errors are always reported.
 */
export async function cachedModel(
  cacheDir: string,
  tool: ComposeTool,
  inputs: ModelInputs,
  resolve: () => Promise<ComposeModel>,
): Promise<ComposeModel> {
  const key = await modelKey(tool, inputs).catch(() => undefined);
  if (!key) return await resolve();
  const file = join(cacheDir, "models", `${key.slice(0, 40)}.json`);
  const root = jsonString(inputs.root);
  try {
    const stored = await Deno.readTextFile(file);
    return modelOf(JSON.parse(stored.replaceAll(jsonString(PLACEHOLDER), root)));
  } catch { /* not cached yet */ }
  const model = await resolve();
  await writeFileAtomic(file, relocate(JSON.stringify(model.doc), root, jsonString(PLACEHOLDER)));
  await prune(dirname(file)).catch(() => {});
  return model;
}

async function prune(dir: string): Promise<void> {
  const entries = await Array.fromAsync(Deno.readDir(dir));
  if (entries.length <= MAX_ENTRIES) return;
  const dated = await Promise.all(
    entries.map(async (e) => ({ path: join(dir, e.name), at: (await Deno.stat(join(dir, e.name))).mtime })),
  );
  dated.sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0));
  for (const old of dated.slice(0, dated.length / 2)) await Deno.remove(old.path).catch(() => {});
}
