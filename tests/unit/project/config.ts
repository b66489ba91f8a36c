/**
 * core/project/config: infra.toml and config.toml validated, each refusal naming the key, the value
 * and what is allowed; mount specs; contained paths; the observability stack's names.
 */
import assert from "node:assert/strict";
import { observabilityNames } from "../../../core/project/config/defaults.ts";
import { loadGlobalConfig, parseInfraConfig } from "../../../core/project/config/load.ts";
import { isContainedPath, parseMount } from "../../../core/project/config/mounts.ts";
import { homePaths } from "../../../core/io/home.ts";
import { makeContext } from "../../../core/make_context.ts";
import { join } from "node:path";
import { kinfraErrorOf, usageOf } from "../_usage.ts";
import { parseInfraConfigCached } from "../../../core/project/config/cache.ts";
import { sha256Hex } from "../../../core/io/hash.ts";
import meta from "../../../deno.json" with { type: "json" };

const PROJECT = '[project]\nname = "shop"\n';
const infra = (body = "", maxSlots = 20) => parseInfraConfig(PROJECT + body, "infra.toml", maxSlots);
const refusal = (body: string, maxSlots = 20) => usageOf(() => infra(body, maxSlots));

Deno.test("parseInfraConfig() of a bare project fills every default", () => {
  const config = infra();
  assert.deepEqual(config.project, { name: "shop" });
  assert.equal(config.sandbox, undefined);
  assert.deepEqual(config.worktree, { copy: [] });
  assert.deepEqual(config.agents, { milestone: "M1", remove_dirty: "refuse" });
  assert.deepEqual(config.plugins, { enable: [] });
});

Deno.test("parseInfraConfig() fills a [sandbox]'s defaults: compose file, mounts, otel, networks, data", () => {
  const sandbox = infra("[sandbox]\n").sandbox!;
  assert.equal(sandbox.compose_file, "docker-compose.yml");
  assert.deepEqual(sandbox.ports, {});
  assert.deepEqual(sandbox.mounts, { code: [], code_targets: [], shared: [], shared_targets: [] });
  assert.deepEqual(sandbox.otel, {
    enabled: true,
    endpoint_var: "OTEL_EXPORTER_OTLP_ENDPOINT",
    namespace_var: "OTEL_RESOURCE_ATTRIBUTES",
  });
  assert.deepEqual(sandbox.networks, { include: [] });
  assert.deepEqual(sandbox.data, {});
});

Deno.test("parseInfraConfig() reads a port and a port range", () => {
  const ports = infra("[sandbox.ports]\nWEB = 8080\nLS = { base = 4510, width = 3 }\n").sandbox!.ports;
  assert.deepEqual(ports, { WEB: 8080, LS: { base: 4510, width: 3 } });
});

Deno.test("parseInfraConfig() gives the health check a 60 s timeout by default", () => {
  const health = infra('[sandbox.ports]\nWEB = 8080\n[sandbox.health]\nendpoint = "/h"\nport_var = "WEB"\n')
    .sandbox!.health;
  assert.deepEqual(health, { endpoint: "/h", port_var: "WEB", timeout: 60 });
});

Deno.test("parseInfraConfig() keeps a plugin's own table as it is", () => {
  const config = infra('[plugins]\nenable = ["seed"]\n[plugins.seed]\nrows = 3\n');
  assert.deepEqual(config.plugins, { enable: ["seed"], seed: { rows: 3 } });
});

Deno.test("parseInfraConfig() refuses a missing [project] name, saying what to add", () => {
  assert.equal(
    usageOf(() => parseInfraConfig("[project]\n", "infra.toml", 20)),
    "infra.toml: project.name is required but missing. | Add a string for it.",
  );
});

Deno.test("parseInfraConfig() refuses a project name with capitals, stating the rule", () => {
  assert.equal(
    usageOf(() => parseInfraConfig('[project]\nname = "Shop"\n', "infra.toml", 20)),
    `infra.toml: project.name = "Shop": must be 1–40 characters of a–z, 0–9, '_' or '-', starting with a letter or digit. | Fix the value and run the command again.`,
  );
});

Deno.test("parseInfraConfig() refuses a value of the wrong type, naming the type wanted", () => {
  assert.match(
    refusal("[sandbox]\ncompose_file = 3\n"),
    /^infra\.toml: sandbox\.compose_file = 3: expected a string\./,
  );
});

Deno.test("parseInfraConfig() shows a table given where a value belongs as 'a table'", () => {
  assert.match(refusal("[sandbox.compose_file]\nx = 1\n"), /^infra\.toml: sandbox\.compose_file = a table: /);
});

Deno.test("parseInfraConfig() refuses a port outside 1–65535", () => {
  assert.match(refusal("[sandbox.ports]\nWEB = 0\n"), /^infra\.toml: sandbox\.ports\.WEB = 0: /);
});

Deno.test('parseInfraConfig() refuses a port variable in lower case with the naming rule (not zod\'s "Invalid key")', () => {
  assert.equal(
    refusal("[sandbox.ports]\nweb = 8080\n"),
    "infra.toml: sandbox.ports.web = 8080: port variable names must match ^[A-Z_][A-Z0-9_]*$. | Fix the value and run the command again.",
  );
});

Deno.test("parseInfraConfig() refuses a range of width 1", () => {
  assert.match(
    refusal("[sandbox.ports]\nLS = { base = 4510, width = 1 }\n"),
    /^infra\.toml: sandbox\.ports\.LS/,
  );
});

Deno.test("parseInfraConfig() refuses a base whose last slot passes 65535, with the highest base allowed", () => {
  assert.equal(
    refusal("[sandbox.ports]\nAPI = 65530\n"),
    "infra.toml: sandbox.ports.API: base + slots.max (65530 + 20) exceeds 65535. | Choose a base port of at most 65515, or lower [slots] max in the global config.",
  );
});

Deno.test("parseInfraConfig() accepts the highest base the slot count allows", () => {
  assert.deepEqual(infra("[sandbox.ports]\nAPI = 65515\n").sandbox!.ports, { API: 65515 });
});

Deno.test("parseInfraConfig() refuses one above the highest base the slot count allows", () => {
  assert.match(
    refusal("[sandbox.ports]\nAPI = 65516\n"),
    /^infra\.toml: sandbox\.ports\.API: base \+ slots\.max \(65516 \+ 20\)/,
  );
});

Deno.test("parseInfraConfig() checks a range's last slot against 65535 by whole widths", () => {
  assert.equal(
    refusal("[sandbox.ports]\nLS = { base = 65000, width = 100 }\n", 5),
    "infra.toml: sandbox.ports.LS: base + slots.max (6 ranges of 100 ports from 65000) exceeds 65535. | Choose a base port of at most 64936, or lower [slots] max in the global config.",
  );
});

Deno.test("parseInfraConfig() suggests the key meant by a misspelt one", () => {
  assert.equal(
    refusal('[sandbox]\ncompose_flie = "x.yml"\n'),
    'infra.toml: unknown key "sandbox.compose_flie". | Did you mean "sandbox.compose_file"?',
  );
});

Deno.test("parseInfraConfig() lists the allowed keys when no known key is near", () => {
  assert.equal(
    refusal("[worktree]\nzzzzzzzz = 1\n"),
    'infra.toml: unknown key "worktree.zzzzzzzz". | Allowed keys here: root, copy, base.',
  );
});

Deno.test("parseInfraConfig() reports an unknown table before the problems it causes", () => {
  const e = usageOf(() => parseInfraConfig('[projcet]\nname = "shop"\n', "infra.toml", 20));
  assert.equal(e, 'infra.toml: unknown key "projcet". | Did you mean "project"?');
});

Deno.test("parseInfraConfig() lists further problems under the first", async () => {
  const e = await kinfraErrorOf(() => infra("[sandbox.ports]\nA = 0\nB = 70000\n"));
  assert.match(e.message, /sandbox\.ports\.A = 0/);
  assert.deepEqual(e.details, ["sandbox.ports.B = 70000: must be 1–65535."]);
});

Deno.test("parseInfraConfig() refuses a health endpoint without a leading '/'", () => {
  assert.equal(
    refusal('[sandbox.ports]\nX = 8080\n[sandbox.health]\nendpoint = "health"\nport_var = "X"\n'),
    "infra.toml: sandbox.health.endpoint = \"health\": must be a path starting with '/', without spaces or control characters. | Fix the value and run the command again.",
  );
});

Deno.test("parseInfraConfig() refuses a health port_var that is not a port, listing the ports", () => {
  assert.match(
    refusal('[sandbox.ports]\nWEB = 8080\n[sandbox.health]\nendpoint = "/"\nport_var = "API"\n'),
    /^infra\.toml: sandbox\.health\.port_var = "API": must be one of the keys of \[sandbox\.ports\] \(WEB\)\./,
  );
});

Deno.test("parseInfraConfig() refuses a compose file outside the project", () => {
  assert.match(
    refusal('[sandbox]\ncompose_file = "../x.yml"\n'),
    /sandbox\.compose_file = "\.\.\/x\.yml": must be a relative path inside the project/,
  );
});

Deno.test("parseInfraConfig() refuses a bad mount, saying what is wrong with it and the format", () => {
  assert.match(
    refusal('[sandbox.mounts]\ncode = ["/etc:/app"]\n'),
    /sandbox\.mounts\.code\[0\] = "\/etc:\/app": the host side must be relative to the worktree \(format host:container\[:ro\]\)/,
  );
});

Deno.test("parseInfraConfig() takes a worktree root of '..' or inside the parent, not beyond", () => {
  assert.equal(infra('[worktree]\nroot = "../trees"\n').worktree.root, "../trees");
  assert.match(
    refusal('[worktree]\nroot = "../../x"\n'),
    /worktree\.root = "\.\.\/\.\.\/x": must be a relative path/,
  );
  for (const root of [".git", ".git/refs/heads", "../shop/.git"]) {
    assert.match(
      refusal(`[worktree]\nroot = "${root}"\n`),
      /worktree\.root = .*must not lead into a \.git directory/,
    );
  }
});

Deno.test("parseInfraConfig() refuses a TOML syntax error with its line and column", () => {
  assert.match(
    usageOf(() => parseInfraConfig("[project\nname = 1\n", "infra.toml", 20)),
    /^infra\.toml:1:\d+: TOML syntax error: .*\. \| Fix the syntax at that line and column\.$/,
  );
});

Deno.test("loadGlobalConfig() without a config.toml gives the defaults", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await loadGlobalConfig(
      homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined }),
    );
    assert.deepEqual([config.slots.max, config.observability.name, config.data.helper_image], [
      20,
      "devops-ai",
      "busybox:1.36",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadGlobalConfig() refuses slots.max above 200, naming config.toml", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined });
    await Deno.writeTextFile(home.config, "[slots]\nmax = 500\n");
    const e = await kinfraErrorOf(() => loadGlobalConfig(home));
    assert.equal(e.message, `${home.config}: slots.max = 500: must be 1–200.`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadGlobalConfig(): [proxy] port defaults to 4390 and must be a port", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const home = homePaths({ get: (k: string) => k === "KINFRA_HOME" ? dir : undefined });
    assert.equal((await loadGlobalConfig(home)).proxy.port, 4390);
    await Deno.writeTextFile(home.config, "[proxy]\nport = 70000\n");
    const e = await kinfraErrorOf(() => loadGlobalConfig(home));
    assert.equal(e.message, `${home.config}: proxy.port = 70000: must be 1–65535.`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseMount() reads host:container:ro", () => {
  assert.deepEqual(parseMount("src/:/app/src:ro"), { host: "src", container: "/app/src", readOnly: true });
});

Deno.test("parseMount() mounts a bare directory under /app", () => {
  assert.deepEqual(parseMount("lib/tests/"), { host: "lib/tests", container: "/app/tests", readOnly: false });
});

Deno.test("parseMount() takes rw as writable and drops a container path's trailing slash", () => {
  assert.deepEqual(parseMount("a:/data/:rw"), { host: "a", container: "/data", readOnly: false });
});

Deno.test("parseMount() says what is wrong with a bad spec", () => {
  assert.deepEqual(
    [
      "",
      "/abs:/x",
      "~/x:/x",
      "../x:/x",
      "a/../../b:/x",
      "a:rel",
      "a:/x/../y",
      "a:/x:rx",
      "a:/b:ro:z",
      "a\n:/x",
    ].map(
      parseMount,
    ),
    [
      "the host side is empty",
      "the host side must be relative to the worktree",
      "the host side must be relative to the worktree",
      'the host side must stay inside the worktree (no "..")',
      'the host side must stay inside the worktree (no "..")',
      "the container side must be an absolute path",
      'the container side must not contain ".."',
      'mode must be "ro" or "rw", not "rx"',
      "expected host:container[:ro]",
      "it contains a control character",
    ],
  );
});

Deno.test("isContainedPath() accepts relative paths that stay inside", () => {
  for (const ok of ["a", "a/b", "./a", "a/./b", "a..b"]) assert.equal(isContainedPath(ok), true, ok);
});

Deno.test("isContainedPath() refuses empty, absolute, home-relative, '..' and control characters", () => {
  for (const bad of ["", "/a", "~/a", "..", "a/../b", "a\tb"]) assert.equal(isContainedPath(bad), false, bad);
});

Deno.test("observabilityNames() derives project, network, Jaeger and prefix from the stack's name", () => {
  assert.deepEqual(observabilityNames({ name: "ci" }), {
    project: "ci-observability",
    network: "ci-observability",
    jaeger: "ci-jaeger",
    prefix: "ci-",
  });
});

Deno.test("a context's global config is read again once config.toml changes (the proxy process outlives edits)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ctx = makeContext({
      env: { get: (k: string) => k === "KINFRA_HOME" ? dir : undefined } as Deno.Env,
    });
    assert.equal((await ctx.globalConfig()).slots.idle_stop, undefined);
    assert.equal(await ctx.globalConfig(), await ctx.globalConfig(), "unchanged: read once");
    await Deno.writeTextFile(join(dir, "config.toml"), `[slots]\nidle_stop = "3s"\n`);
    assert.equal((await ctx.globalConfig()).slots.idle_stop, "3s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseInfraConfigCached() never serves what another kinfra build cached: it validates again", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const text = `[project]\nname = "shop"\n`;
    const path = "/p/.devops-ai/infra.toml";
    // What a build before this one left, under the key it used then (its version alone): an entry
    // without the defaults added since.
    const older = await sha256Hex([meta.version, 20, path, text].join("\0"));
    await Deno.writeTextFile(join(cache, `infra-${older.slice(0, 32)}.json`), "{}");
    const config = await parseInfraConfigCached(text, path, 20, cache);
    assert.equal(config.project.name, "shop");
    assert.equal(
      (await parseInfraConfigCached(text, path, 20, cache)).project.name,
      "shop",
      "from its own entry",
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("parseInfraConfig() says what idle_stop takes for a wrong type", () => {
  const sandbox = '[sandbox]\ncompose_file = "c.yml"\n[sandbox.ports]\nA_PORT = 8080\n';
  for (const value of ["true", "5"]) {
    assert.match(
      refusal(sandbox.replace("[sandbox.ports]", `idle_stop = ${value}\n[sandbox.ports]`)),
      /sandbox\.idle_stop = .*: must be a duration such as "4h", "30m" or "90s"/,
    );
  }
  assert.equal(
    infra(sandbox.replace("[sandbox.ports]", "idle_stop = false\n[sandbox.ports]")).sandbox?.idle_stop,
    false,
  );
});

Deno.test("parseInfraConfig() refuses the exact variables programs read, and keeps names that only start alike", () => {
  for (
    const name of ["SSH_PORT", "GIT_SERVER_WEB_PORT", "PYTHON_API_WEB_PORT", "LC_APP_PORT", "LD_APP_PORT"]
  ) {
    assert.equal(
      infra(`[sandbox]\ncompose_file = "c.yml"\n[sandbox.ports]\n${name} = 8080\n`).sandbox?.ports[name],
      8080,
    );
  }
  for (const name of ["LD_PRELOAD", "GIT_DIR", "PYTHONPATH", "SSH_AUTH_SOCK", "DOCKER_HOST"]) {
    assert.match(
      refusal(`[sandbox]\ncompose_file = "c.yml"\n[sandbox.ports]\n${name} = 8080\n`),
      new RegExp(`${name} is a variable`),
    );
  }
});
