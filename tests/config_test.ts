/** infra.toml validation through the real CLI: every bad file exits 2 and names the offending key. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSandbox, pathExists, type Run, withSandbox, writeFiles } from "./helpers.ts";

const OK_SANDBOX = `[project]\nname = "shop"\n[sandbox.ports]\nSHOP_API_PORT = 8080\n`;

/** [what is wrong, infra.toml text, text the error must contain] */
const BAD: [string, string, string][] = [
  ["TOML syntax error", `[project]\nname = \n`, ":2:"],
  ["unclosed table header", `[project\nname = "a"\n`, ":1:"],
  ["missing [project]", `[sandbox]\n`, "project"],
  ["missing project.name", `[project]\nprefix = "a"\n`, "project.name"],
  ["upper-case name", `[project]\nname = "Shop"\n`, "project.name"],
  ["name with space", `[project]\nname = "my shop"\n`, "project.name"],
  ["name too long", `[project]\nname = "${"a".repeat(41)}"\n`, "project.name"],
  ["name starting with dash", `[project]\nname = "-shop"\n`, "project.name"],
  ["name is a number", `[project]\nname = 5\n`, "project.name"],
  ["bad prefix", `[project]\nname = "shop"\nprefix = "../x"\n`, "project.prefix"],
  ["unknown top-level table", `[project]\nname = "shop"\n[sandbx]\n`, "sandbx"],
  ["unknown project key", `[project]\nname = "shop"\nnmae = "x"\n`, "project.nmae"],
  ["misspelt ports table", `[project]\nname = "shop"\n[sandbox.prots]\nA_PORT = 1\n`, "sandbox.prots"],
  [
    "lower-case port variable",
    `[project]\nname = "shop"\n[sandbox.ports]\napi_port = 8080\n`,
    "sandbox.ports",
  ],
  ["port 0", `[project]\nname = "shop"\n[sandbox.ports]\nA_PORT = 0\n`, "sandbox.ports.A_PORT"],
  ["port too large", `[project]\nname = "shop"\n[sandbox.ports]\nA_PORT = 70000\n`, "sandbox.ports.A_PORT"],
  ["port as string", `[project]\nname = "shop"\n[sandbox.ports]\nA_PORT = "8080"\n`, "sandbox.ports.A_PORT"],
  ["port as float", `[project]\nname = "shop"\n[sandbox.ports]\nA_PORT = 80.5\n`, "sandbox.ports.A_PORT"],
  [
    "base + slots over 65535",
    `[project]\nname = "shop"\n[sandbox.ports]\nA_PORT = 65530\n`,
    "sandbox.ports.A_PORT",
  ],
  [
    "health port_var not a port",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "/h"\nport_var = "NOPE"\n`,
    "sandbox.health.port_var",
  ],
  [
    "health endpoint without slash",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "h"\nport_var = "SHOP_API_PORT"\n`,
    "sandbox.health.endpoint",
  ],
  [
    "health timeout 0",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "/h"\nport_var = "SHOP_API_PORT"\ntimeout = 0\n`,
    "sandbox.health.timeout",
  ],
  [
    "health timeout too long",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "/h"\nport_var = "SHOP_API_PORT"\ntimeout = 4000\n`,
    "sandbox.health.timeout",
  ],
  [
    "health timeout string",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "/h"\nport_var = "SHOP_API_PORT"\ntimeout = "60"\n`,
    "sandbox.health.timeout",
  ],
  [
    "health missing endpoint",
    OK_SANDBOX + `[sandbox.health]\nport_var = "SHOP_API_PORT"\n`,
    "sandbox.health.endpoint",
  ],
  [
    "unknown health key",
    OK_SANDBOX + `[sandbox.health]\nendpoint = "/h"\nport_var = "SHOP_API_PORT"\ntimout = 5\n`,
    "sandbox.health.timout",
  ],
  [
    "mount escaping the worktree",
    OK_SANDBOX + `[sandbox.mounts]\ncode = ["../secrets:/app/s"]\n`,
    "sandbox.mounts.code[0]",
  ],
  [
    "absolute host mount",
    OK_SANDBOX + `[sandbox.mounts]\ncode = ["/etc:/app/etc"]\n`,
    "sandbox.mounts.code[0]",
  ],
  [
    "relative container path",
    OK_SANDBOX + `[sandbox.mounts]\ncode = ["src:app/src"]\n`,
    "sandbox.mounts.code[0]",
  ],
  ["bad mount mode", OK_SANDBOX + `[sandbox.mounts]\ncode = ["src:/app/src:rx"]\n`, "sandbox.mounts.code[0]"],
  ["too many colons", OK_SANDBOX + `[sandbox.mounts]\ncode = ["a:/b:ro:x"]\n`, "sandbox.mounts.code[0]"],
  ["code not an array", OK_SANDBOX + `[sandbox.mounts]\ncode = "src/"\n`, "sandbox.mounts.code"],
  [
    "code_targets not strings",
    OK_SANDBOX + `[sandbox.mounts]\ncode_targets = [1]\n`,
    "sandbox.mounts.code_targets[0]",
  ],
  [
    "compose_file outside project",
    `[project]\nname = "shop"\n[sandbox]\ncompose_file = "../c.yml"\n`,
    "sandbox.compose_file",
  ],
  ["otel enabled not boolean", OK_SANDBOX + `[sandbox.otel]\nenabled = "yes"\n`, "sandbox.otel.enabled"],
  [
    "otel endpoint_var lower-case",
    OK_SANDBOX + `[sandbox.otel]\nendpoint_var = "otel"\n`,
    "sandbox.otel.endpoint_var",
  ],
  [
    "networks include not array",
    OK_SANDBOX + `[sandbox.networks]\ninclude = "backend"\n`,
    "sandbox.networks.include",
  ],
  [
    "worktree copy escaping",
    `[project]\nname = "shop"\n[worktree]\ncopy = ["../.env"]\n`,
    "worktree.copy[0]",
  ],
  ["worktree unknown key", `[project]\nname = "shop"\n[worktree]\nbasee = "main"\n`, "worktree.basee"],
  [
    "plugins enable bad name",
    `[project]\nname = "shop"\n[plugins]\nenable = ["My_Plugin"]\n`,
    "plugins.enable[0]",
  ],
  [
    "plugin table not a table",
    `[project]\nname = "shop"\n[plugins]\nagent-deck = "x"\n`,
    "plugins.agent-deck",
  ],
];

Deno.test(`kinfra refuses ${BAD.length} malformed infra.toml files with exit 2, naming the key`, async (t) => {
  const sb = await makeSandbox();
  try {
    const repos: string[] = [];
    for (let i = 0; i < BAD.length; i++) {
      const repo = await sb.repo(`p${i}`);
      await writeFiles(repo, { ".devops-ai/infra.toml": BAD[i][1] });
      repos.push(repo);
    }
    // Run in small batches: each case is a real kinfra process.
    const runs: Run[] = [];
    for (let i = 0; i < BAD.length; i += 6) {
      runs.push(
        ...await Promise.all(
          repos.slice(i, i + 6).map((cwd) => sb.kinfra(["--json", "spec", "probe"], { cwd })),
        ),
      );
    }
    for (const [i, [what, , key]] of BAD.entries()) {
      await t.step(what, async () => {
        const run = runs[i];
        assert.equal(run.code, 2, `${what}: exit ${run.code}\n${run.stderr}`);
        const error = run.json<{ error: { message: string; hint?: string; details: string[] } }>().error;
        const said = [error.message, error.hint, ...error.details].join("\n");
        assert.ok(said.includes(key), `${what}: expected "${key}" in:\n${said}`);
        assert.ok(run.stderr.includes("error:") && !run.stderr.includes("    at "), "no stack trace");
        assert.equal(await pathExists(join(sb.dir, `p${i}-spec-probe`)), false, "no worktree was created");
      });
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("unknown keys get a did-you-mean hint", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\n[sandbox]\ncompose_fil = "c.yml"\n`,
    });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown key "sandbox\.compose_fil"/);
    assert.match(run.stderr, /Did you mean "sandbox\.compose_file"\?/);
  }));

Deno.test("a TOML syntax error reports line and column", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", {
      ".devops-ai/infra.toml": `[project]\nname = "shop"\nprefix = = "x"\n`,
    });
    const run = await sb.kinfra(["spec", "x"], { cwd: repo });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /infra\.toml:3:\d+: TOML syntax error/);
  }));
