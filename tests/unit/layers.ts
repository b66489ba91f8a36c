/**
 * The architecture, enforced: core/ is a stack of layers read bottom-up (RANKS), and no file
 * imports a higher layer; plugins import only the plugin API; nothing in core/ imports plugins/
 * (main.ts wires them); no import cycles — type and dynamic imports included; no source file over
 * 300 lines.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), "../.."));
const API = "core/hooks/plugin_api.ts";

type Graph = Record<string, string[]>;

/** Every relative import of a file (static, type-only, re-export and dynamic), as repo paths. */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, join(ROOT, dirname(file), s)));
}

async function sourceGraph(): Promise<Graph> {
  const graph: Graph = {};
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts")) graph[path] = importsOf(path, await Deno.readTextFile(join(ROOT, path)));
    }
  };
  await walk("core");
  await walk("plugins");
  graph["main.ts"] = importsOf("main.ts", await Deno.readTextFile(join(ROOT, "main.ts")));
  return graph;
}

/**
 * The layers of core/, lowest first; a file may import its own layer and those below. The README's
 * Layout shows the same order.
 */
export const RANKS: string[][] = [
  ["core/errors.ts", "core/io/", "core/text/"], // errors, IO, value parsing and wording
  ["core/slots/"], // the registry, slot claims, ports, stale detection
  ["core/project/"], // project, config, names, git, worktrees
  ["core/compose/"], // which compose, compose files and models, port analysis
  ["core/hooks/"], // the plugin API, dispatcher, plugin inputs, external plugins
  ["core/context.ts"], // the Context interface
  ["core/sandbox/", "core/make_context.ts", "core/proxy/", "core/remote/"], // sandbox start/stop/repair, observability; wiring; the proxy process; remote hosts
  ["core/commands/"], // one file per command
  ["core/cli/"], // program table, argument parser, completions, reports
];

/** The layer of a core/ file, or undefined when it is in none. */
export function rankOf(file: string): number | undefined {
  const rank = RANKS.findIndex((layer) =>
    layer.some((p) => p.endsWith("/") ? file.startsWith(p) : file === p)
  );
  return rank < 0 ? undefined : rank;
}

/** The broken rules of an import graph, one line each. */
export function layerViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [file, imports] of Object.entries(graph)) {
    for (const target of imports) {
      if (file.startsWith("plugins/") && !target.startsWith("plugins/") && target !== API) {
        problems.push(`${file} imports ${target}: plugins import only ${API}`);
      }
      const [from, to] = [rankOf(file), rankOf(target)];
      if (file.startsWith("core/") && from === undefined) {
        problems.push(`${file} is in no layer: add its directory to RANKS (tests/unit/layers.ts)`);
      }
      if (from !== undefined && to !== undefined && to > from) {
        problems.push(`${file} imports ${target}: a layer never imports a higher one (${from} < ${to})`);
      }
      if (file.startsWith("core/") && target.startsWith("plugins/")) {
        problems.push(`${file} imports ${target}: core never imports plugins (main.ts wires them)`);
      }
    }
  }
  return [...problems, ...cycles(graph).map((c) => `import cycle: ${c.join(" -> ")}`)];
}

/** Each import cycle once, found by depth-first search. */
function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph[file] ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of Object.keys(graph).sort()) if (!state.has(file)) visit(file);
  return found;
}

Deno.test("the source tree keeps its layers and has no import cycles", async () => {
  assert.deepEqual(layerViolations(await sourceGraph()), []);
});

Deno.test("the layer check fails when a rule is broken", () => {
  assert.deepEqual(layerViolations({ "plugins/docker/mod.ts": ["core/sandbox/containers.ts"] }), [
    `plugins/docker/mod.ts imports core/sandbox/containers.ts: plugins import only ${API}`,
  ]);
  assert.deepEqual(layerViolations({ "core/slots/slots.ts": ["core/cli/report.ts"] }), [
    "core/slots/slots.ts imports core/cli/report.ts: a layer never imports a higher one (1 < 8)",
  ]);
  assert.deepEqual(layerViolations({ "core/project/worktrees.ts": ["core/hooks/plugin_api.ts"] }), [
    "core/project/worktrees.ts imports core/hooks/plugin_api.ts: a layer never imports a higher one (2 < 4)",
  ]);
  assert.deepEqual(layerViolations({ "core/elsewhere/x.ts": ["core/io/path.ts"] }), [
    "core/elsewhere/x.ts is in no layer: add its directory to RANKS (tests/unit/layers.ts)",
  ]);
  assert.deepEqual(layerViolations({ "core/cli/cli.ts": ["plugins/mod.ts"] }), [
    "core/cli/cli.ts imports plugins/mod.ts: core never imports plugins (main.ts wires them)",
  ]);
  assert.deepEqual(layerViolations({ "core/io/a.ts": ["core/io/b.ts"], "core/io/b.ts": ["core/io/a.ts"] }), [
    "import cycle: core/io/a.ts -> core/io/b.ts -> core/io/a.ts",
  ]);
  // Commands may use the CLI's helpers and the kernel; plugins may use their own files.
  assert.deepEqual(
    layerViolations({
      "core/commands/x.ts": ["core/slots/registry.ts", "core/commands/y.ts"],
      "plugins/a/mod.ts": ["plugins/a/b.ts", API],
    }),
    [],
  );
});

Deno.test("no source file is over 300 lines", async () => {
  const long: string[] = [];
  for (const file of Object.keys(await sourceGraph())) {
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n").length - 1;
    if (lines > 300) long.push(`${file}: ${lines} lines`);
  }
  assert.deepEqual(long, []);
});
