/**
 * The architecture, enforced: plugins import only the plugin API; the kernel never imports the CLI
 * or the commands; nothing in core/ imports plugins/ (main.ts wires them); no import cycles, type
 * and dynamic imports included; no source file over 300 lines.
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

const isKernel = (f: string) => f.startsWith("core/") && !/^core\/(cli|commands)\//.test(f);

/** The broken rules of an import graph, one line each. */
export function layerViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [file, imports] of Object.entries(graph)) {
    for (const target of imports) {
      if (file.startsWith("plugins/") && !target.startsWith("plugins/") && target !== API) {
        problems.push(`${file} imports ${target}: plugins import only ${API}`);
      }
      if (isKernel(file) && /^core\/(cli|commands)\//.test(target)) {
        problems.push(`${file} imports ${target}: the kernel never imports the CLI or a command`);
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
    "core/slots/slots.ts imports core/cli/report.ts: the kernel never imports the CLI or a command",
  ]);
  assert.deepEqual(layerViolations({ "core/cli/cli.ts": ["plugins/mod.ts"] }), [
    "core/cli/cli.ts imports plugins/mod.ts: core never imports plugins (main.ts wires them)",
  ]);
  assert.deepEqual(layerViolations({ "core/a.ts": ["core/b.ts"], "core/b.ts": ["core/a.ts"] }), [
    "import cycle: core/a.ts -> core/b.ts -> core/a.ts",
  ]);
  // Commands may use the CLI's helpers and the kernel; plugins may use their own files.
  assert.deepEqual(
    layerViolations({
      "core/commands/x.ts": ["core/cli/report.ts"],
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
