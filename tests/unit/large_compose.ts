/**
 * A large compose file (thousands of services merged from anchors) is read in time linear in its
 * size. Asserted through operation counts, never timing: the `yaml` package's per-alias resolver
 * (which scans the document up to each alias) is never used, and tracing the model's ports to their
 * entries reads each entry a bounded number of times however many there are.
 */
import assert from "node:assert/strict";
import { Alias, parseDocument } from "yaml";
import { applyEdits, parseComposeText, type PortSource } from "../../core/compose/file.ts";
import { scanCompose } from "../../core/compose/scan.ts";
import { modelOf, sourceFinder } from "../../core/compose/model.ts";
import { analyzePorts, planInit } from "../../core/commands/init/plan.ts";
import { aliasTargets, toPlain } from "../../core/compose/yaml_plain.ts";
import { KinfraError } from "../../core/errors.ts";
import { largeCompose } from "../../scripts/large_compose.ts";

/** Counts calls of yaml's `Alias.prototype.resolve` while `fn` runs. */
async function aliasResolves(fn: () => unknown): Promise<number> {
  const original = Alias.prototype.resolve;
  let calls = 0;
  Alias.prototype.resolve = function (...args: Parameters<typeof original>) {
    calls++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    Alias.prototype.resolve = original;
  }
  return calls;
}

Deno.test("a large compose file is scanned without yaml's per-alias document scan, every port on its line", async () => {
  const { compose, variables } = largeCompose(600);
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/docker-compose.yml`, compose);
    let sources: Awaited<ReturnType<typeof scanCompose>> | undefined;
    assert.equal(await aliasResolves(async () => sources = await scanCompose(root, "docker-compose.yml")), 0);
    assert.equal(sources!.ports.length, variables.length);
    const lines = compose.split("\n");
    for (const port of sources!.ports) {
      assert.match(lines[port.line - 1], new RegExp(port.text.replace(/[${}]/g, ".")));
    }
    // The merged service carries the anchor's keys (the plain value applies `<<`).
    const services = sources!.values["docker-compose.yml"].services as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(services["svc-00007"].image, "kinfra-test/busybox:latest");
    assert.equal((services["svc-00007"].environment as Record<string, string>).LOG_LEVEL, "info");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Entries wrapped so that every field read is counted. */
function counted(sources: PortSource[]): { sources: PortSource[]; reads: () => number } {
  let reads = 0;
  const wrapped = sources.map((s) =>
    new Proxy(s, {
      get(target, key, receiver) {
        reads++;
        return Reflect.get(target, key, receiver);
      },
    })
  );
  return { sources: wrapped, reads: () => reads };
}

/** Field reads of the entries while every port of a `services`-service file is traced to its entry. */
async function tracedReads(services: number): Promise<number> {
  const { compose } = largeCompose(services, { portEvery: 1 });
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/docker-compose.yml`, compose);
    const scanned = await scanCompose(root, "docker-compose.yml");
    // What Compose prints: each variable at its default.
    const model = modelOf(
      JSON.parse(
        JSON.stringify(scanned.values["docker-compose.yml"]).replace(/\$\{[A-Z0-9_]+:-(\d+)\}/g, "$1"),
      ),
    );
    assert.equal(model.ports.length, services);
    const { sources, reads } = counted(scanned.ports);
    const find = sourceFinder(sources);
    for (const port of model.ports) assert.ok(find(port), `${port.service} has its entry`);
    return reads();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("tracing ports to their entries reads each entry a bounded number of times (twice the ports, twice the reads)", async () => {
  const small = await tracedReads(300);
  const large = await tracedReads(600);
  // Every port compared with every entry would make this 4×.
  assert.ok(
    large / small < 2.5,
    `reads grew ${(large / small).toFixed(2)}× for twice the ports (${small} → ${large})`,
  );
});

Deno.test("init's analysis and rewrite of a large file with fixed ports: every port traced, the file rewritten once each", async () => {
  const { compose } = largeCompose(400, { portEvery: 2 });
  const fixedText = compose.replace(/"\$\{(LARGE_SVC_\d+_PORT):-(\d+)\}:8080"/g, '"$2:8080"');
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/docker-compose.yml`, fixedText);
    const sources = await scanCompose(root, "docker-compose.yml");
    const model = modelOf(sources.values["docker-compose.yml"]);
    const analysis = analyzePorts(sources, model);
    assert.equal(analysis.problems.length, 0);
    assert.equal(analysis.choices.length, 200);
    const plan = planInit({ name: "big", prefix: "big", composeFile: "docker-compose.yml", mounts: [] }, {
      sources,
      analysis,
      model,
    });
    const after = plan.files[0].after;
    assert.equal((after.match(/\$\{BIG_SVC_\d+_PORT:-\d+\}:8080/g) ?? []).length, 200);
    assert.equal(after.replace(/"\$\{BIG_SVC_\d+_PORT:-(\d+)\}:8080"/g, '"$1:8080"'), fixedText);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("applyEdits replaces each range once, in any order given", () => {
  const text = "a: 1\nb: 2\nc: 3\n";
  const edits = [
    { range: [13, 14] as [number, number], text: "30" },
    { range: [3, 4] as [number, number], text: "10" },
  ];
  assert.equal(applyEdits(text, edits), "a: 10\nb: 2\nc: 30\n");
});

Deno.test("merge keys: keys written in the mapping win, then the merged maps in order; aliases are shared", () => {
  const doc = parseDocument(
    "a: &a { x: 1, y: 1 }\nb: &b { y: 2, z: 2 }\nc:\n  <<: [*a, *b]\n  x: 3\nd: *a\n'<<': quoted\n",
  );
  const plain = toPlain(doc.contents, aliasTargets(doc.contents)) as Record<string, Record<string, number>>;
  assert.deepEqual(plain.c, { x: 3, y: 1, z: 2 });
  assert.equal(plain.d, plain.a);
  assert.equal(plain["<<"] as unknown, "quoted");
});

Deno.test("an alias before its anchor, and a key written twice, are refused naming the line", () => {
  const refused = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseComposeText(text, "c.yml"),
      (e) => e instanceof KinfraError && e.code === 2 && pattern.test(e.message),
    );
  refused(
    "services:\n  web: *w\nx: &w { image: a }\n",
    /c\.yml:2: YAML alias \*w names no anchor &w before it/,
  );
  refused(
    "services:\n  web: {}\n  db: {}\n  web: {}\n",
    /c\.yml:4: .*Map keys must be unique \("web" is written twice\)/,
  );
});
