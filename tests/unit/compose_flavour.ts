/**
 * Where Compose v1 and v2 differ in what kinfra sees, without Docker: which flavour a command is
 * (a standalone `docker-compose` may be either), their stderr, and Docker's health in a container
 * status. The e2e side is tests/compose_flavours_test.ts, which scripts/test.sh runs with each.
 */
import assert from "node:assert/strict";
import { detectCompose } from "../../core/compose/tool.ts";
import { composeError, composeLine, composeTail } from "../../core/compose/stderr.ts";
import type { Exec } from "../../core/io/exec.ts";
import type { ContainerState } from "../../plugins/docker/containers.ts";
import { healthState, waitContainersHealthy } from "../../plugins/docker/container_health.ts";

/** An exec where each program answers `version --short` as given (undefined: not installed). */
function versions(answers: Record<string, string | undefined>): { exec: Exec; asked: string[] } {
  const asked: string[] = [];
  const exec: Exec = (cmd, args) => {
    const command = [cmd, ...args.slice(0, -2)].join(" ");
    asked.push(command);
    const out = answers[command];
    return Promise.resolve({
      code: out ? 0 : 1,
      success: Boolean(out),
      stdout: out ? `${out}\n` : "",
      stderr: "",
    });
  };
  return { exec, asked };
}

Deno.test("a standalone docker-compose is asked its version: Debian's and Docker's v2 builds are v2", async () => {
  const v2 = versions({ "docker-compose": "2.26.1-4" });
  assert.deepEqual(await detectCompose(v2.exec), {
    argv: ["docker-compose"],
    flavour: "v2",
    version: "2.26.1-4",
  });
  assert.deepEqual(await detectCompose(v2.exec, "docker-compose"), {
    argv: ["docker-compose"],
    flavour: "v2",
    version: "2.26.1-4",
  });
  const v1 = versions({ "docker-compose": "1.29.2" });
  assert.equal((await detectCompose(v1.exec, "docker-compose")).flavour, "v1");
  assert.deepEqual(v1.asked, ["docker-compose"], "asked, not assumed");
});

Deno.test("without a choice the docker compose plugin comes first, then a standalone docker-compose", async () => {
  const both = versions({ "docker compose": "v2.30.0", "docker-compose": "1.29.2" });
  assert.deepEqual(await detectCompose(both.exec), {
    argv: ["docker", "compose"],
    flavour: "v2",
    version: "2.30.0",
  });
  assert.deepEqual(both.asked, ["docker compose"], "v1 (~0.3 s) is not started when v2 answers");
  const none = versions({});
  await assert.rejects(() => detectCompose(none.exec), /neither `docker compose` nor `docker-compose` works/);
  await assert.rejects(() => detectCompose(none.exec, "docker-compose"), /"docker-compose" was requested/);
  await assert.rejects(
    () => detectCompose(none.exec, "podman-compose"),
    /Unknown compose command "podman-compose"/,
  );
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
