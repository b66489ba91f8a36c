/**
 * Where Compose v1 and v2 behave differently under kinfra, end to end with the real engine.
 * scripts/test.sh runs this file with each flavour (KINFRA_COMPOSE), and each test asserts the same
 * outcome on both: healthchecks waited for (v2's `up --wait` has no v1 twin), services of profiles
 * seen (v2's `config` hides them), an unknown service refused (v2's `logs` says nothing), Compose's
 * errors and warnings read alike, and a standalone `docker-compose` that is v2 treated as v2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand, type Sandbox } from "./helpers.ts";
import { containersOf, dockerTest, IMAGE, makeProject, randomBase } from "./sandbox_helpers.ts";

interface ImplJson {
  compose_project: string;
  ports: Record<string, number>;
}

interface StatusJson {
  plugins: { docker: { containers: { service: string; status: string }[] } };
}

/** A service whose healthcheck passes after `delay` seconds, or (delay < 0) never. */
const checkedService = (delay: number) =>
  `  db:
    image: ${IMAGE}
    init: true
    command: ["sh", "-c", "sleep ${Math.max(delay, 0)}; touch /tmp/ready; exec sleep 600"]
    healthcheck:
      test: ["CMD", ${delay < 0 ? '"false"' : '"test", "-f", "/tmp/ready"'}]
      interval: 300ms
      retries: 2
${delay < 0 ? "" : "      start_period: 20s\n"}`;

dockerTest(
  "impl waits for the compose file's healthchecks and fails on an unhealthy one, with either Compose",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase(), extraServices: checkedService(2) });
    const impl = await sb.kinfra(["--json", "impl", "ok/M1"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    assert.match(impl.stdout, /healthcheck: 1 container\(s\) healthy/);
    const status = (await sb.kinfra(["--json", "status", "ok-M1"], { cwd: repo })).json<StatusJson>();
    const db = status.plugins.docker.containers.find((c) => c.service === "db");
    assert.match(db?.status ?? "", /\(healthy\)/, "healthy when impl returned, not still starting");

    const bad = await makeProject(sb, `${stem}b`, { base: randomBase(), extraServices: checkedService(-1) });
    const failed = await sb.kinfra(["--json", "impl", "bad/M1"], { cwd: bad });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout + failed.stderr, /Healthcheck failed: db \(\S+\) turned unhealthy/);
    assert.deepEqual(await containersOf(`${stem}b-slot-1`), [], "rolled back");
    assert.deepEqual(await containersOf(`${stem}b-slot-2`), [], "rolled back");
  },
);

dockerTest(
  "logs and restart of a service the sandbox does not have are refused (2) by either Compose",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    assert.equal((await sb.kinfra(["impl", "svc/M1"], { cwd: repo })).code, 0);
    for (const command of ["logs", "restart"]) {
      const run = await sb.kinfra([command, "svc-M1", "--service", "nope"], { cwd: repo });
      assert.equal(run.code, 2, `${command}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, new RegExp(`${stem}-slot-\\d+ has no service "nope"`));
      assert.match(run.stderr, /Its services: web/);
    }
    const logs = await sb.kinfra(["logs", "svc-M1", "--service", "web"], { cwd: repo });
    assert.equal(logs.code, 0, logs.stderr);
  },
);

/** A project whose `debug` service, in a profile, publishes a fixed host port. */
async function profiledProject(sb: Sandbox, name: string, port: number) {
  return await makeProject(sb, name, {
    base: randomBase(),
    extraServices: `  debug:\n    image: ${IMAGE}\n    profiles: [debug]\n    ports: ["${port}:9229"]\n`,
  });
}

dockerTest(
  "a fixed port in a service of a profile is refused by either Compose (v2 hides profiles)",
  async (sb, stem) => {
    const port = randomBase() + 95;
    const repo = await profiledProject(sb, stem, port);
    const run = await sb.kinfra(["impl", "prof/M1", "--dry-run"], { cwd: repo });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`debug publishes host port ${port} \\(→ 9229/tcp\\)`));
  },
);

dockerTest("Compose's errors and warnings read alike from v1 and v2", async (sb, stem) => {
  const repo = await makeProject(sb, stem, {
    base: randomBase(),
    webExtra: "    environment:\n      UNSET: ${KINFRA_TEST_UNSET}\n    depends_on: [nothere]\n",
  });
  const run = await sb.kinfra(["impl", "err/M1", "--dry-run"], { cwd: repo });
  assert.equal(run.code, 2, run.stderr);
  // v2: `service "web" depends on undefined service "nothere"`; v1: `Service 'web' depends on …`.
  assert.match(run.stderr, /Compose cannot read docker-compose\.yml[^:]*: .*depends on .*nothere/i);
  assert.match(run.stderr, /The "?KINFRA_TEST_UNSET"? variable is not set\. Defaulting to a blank string\./);
  assert.doesNotMatch(run.stderr, /level=warning|time="/, "v2's log records read as v1's lines");

  // An unknown top-level key: v1 prints the error, then a paragraph of advice; the error is the headline.
  const odd = await makeProject(sb, `${stem}k`, { base: randomBase(), extraServices: "kinfra_odd_key: 1\n" });
  const refused = await sb.kinfra(["impl", "odd/M1", "--dry-run"], { cwd: odd });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^error: Compose cannot read docker-compose\.yml[^:]*: .*kinfra_odd_key/m);
});

/** The v2 binary behind `docker compose`, for a standalone `docker-compose` that is v2. */
async function v2Binary(): Promise<string> {
  const format = '{{range .ClientInfo.Plugins}}{{if eq .Name "compose"}}{{.Path}}{{end}}{{end}}';
  const path = (await runCommand("docker", ["info", "--format", format])).stdout.trim();
  assert.ok(path, "Compose v2 (the docker compose plugin) is needed for this test");
  return path;
}

dockerTest(
  "a standalone docker-compose that is v2 is used as v2 (asked, not assumed to be v1)",
  async (sb, stem) => {
    const bin = join(sb.dir, "bin");
    await Deno.mkdir(bin);
    await Deno.symlink(await v2Binary(), join(bin, "docker-compose"));
    const env = { KINFRA_COMPOSE: "docker-compose", PATH: `${bin}:${Deno.env.get("PATH")}` };
    const port = randomBase() + 95;
    const repo = await profiledProject(sb, stem, port);
    const doctor = await sb.kinfra(["--json", "doctor"], { cwd: repo, env });
    const check = doctor.json<{ checks: { name: string; detail: string }[] }>().checks.find((c) =>
      c.name === "compose"
    );
    assert.match(check?.detail ?? "", /using docker-compose 2\.\S+ \(v2, chosen explicitly\)/);
    const unknown = await sb.kinfra(["--json", "doctor"], {
      cwd: repo,
      env: { KINFRA_COMPOSE: "nerd compose" },
    });
    const refused = unknown.json<{ checks: { name: string; ok: boolean; detail: string; hint: string }[] }>()
      .checks.find((c) => c.name === "compose");
    assert.equal(refused?.ok, false);
    assert.match(refused?.detail ?? "", /Unknown compose command "nerd compose"; found: docker compose 2\./);
    assert.match(
      refused?.hint ?? "",
      /Set KINFRA_COMPOSE or \[compose\] command to "docker compose" or "docker-compose"/,
    );
    // Read as v2 (every profile asked for): the profile's fixed port is seen.
    const run = await sb.kinfra(["impl", "prof/M1", "--dry-run"], { cwd: repo, env });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`debug publishes host port ${port}`));
  },
);

dockerTest(
  "docker compose runs the plugin file the docker CLI would run, told which docker it serves, without the CLI",
  async (sb, stem) => {
    // The docker CLI looks in $DOCKER_CONFIG/cli-plugins first: a plugin there that logs, then runs v2.
    // Run by the CLI, it would be asked for its metadata first and see the CLI's argv[0] ("docker").
    const log = join(sb.dir, "calls.log");
    const config = join(sb.dir, "docker-config");
    await Deno.mkdir(join(config, "cli-plugins"), { recursive: true });
    await Deno.writeTextFile(
      join(config, "cli-plugins", "docker-compose"),
      `#!/bin/sh\necho "[$DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND] $*" >> '${log}'\nexec '${await v2Binary()}' "$@"\n`,
      { mode: 0o755 },
    );
    const env = { KINFRA_COMPOSE: "docker compose", DOCKER_CONFIG: config };
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const impl = await sb.kinfra(["impl", "direct/M1"], { cwd: repo, env });
    assert.equal(impl.code, 0, impl.stderr);
    const done = await sb.kinfra(["done", "direct-M1"], { cwd: repo, env });
    assert.equal(done.code, 0, done.stderr);
    const calls = (await Deno.readTextFile(log)).trim().split("\n");
    const docker = (await runCommand("sh", ["-c", "command -v docker"])).stdout.trim();
    assert.deepEqual(
      calls.filter((c) => !c.startsWith(`[${docker}] compose `)),
      [],
      "every call straight from kinfra, with the docker CLI's path in DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND",
    );
    for (const command of ["version --short", `-p ${stem}-slot-1 up -d`, `-p ${stem}-slot-1 down`]) {
      assert.ok(
        calls.some((c) => c.includes(command)),
        `"${command}" run by the plugin file:\n${calls.join("\n")}`,
      );
    }
    const doctor = await sb.kinfra(["--json", "doctor"], { cwd: repo, env });
    const check = doctor.json<{ checks: { name: string; detail: string }[] }>().checks
      .find((c) => c.name === "compose");
    assert.match(
      check?.detail ?? "",
      new RegExp(`its plugin run directly: ${config}/cli-plugins/docker-compose`),
    );
  },
);
