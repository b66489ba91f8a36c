/**
 * Where Compose v1 and v2 differ in what kinfra sees, without Docker: which flavour a command is
 * (a standalone `docker-compose` may be either), their stderr, and Docker's health in a container
 * status. The e2e side is tests/compose_flavours_test.ts, which scripts/test.sh runs with each.
 */
import assert from "node:assert/strict";
import { composePlugin, detectCompose, probeCompose } from "../../core/compose/tool.ts";
import { composeError, composeLine, composeTail } from "../../core/compose/stderr.ts";
import type { Exec } from "../../core/io/exec.ts";
import type { ContainerState } from "../../plugins/docker/containers.ts";
import { healthState, waitContainersHealthy } from "../../plugins/docker/container_health.ts";

/**
 * An exec where each program answers `version --short` as given (undefined: not installed), and a
 * detectCompose on it that finds no compose plugin file (the machine's own is not looked at).
 */
function versions(answers: Record<string, string | undefined>) {
  const asked: string[] = [];
  const envs: (Record<string, string> | undefined)[] = [];
  const exec: Exec = (cmd, args, options) => {
    const command = [cmd, ...args.slice(0, -2)].join(" ");
    asked.push(command);
    envs.push(options?.env);
    const out = answers[command];
    return Promise.resolve({
      code: out ? 0 : 1,
      success: Boolean(out),
      stdout: out ? `${out}\n` : "",
      stderr: "",
    });
  };
  const detect = (preferred?: string) =>
    detectCompose(exec, preferred, (c) => probeCompose(exec, c, Promise.resolve(undefined)));
  return { exec, asked, envs, detect };
}

Deno.test("a standalone docker-compose is asked its version: Debian's and Docker's v2 builds are v2", async () => {
  const v2 = versions({ "docker-compose": "2.26.1-4" });
  assert.deepEqual(await v2.detect(), {
    argv: ["docker-compose"],
    command: "docker-compose",
    flavour: "v2",
    version: "2.26.1-4",
  });
  assert.deepEqual(await v2.detect("docker-compose"), {
    argv: ["docker-compose"],
    command: "docker-compose",
    flavour: "v2",
    version: "2.26.1-4",
  });
  const v1 = versions({ "docker-compose": "1.29.2" });
  assert.equal((await v1.detect("docker-compose")).flavour, "v1");
  assert.deepEqual(v1.asked, ["docker-compose"], "asked, not assumed");
});

Deno.test("without a choice the docker compose plugin comes first, then a standalone docker-compose", async () => {
  const both = versions({ "docker compose": "v2.30.0", "docker-compose": "1.29.2" });
  assert.deepEqual(await both.detect(), {
    argv: ["docker", "compose"],
    command: "docker compose",
    flavour: "v2",
    version: "2.30.0",
  });
  assert.deepEqual(both.asked, ["docker compose"], "v1 (~0.3 s) is not started when v2 answers");
  const none = versions({});
  await assert.rejects(() => none.detect(), /neither `docker compose` nor `docker-compose` works/);
  await assert.rejects(() => none.detect("docker-compose"), /"docker-compose" was requested/);
  await assert.rejects(
    () => none.detect("podman-compose"),
    /Unknown compose command "podman-compose"/,
  );
});

const PLUGIN = {
  argv: ["/p/docker-compose", "compose"],
  env: { DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: "/b/docker" },
};

Deno.test("docker compose runs its plugin file directly when there is one, told which docker CLI it serves", async () => {
  const v2 = versions({ "/p/docker-compose compose": "2.26.1", "docker compose": "2.26.1" });
  const tool = await probeCompose(v2.exec, "docker compose", Promise.resolve(PLUGIN));
  assert.deepEqual(tool, { ...PLUGIN, command: "docker compose", flavour: "v2", version: "2.26.1" });
  assert.deepEqual(v2.asked, ["/p/docker-compose compose"], "the docker CLI is not started");
  assert.deepEqual(v2.envs, [PLUGIN.env]);
  // A plugin file that does not answer (not one, or broken): the docker CLI is asked, as before.
  const broken = versions({ "docker compose": "2.30.0" });
  const viaCli = await probeCompose(broken.exec, "docker compose", Promise.resolve(PLUGIN));
  assert.deepEqual(viaCli?.argv, ["docker", "compose"]);
  assert.deepEqual(broken.asked, ["/p/docker-compose compose", "docker compose"]);
  // docker-compose is never looked for as a plugin.
  assert.equal(await probeCompose(v2.exec, "docker-compose"), undefined);
});

Deno.test("the compose plugin file is found where the docker CLI looks: extra dirs, then DOCKER_CONFIG", async () => {
  const dir = await Deno.makeTempDir();
  const saved = { PATH: Deno.env.get("PATH")!, DOCKER_CONFIG: Deno.env.get("DOCKER_CONFIG") };
  const file = async (path: string, mode = 0o755, text = "\x7fELF") => {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text, { mode });
  };
  try {
    await file("bin/docker"); // a program, as Docker's CLI is
    await file("config/cli-plugins/docker-compose");
    Deno.env.set("PATH", `${dir}/bin`);
    Deno.env.set("DOCKER_CONFIG", `${dir}/config`);
    assert.deepEqual(await composePlugin(), {
      argv: [`${dir}/config/cli-plugins/docker-compose`, "compose"],
      env: { DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: `${dir}/bin/docker` },
    });
    // config.json's cliPluginsExtraDirs come first; a file that is not executable is passed over.
    await file("extra/docker-compose");
    await file("skip/docker-compose", 0o644);
    const extra = { cliPluginsExtraDirs: [`${dir}/skip`, `${dir}/extra`] };
    await Deno.writeTextFile(`${dir}/config/config.json`, JSON.stringify(extra));
    assert.equal((await composePlugin())?.argv[0], `${dir}/extra/docker-compose`);
    // Without a docker CLI, `docker compose` does not run, so neither does its plugin.
    Deno.env.set("PATH", `${dir}/none`);
    assert.equal(await composePlugin(), undefined);
    // A `docker` that is a script (podman-docker's) or another program by that name (a snap's link to
    // `snap`) is gone through: it may set up what it runs its own way.
    await file("script/docker", 0o755, '#!/bin/sh\nexec podman "$@"\n');
    Deno.env.set("PATH", `${dir}/script`);
    assert.equal(await composePlugin(), undefined);
    await file("snap/snap");
    await Deno.mkdir(`${dir}/snapbin`);
    await Deno.symlink(`${dir}/snap/snap`, `${dir}/snapbin/docker`);
    Deno.env.set("PATH", `${dir}/snapbin`);
    assert.equal(await composePlugin(), undefined);
    // A link to Docker's CLI (Docker Desktop's, Homebrew's) is Docker's CLI.
    await Deno.mkdir(`${dir}/linked`);
    await Deno.symlink(`${dir}/bin/docker`, `${dir}/linked/docker`);
    Deno.env.set("PATH", `${dir}/linked`);
    assert.equal((await composePlugin())?.env.DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND, `${dir}/linked/docker`);
  } finally {
    Deno.env.set("PATH", saved.PATH);
    if (saved.DOCKER_CONFIG === undefined) Deno.env.delete("DOCKER_CONFIG");
    else Deno.env.set("DOCKER_CONFIG", saved.DOCKER_CONFIG);
    await Deno.remove(dir, { recursive: true });
  }
});

// Recorded from Compose 2.26.1 and 1.29.2 on the same files.
const V2_STDERR = [
  'time="2026-11-30T04:24:44Z" level=warning msg="/w/docker-compose.yml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"',
  'time="2026-11-30T04:27:15Z" level=warning msg="The \\"X\\" variable is not set. Defaulting to a blank string."',
  "error while interpolating services.web.ports.[]: required variable P is missing a value: set P please",
].join("\n");
const V1_STDERR = [
  "The X variable is not set. Defaulting to a blank string.",
  "",
  `Missing mandatory value for "ports" option interpolating ['\${P:?set P please}:80'] in service "web": set P please`,
].join("\n");

Deno.test("Compose's stderr reads the same from v2 (logrus records) and v1 (plain lines)", () => {
  assert.deepEqual(composeTail(V2_STDERR, 5), [
    "/w/docker-compose.yml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
    'The "X" variable is not set. Defaulting to a blank string.',
    "error while interpolating services.web.ports.[]: required variable P is missing a value: set P please",
  ]);
  assert.deepEqual(composeTail(V1_STDERR, 2), [
    "The X variable is not set. Defaulting to a blank string.",
    `Missing mandatory value for "ports" option interpolating ['\${P:?set P please}:80'] in service "web": set P please`,
  ]);
  assert.equal(composeLine('time="x" level=error msg="boom" extra'), "ERROR: boom extra");
  assert.equal(composeLine(" Container shop-web-1  Started"), " Container shop-web-1  Started");
});

Deno.test("Docker's health is read from a container's status; no healthcheck is no state", () => {
  assert.equal(healthState("Up 3 seconds (health: starting)"), "starting");
  assert.equal(healthState("Up 2 minutes (healthy)"), "healthy");
  assert.equal(healthState("Up 5 seconds (unhealthy)"), "unhealthy");
  assert.equal(healthState("Up 5 seconds"), undefined);
  assert.equal(healthState("Exited (1) 2 seconds ago"), undefined);
});

const container = (service: string, status: string): ContainerState => ({
  name: `p-${service}-1`,
  service,
  state: "running",
  status,
  ports: "",
});

Deno.test("waitContainersHealthy waits for starting healthchecks, fails on unhealthy, ignores the rest", async () => {
  const signal = new AbortController().signal;
  const states = [["Up 1 second (health: starting)"], ["Up 2 seconds (health: starting)"], [
    "Up 2 seconds (healthy)",
  ]];
  let call = 0;
  const ok = await waitContainersHealthy(
    () =>
      Promise.resolve([container("db", states[Math.min(call++, 2)][0]), container("web", "Up 2 seconds")]),
    5_000,
    signal,
  );
  assert.equal(ok.ok, true);
  assert.equal(ok.checked, 1);
  assert.equal(call, 3, "listed until the starting one was healthy");

  const bad = await waitContainersHealthy(
    () =>
      Promise.resolve([
        container("db", "Up 9 seconds (unhealthy)"),
        container("api", "Up 1 second (healthy)"),
      ]),
    5_000,
    signal,
  );
  assert.deepEqual([bad.ok, bad.reason, bad.failing], [false, "unhealthy", ["db (p-db-1)"]]);

  const slow = await waitContainersHealthy(
    () => Promise.resolve([container("db", "Up 1 second (health: starting)")]),
    120,
    signal,
  );
  assert.deepEqual([slow.ok, slow.reason, slow.failing], [false, "still starting", ["db (p-db-1)"]]);

  const none = await waitContainersHealthy(
    () => Promise.resolve([container("web", "Up 1 second")]),
    0,
    signal,
  );
  assert.deepEqual([none.ok, none.checked], [true, 0]);
});

Deno.test("Compose's error headline is the error, not v1's advice paragraph printed after it", () => {
  // Compose 1.29.2 on awesome-compose's react-rust-postgres (a top-level `name:`, which v1 does not know).
  const v1 = [
    "The Compose file './compose.yaml' is invalid because:",
    "'name' does not match any of the regexes: '^x-'",
    "",
    "You might be seeing this error because you're using the wrong Compose file version. Either specify a supported version.",
    "For more on the Compose file format versions, see https://docs.docker.com/compose/compose-file/",
  ].join("\n");
  const error = composeError(v1);
  assert.equal(error.message, "'name' does not match any of the regexes: '^x-'");
  assert.deepEqual(error.details.map((l) => l.slice(0, 30)), [
    "The Compose file './compose.ya",
    "You might be seeing this error",
    "For more on the Compose file f",
  ]);
  assert.deepEqual(composeError(V2_STDERR), {
    message:
      "error while interpolating services.web.ports.[]: required variable P is missing a value: set P please",
    details: [
      "/w/docker-compose.yml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
      'The "X" variable is not set. Defaulting to a blank string.',
    ],
  });
  assert.deepEqual(composeError(""), { message: undefined, details: [] });
});
