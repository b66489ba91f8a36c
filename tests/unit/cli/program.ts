/** The pure parts of the CLI and the kernel, without a process, git or Docker. */
import assert from "node:assert/strict";
import { parseArgv } from "../../../core/cli/args.ts";
import { GLOBAL_OPTIONS, PROGRAM } from "../../../core/cli/program.ts";
import { KinfraError } from "../../../core/errors.ts";
import { parseInfraConfig } from "../../../core/project/config/load.ts";
import { parseImplTarget, validateName } from "../../../core/project/names.ts";
import { envMap, mergeFragments } from "../../../core/sandbox/override.ts";

const parse = (...argv: string[]) => parseArgv(PROGRAM, GLOBAL_OPTIONS, argv);

/** The usage error `fn` throws (exit 2), as "message | hint". */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KinfraError && e.code === 2) return `${e.message} | ${e.hint ?? ""}`;
    throw e;
  }
  throw new Error("no usage error");
}

Deno.test("args: global flags anywhere, --key=value, repeatable options, negations", () => {
  const done = parse("--json", "done", "x", "--force");
  assert.deepEqual([done.path, done.args, done.options], [["done"], ["x"], { json: true, force: true }]);
  const init = parse("init", "--mount=src/:/app", "--mount", "lib/:/lib", "--no-sandbox", "-C", "/p");
  assert.deepEqual(init.options, { mount: ["src/:/app", "lib/:/lib"], sandbox: false, directory: "/p" });
});

Deno.test("args: -qv is -q -v; a group with an unknown or valued flag is refused", () => {
  assert.deepEqual(parse("-qv", "worktrees").options, { quiet: true, verbose: true });
  assert.match(usage(() => parse("worktrees", "-qz")), /^Unknown option "-qz"/);
  assert.match(usage(() => parse("worktrees", "-qC")), /^Unknown option "-qC"/);
});

Deno.test("args: mistakes name what was wrong and how to fix it", () => {
  assert.equal(
    usage(() => parse("done", "--forse")),
    'Unknown option "--forse" for "kinfra done". Did you mean "--force"? | Run `kinfra done --help` to see the options.',
  );
  assert.equal(
    usage(() => parse("wroktrees")),
    'Unknown command "wroktrees". Did you mean "worktrees"? | Run `kinfra --help` for the list.',
  );
  assert.match(
    usage(() => parse("impl")),
    /^Missing <feature\/milestone> for "kinfra impl"\. \| Usage: kinfra impl <feature\/milestone> \[options\]$/,
  );
  assert.match(usage(() => parse("done", "a", "b")), /^Too many arguments for "kinfra done": "b"\./);
  assert.match(usage(() => parse("init", "--name")), /^Option --name needs a value <name>\./);
  assert.match(
    usage(() => parse("init", "--compose-file=")),
    /^Option --compose-file needs a value <path>\./,
  );
  assert.match(usage(() => parse("done", "--force=yes")), /^Option --force takes no value\./);
  assert.match(
    usage(() => parse("observability")),
    /^"kinfra observability" needs a subcommand: up, down, status\./,
  );
  assert.match(
    usage(() => parse("completions", "tcsh")),
    /^<shell> must be one of bash, zsh, fish, not "tcsh"\./,
  );
});

Deno.test("args: an option with choices takes only those", () => {
  assert.deepEqual(parse("plugins", "new", "x", "--lang", "ts").options, { lang: "ts" });
  assert.equal(
    usage(() => parse("plugins", "new", "x", "--lang=rust")),
    '--lang must be one of sh, ts, not "rust". | ',
  );
});

Deno.test("args: after --, everything is an argument", () => {
  assert.deepEqual(parse("done", "--", "--weird").args, ["--weird"]);
});

Deno.test("names: the rule, and the refusal says it", () => {
  for (const ok of ["wellness-reminders", "M1", "v1.2", "a_b"]) assert.equal(validateName("feature", ok), ok);
  for (const bad of ["", "../x", "-x", "a..b", "x.lock", "x.", "a/b", "a b", "x".repeat(65)]) {
    assert.match(usage(() => validateName("feature", bad)), /^Invalid feature name/, bad);
  }
  assert.deepEqual(parseImplTarget("checkout/M1"), { feature: "checkout", milestone: "M1" });
  assert.equal(
    usage(() => parseImplTarget("checkout")),
    'Invalid target "checkout": expected <feature>/<milestone>. | Example: kinfra impl wellness-reminders/M1',
  );
});

Deno.test("override merge: environment by key, volumes by target, networks united, implicit default kept", () => {
  const merged = mergeFragments([
    { services: { api: { environment: ["A=1", "B=2"], volumes: ["/a:/app"], networks: ["obs"] } } },
    { services: { api: { environment: { B: "3" }, volumes: ["/b:/app", "/c:/data"], labels: { x: "1" } } } },
  ], new Set(["api"]));
  assert.deepEqual(merged, {
    services: {
      api: {
        environment: ["A=1", "B=3"],
        volumes: ["/b:/app", "/c:/data"],
        networks: ["default", "obs"],
        labels: { x: "1" },
      },
    },
  });
  // Per-network options survive: a mapping stays a mapping.
  const aliased = mergeFragments(
    [{ services: { db: { networks: { back: { aliases: ["pg"] } } } } }, {
      services: { db: { networks: ["obs"] } },
    }],
    new Set(),
  );
  assert.deepEqual(aliased, { services: { db: { networks: { back: { aliases: ["pg"] }, obs: null } } } });
  assert.deepEqual(envMap(["A=1=2", "B"]), { A: "1=2", B: "" });
});

Deno.test("config errors: each names the key, the value and what is allowed", () => {
  const config = (body: string) =>
    usage(() => parseInfraConfig(`[project]\nname = "shop"\n${body}`, "infra.toml", 20));
  assert.equal(
    config("[sandbox.ports]\nAPI = 70000\n"),
    "infra.toml: sandbox.ports.API = 70000: must be 1–65535. | Fix the value and run the command again.",
  );
  assert.equal(
    config("[sandbox.ports]\nAPI = 65530\n"),
    "infra.toml: sandbox.ports.API: base + slots.max (65530 + 20) exceeds 65535. | Choose a base port of at most 65515, or lower [slots] max in the global config.",
  );
  assert.equal(
    config('[sandbox]\ncompose_flie = "x.yml"\n'),
    'infra.toml: unknown key "sandbox.compose_flie". | Did you mean "sandbox.compose_file"?',
  );
  assert.equal(
    config('[sandbox.health]\nendpoint = "health"\nport_var = "X"\n'),
    "infra.toml: sandbox.health.endpoint = \"health\": must be a path starting with '/', without spaces or control characters. | Fix the value and run the command again.",
  );
  assert.match(
    usage(() => parseInfraConfig("[project\nname = 1\n", "infra.toml", 20)),
    /^infra\.toml:1:\d+: TOML syntax error: /,
  );
});
