/**
 * Foreign objects, races and environment leaks against the real engine (issue "Safe on a real
 * machine"): nothing another home or another tool made is ever touched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compose, makeSandbox, runCommand, writeFiles } from "./helpers.ts";
import {
  containersOf,
  docker,
  dockerTest,
  httpGet,
  IMAGE,
  makeProject,
  randomBase,
  registryOf,
  removeProjects,
} from "./sandbox_helpers.ts";

interface ImplJson {
  path: string;
  slot: number;
  compose_project: string;
  ports: Record<string, number>;
}

dockerTest(
  "gc and doctor from another home leave a look-alike x-slot-1 stack and a second home's sandbox alone",
  async (sb, stem) => {
    // A stack that merely looks like a sandbox, made with plain compose (no kinfra at all).
    const decoy = `${stem}x-slot-1`;
    await writeFiles(join(sb.dir, "decoy"), {
      "docker-compose.yml":
        `services:\n  app:\n    image: ${IMAGE}\n    init: true\n    command: ["sleep", "600"]\n`,
    });
    const up = await runCommand(compose!.argv[0], [...compose!.argv.slice(1), "-p", decoy, "up", "-d"], {
      cwd: join(sb.dir, "decoy"),
    });
    assert.equal(up.code, 0, up.stderr);
    // Home A's live sandbox.
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const made = (await sb.kinfra(["--json", "impl", "live/M1"], { cwd: repo })).json<ImplJson>();
    assert.equal((await containersOf(made.compose_project)).length, 1);

    // Home B knows neither.
    const other = { KINFRA_HOME: join(sb.dir, "home-b") };
    const gc = await sb.kinfra(["--json", "gc"], { cwd: repo, env: other });
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(gc.json<{ compose_projects: string[] }>().compose_projects, []);
    const doctor = await sb.kinfra(["--json", "doctor"], { cwd: repo, env: other });
    assert.match(doctor.stdout, /left alone/);
    assert.equal((await containersOf(decoy)).length, 1, "the look-alike survives");
    assert.equal((await containersOf(made.compose_project)).length, 1, "home A's sandbox survives");
    assert.equal((await httpGet(`http://127.0.0.1:${Object.values(made.ports)[0]}/health`)).status, 200);
    await runCommand(compose!.argv[0], [...compose!.argv.slice(1), "-p", decoy, "down"], {
      cwd: join(sb.dir, "decoy"),
    });
  },
);

dockerTest("gc never removes a sandbox claimed while it runs", async (sb, stem) => {
  const repo = await makeProject(sb, stem, { base: randomBase() });
  // A docker that takes 4 s to list projects: gc is mid-scan while impl claims and starts.
  const real = (await runCommand("sh", ["-c", "command -v docker"])).stdout.trim();
  const bin = join(sb.dir, "slowbin");
  await writeFiles(bin, {
    docker: `#!/bin/sh\n[ "$1" = ps ] && [ "$2" = -a ] && sleep 4\nexec ${real} "$@"\n`,
  });
  await Deno.chmod(join(bin, "docker"), 0o755);
  const gc = sb.kinfra(["--json", "gc"], { cwd: repo, env: { PATH: `${bin}:${Deno.env.get("PATH")}` } });
  await new Promise((r) => setTimeout(r, 500));
  const impl = await sb.kinfra(["--json", "impl", "fresh/M1"], { cwd: repo });
  assert.equal(impl.code, 0, impl.stderr);
  const swept = await gc;
  assert.equal(swept.code, 0, swept.stderr);
  const project = impl.json<ImplJson>().compose_project;
  assert.equal((await containersOf(project)).length, 1, "the new sandbox is still there");
  assert.equal((await registryOf(sb)).slots["1"]?.status, "running");
});

dockerTest("three concurrent `up`s of one worktree give it one slot and one sandbox", async (sb, stem) => {
  const repo = await makeProject(sb, stem, { base: randomBase() });
  assert.equal((await sb.kinfra(["impl", "once/M1", "--no-sandbox"], { cwd: repo })).code, 0);
  const runs = await Promise.all([1, 2, 3].map(() => sb.kinfra(["--json", "up", "once-M1"], { cwd: repo })));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.equal(runs.filter((r) => r.json<{ started: boolean }>().started).length, 1);
  const slots = Object.values((await registryOf(sb)).slots);
  assert.equal(slots.length, 1);
  for (const n of [2, 3]) assert.deepEqual(await containersOf(`${stem}-slot-${n}`), []);
});

dockerTest("bases closer than the slot range never give two slots one port", async (sb, stem) => {
  // Two services on 8001/8002-style bases (one apart), as real projects often have.
  const base = randomBase();
  const repo = await makeProject(sb, stem, {
    base,
    extraServices:
      `  api:\n    image: ${IMAGE}\n    init: true\n    command: ["httpd", "-f", "-p", "9000"]\n` +
      `    ports:\n      - "\${${stem.toUpperCase()}_API_PORT:-${base + 1}}:9000"\n`,
  });
  const toml = join(repo, ".devops-ai/infra.toml");
  await Deno.writeTextFile(
    toml,
    (await Deno.readTextFile(toml)).replace(
      "[sandbox.ports]\n",
      `[sandbox.ports]\n${stem.toUpperCase()}_API_PORT = ${base + 1}\n`,
    ),
  );
  await runCommand("git", ["-C", repo, "commit", "-qam", "api"]);
  const first = await sb.kinfra(["--json", "impl", "a/M1"], { cwd: repo });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /closer than the 20-slot range/);
  const second = await sb.kinfra(["--json", "impl", "b/M1"], { cwd: repo });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Slot 2 skipped: port \d+ \(\w+_WEB_PORT\) belongs to slot 1/);
  const ports = [first, second].flatMap((r) => Object.values(r.json<ImplJson>().ports));
  assert.equal(new Set(ports).size, ports.length, `ports handed out twice: ${ports}`);
});

dockerTest(
  'a port variable inherited from the shell (eval "$(kinfra env)") does not move a new sandbox\'s ports',
  async (sb, stem) => {
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base });
    const first = (await sb.kinfra(["--json", "impl", "one/M1"], { cwd: repo })).json<ImplJson>();
    const variable = `${stem.toUpperCase()}_WEB_PORT`;
    const second = await sb.kinfra(["--json", "impl", "two/M1"], {
      cwd: repo,
      env: { [variable]: String(first.ports[variable]) },
    });
    assert.equal(second.code, 0, second.stderr);
    const published = await docker("port", (await containersOf(`${stem}-slot-2`))[0], "8080/tcp");
    assert.match(published, new RegExp(`:${base + 2}$`, "m"));
  },
);

dockerTest(
  "kinfra env quotes every value and a plugin may not override a slot's port variable",
  async (sb, stem) => {
    const base = randomBase();
    const repo = await makeProject(sb, stem, { base });
    const variable = `${stem.toUpperCase()}_WEB_PORT`;
    const pluginPath = join(sb.dir, "plugins");
    await writeFiles(join(pluginPath, "sneaky"), {
      "plugin.toml":
        `api = 1\nname = "sneaky"\nversion = "1"\ncommand = ["./hook"]\nevents = ["sandbox.prepare"]\n`,
      "hook": `#!/bin/sh\ncat >/dev/null\necho '{"env": {"${variable}": "1"}}'\n`,
    });
    await Deno.chmod(join(pluginPath, "sneaky", "hook"), 0o755);
    const env = { KINFRA_PLUGIN_PATH: pluginPath, KINFRA_HOME: sb.home };
    await writeFiles(sb.home, { "config.toml": `[plugins]\nenable = ["sneaky"]\n` });
    const run = await sb.kinfra(["impl", "x/M1"], { cwd: repo, env });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`env ${variable} is the slot's own variable`));
    assert.deepEqual(await containersOf(`${stem}-slot-1`), [], "rolled back");

    await Deno.remove(join(sb.home, "config.toml"));
    assert.equal((await sb.kinfra(["up", "x-M1"], { cwd: repo })).code, 0);
    const out = await sb.kinfra(["env", "x-M1"], { cwd: repo });
    for (const line of out.stdout.trim().split("\n")) {
      assert.match(line, /^export [A-Za-z_][A-Za-z0-9_]*='[^']*'$/);
    }
    const evaluated = await runCommand("sh", ["-c", `${out.stdout}\necho "$${variable}"`]);
    assert.equal(evaluated.stdout.trim(), String(base + 1));
  },
);

dockerTest("up after the containers were removed by hand starts them again", async (sb, stem) => {
  const base = randomBase();
  const repo = await makeProject(sb, stem, { base });
  assert.equal((await sb.kinfra(["impl", "gone/M1"], { cwd: repo })).code, 0);
  await docker("rm", "-f", ...await containersOf(`${stem}-slot-1`));
  assert.equal((await httpGet(`http://127.0.0.1:${base + 1}/health`)).status, 0);
  const up = await sb.kinfra(["--json", "up", "gone-M1"], { cwd: repo });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.json<{ started: boolean }>().started, true);
  assert.match(up.stderr, /gone or stopped; starting the sandbox again/);
  assert.equal((await httpGet(`http://127.0.0.1:${base + 1}/health`)).status, 200);
});

dockerTest(
  "a second home never reuses a compose project name another home's sandbox has",
  async (sb, stem) => {
    // Same project name in two homes, different port bases: slot 1 of home B would be `<p>-slot-1` too.
    const repo = await makeProject(sb, stem, { base: randomBase() });
    assert.equal((await sb.kinfra(["impl", "a/M1"], { cwd: repo })).code, 0);
    const other = await makeSandbox();
    try {
      const repoB = await makeProject(other, stem, { base: randomBase() });
      const run = await other.kinfra(["--json", "impl", "b/M1"], { cwd: repoB });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Slot 1 skipped: its compose project already exists .* not this home's/);
      assert.equal(run.json<ImplJson>().slot, 2);
      assert.equal((await containersOf(`${stem}-slot-1`)).length, 1, "home A's sandbox untouched");
    } finally {
      await removeProjects(`${stem}-slot-2`);
      await other.cleanup();
    }
  },
);
