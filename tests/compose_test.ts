/**
 * Real-shaped compose projects (tests/fixtures/compose/*) through the real CLI and real Compose:
 * `.env`, anchors and merge keys, aliases, `extends`, ranges, UDP, variable bind addresses,
 * inherited `network_mode`, `container_name`, fixed network names, close bases, many aliases.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compose, git, pathExists, type Sandbox } from "./helpers.ts";
import { containersOf, docker, dockerTest, registryOf } from "./sandbox_helpers.ts";

const FIXTURES = new URL("./fixtures/compose/", import.meta.url).pathname;

/** A committed repository `<stem><fixture>` holding the fixture's files (dotfiles too). */
async function fixtureRepo(sb: Sandbox, stem: string, fixture: string, extra: Record<string, string> = {}) {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(FIXTURES, fixture))) {
    files[entry.name] = await Deno.readTextFile(join(FIXTURES, fixture, entry.name));
  }
  return await sb.repo(`${stem}${fixture}`, { ...files, ...extra });
}

/** `kinfra init --yes` (sandboxes off the shared observability stack), committed. */
async function initAndCommit(sb: Sandbox, repo: string, args: string[] = []) {
  const run = await sb.kinfra(["--json", "init", "--yes", ...args], { cwd: repo });
  assert.equal(run.code, 0, run.stderr);
  const toml = join(repo, ".devops-ai/infra.toml");
  await Deno.writeTextFile(toml, (await Deno.readTextFile(toml)) + "\n[sandbox.otel]\nenabled = false\n");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "kinfra init");
  return run;
}

async function impl(sb: Sandbox, repo: string, target: string) {
  const run = await sb.kinfra(["--json", "impl", target], { cwd: repo });
  assert.equal(run.code, 0, run.stderr);
  return run.json<
    { slot: number; ports: Record<string, number>; compose_project: string; messages: string[] }
  >();
}

/** `host:port` pairs Docker publishes for a container port (`docker port`). */
async function published(container: string, port: string): Promise<string[]> {
  return (await docker("port", container, port)).split("\n").filter((l) => !l.includes("::"));
}

const containerOf = async (project: string, service: string) =>
  (await containersOf(project)).find((n) => n.includes(service))!;

dockerTest(
  ".env, anchors, aliases and extends: init rewrites each port where it is written, two sandboxes run",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "media");
    const init = await initAndCommit(sb, repo, ["--code-target", "web"]);
    const name = `${stem}media`.toUpperCase();
    // Fixed ports rewritten in place — the one in the extended file too; the project's own variables adopted.
    assert.deepEqual(init.json<{ ports: unknown }>().ports, {
      ADMIN_PORT: 9000,
      [`${name}_METRICS_PORT`]: 9100,
      HTTP_PORT: 18000,
      [`${name}_WORKER_PORT`]: 7070,
    });
    assert.match(
      await Deno.readTextFile(join(repo, "common.yml")),
      new RegExp(`- "\\$\\{${name}_METRICS_PORT:-9100\\}:9100"   # node exporter`),
    );
    assert.match(init.stderr, /container_name "media-worker"/);
    assert.match(init.stderr, /fixed name "media-backend"/);

    const first = await impl(sb, repo, "a/m1");
    const second = await impl(sb, repo, "b/m1");
    for (const slot of [first, second]) {
      const { compose_project: project, ports } = slot;
      const web = await containerOf(project, "web");
      // TAG, DEBUG and HTTP_PORT's default came from .env; .env's COMPOSE_PROJECT_NAME/COMPOSE_FILE did not win.
      assert.equal(
        await docker("inspect", "-f", "{{.Config.Image}}", web),
        "kinfra-test/busybox:latest",
      );
      assert.match(await docker("exec", web, "sh", "-c", "echo $DEBUG"), /^true$/);
      assert.deepEqual(await published(web, "8000/tcp"), [`0.0.0.0:${ports.HTTP_PORT}`]);
      const metrics = await containerOf(project, "metrics");
      assert.deepEqual(await published(metrics, "9100/tcp"), [`0.0.0.0:${ports[`${name}_METRICS_PORT`]}`]);
      // container_name and the network's fixed name became the slot's own.
      assert.ok((await containersOf(project)).includes(`${project}-worker`));
      const networks = await docker(
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        web,
      );
      assert.equal(networks.trim(), `${project}_backend`, "web keeps the network it got through <<");
      assert.ok(slot.messages.some((m) => m.includes(`container_name media-worker → ${project}-worker`)));
    }
    assert.notEqual(first.ports.HTTP_PORT, second.ports.HTTP_PORT);

    for (const target of ["a-m1", "b-m1"]) {
      const done = await sb.kinfra(["done", target], { cwd: repo });
      assert.equal(done.code, 0, done.stderr);
    }
    assert.deepEqual(await containersOf(first.compose_project), []);
    assert.equal(
      (await docker("network", "ls", "--format", "{{.Name}}")).includes(`${stem}media-slot`),
      false,
    );
  },
);

dockerTest(
  "a .env that [worktree] copy brings in is what the sandbox interpolates with",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "media", { ".gitignore": ".env\n" });
    assert.equal(await git(repo, "ls-files", ".env"), "", ".env is local, not committed");
    await initAndCommit(sb, repo);
    const toml = join(repo, ".devops-ai/infra.toml");
    await Deno.writeTextFile(toml, (await Deno.readTextFile(toml)) + '\n[worktree]\ncopy = [".env"]\n');
    await git(repo, "commit", "-qam", "copy .env");
    const slot = await impl(sb, repo, "a/m1");
    const web = await containerOf(slot.compose_project, "web");
    assert.equal(await docker("inspect", "-f", "{{.Config.Image}}", web), "kinfra-test/busybox:latest");
    assert.deepEqual(await published(web, "8000/tcp"), [`0.0.0.0:${slot.ports.HTTP_PORT}`]);
  },
);

dockerTest(
  "ranges, a variable bind address and UDP: each slot gets its own range; a busy UDP port skips the slot",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "ranges");
    const init = await initAndCommit(sb, repo);
    const v = `${stem}ranges`.toUpperCase();
    assert.deepEqual(init.json<{ ports: unknown }>().ports, {
      [`${v}_DNS_PORT`]: 5353,
      [`${v}_GATEWAY_PORT`]: { base: 9090, width: 2 },
      [`${v}_GATEWAY_PORT_8080`]: 8100,
      [`${v}_LOCALSTACK_PORT`]: { base: 4510, width: 3 },
    });
    const compose = await Deno.readTextFile(join(repo, "compose.yaml"));
    assert.match(
      compose,
      new RegExp(`"\\$\\{BIND:-0\\.0\\.0\\.0\\}:\\$\\{${v}_GATEWAY_PORT_8080:-8100\\}:8080"`),
    );
    assert.match(
      compose,
      new RegExp(
        `"127\\.0\\.0\\.1:\\$\\{${v}_LOCALSTACK_PORT:-4510\\}-\\$\\{${v}_LOCALSTACK_PORT_END:-4512\\}:4510-4512"`,
      ),
    );
    assert.match(
      compose,
      new RegExp(`"\\$\\{${v}_DNS_PORT:-5353\\}:53/udp"    `),
      "protocol and comment kept",
    );

    // Something else holds slot 1's UDP port (over UDP only): slot 1 must be skipped for that reason.
    const { default: dgram } = await import("node:dgram");
    const holder = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => holder.bind(5354, "0.0.0.0", resolve));
    try {
      const first = await sb.kinfra(["--json", "impl", "a/m1"], { cwd: repo });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /Slot 1 skipped: port 5354\/udp .* in use by another process/);
      const slot = first.json<{ slot: number; ports: Record<string, number>; compose_project: string }>();
      assert.notEqual(slot.slot, 1);
      const second = await impl(sb, repo, "b/m1");
      for (const s of [slot, second]) {
        const n = s.slot;
        const gateway = await containerOf(s.compose_project, "gateway");
        assert.deepEqual(await published(gateway, "8081/tcp"), [`0.0.0.0:${9090 + 2 * n + 1}`]);
        const localstack = await containerOf(s.compose_project, "localstack");
        assert.deepEqual(await published(localstack, "4512/tcp"), [`127.0.0.1:${4510 + 3 * n + 2}`]);
        const dns = await containerOf(s.compose_project, "dns");
        assert.deepEqual(await published(dns, "53/udp"), [`0.0.0.0:${5353 + n}`]);
      }
    } finally {
      holder.close();
    }
  },
);

dockerTest("network_mode: host inherited through << and extends gets no networks added", async (sb, stem) => {
  const repo = await fixtureRepo(sb, stem, "hostnet");
  const init = await initAndCommit(sb, repo);
  assert.match(init.stderr, /Service "agent" uses network_mode: host.*cannot be isolated/);
  assert.match(init.stderr, /Service "probe" uses network_mode: host/);
  const slot = await impl(sb, repo, "a/m1");
  const agent = await containerOf(slot.compose_project, "agent");
  assert.equal(await docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", agent), "host");
  const probe = await containerOf(slot.compose_project, "probe");
  assert.equal(await docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", probe), "host");
});

dockerTest(
  "impl refuses a fixed host port left in an anchor, naming service, port and file, before creating anything",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "hostnet", {
      "docker-compose.yml": `# The web tier: every web service publishes the same debug port.
x-debuggable: &debuggable
  image: kinfra-test/busybox
  ports:
    - "9229:9229"                 # node --inspect

services:
  app:
    <<: *debuggable
    command: ["sleep", "3600"]
`,
      ".devops-ai/infra.toml":
        `[project]\nname = "${stem}"\n\n[sandbox]\ncompose_file = "docker-compose.yml"\n`,
    });
    const run = await sb.kinfra(["impl", "a/m1"], { cwd: repo });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /every sandbox would share/);
    assert.match(
      run.stderr,
      /app publishes host port 9229 \(→ 9229\/tcp\): docker-compose\.yml:5 \(x-debuggable\.ports\[0\]: "9229:9229"\)/,
    );
    assert.deepEqual((await registryOf(sb)).slots, {});
    assert.deepEqual((await registryOf(sb)).worktrees, {});
    assert.equal(await pathExists(join(sb.dir, `${stem}-impl-a-m1`)), false);
    assert.equal(await git(repo, "branch", "--list", "impl/*"), "");
  },
);

dockerTest(
  "bases 8001 and 8002 (closer than the slot range) never give two slots one port",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "hostnet", {
      "docker-compose.yml": `# API and its admin UI on neighbouring ports, as many projects have them.
services:
  api:
    image: kinfra-test/busybox
    init: true
    command: ["sleep", "3600"]
    ports: ["8001:8001"]
  admin:
    image: kinfra-test/busybox
    init: true
    command: ["sleep", "3600"]
    ports: ["8002:8002"]
`,
    });
    const init = await initAndCommit(sb, repo);
    assert.match(init.stderr, /closer than the 20-slot range/);
    const first = await impl(sb, repo, "a/m1");
    const second = await impl(sb, repo, "b/m1");
    const all = [...Object.values(first.ports), ...Object.values(second.ports)];
    assert.equal(new Set(all).size, 4, `four distinct ports: ${all}`);
    for (const s of [first, second]) assert.equal((await containersOf(s.compose_project)).length, 2);
  },
);

dockerTest("impl --dry-run prints the override and the exact compose command", async (sb, stem) => {
  const repo = await fixtureRepo(sb, stem, "media");
  await initAndCommit(sb, repo, ["--code-target", "web"]);
  const run = await sb.kinfra(["impl", "a/m1", "--dry-run"], { cwd: repo });
  assert.equal(run.code, 0, run.stderr);
  const project = `${stem}media`;
  assert.match(
    run.stdout,
    new RegExp(
      `${
        compose!.command
      } -f \\S+/${project}-impl-a-m1/docker-compose\\.yml -f \\S+/slots/${project}-1/docker-compose\\.override\\.yml -p ${project}-slot-1 up -d`,
    ),
  );
  assert.match(run.stdout, new RegExp(`container_name: ${project}-slot-1-worker`));
  assert.match(run.stdout, new RegExp(`name: ${project}-slot-1_backend`));
  assert.match(run.stdout, /backend: null/, "services keep the networks they got through <<");
  assert.equal(await pathExists(join(sb.dir, `${project}-impl-a-m1`)), false);

  // Listed in [sandbox.networks] include, the fixed-name network is shared on purpose: not renamed.
  const toml = join(repo, ".devops-ai/infra.toml");
  await Deno.writeTextFile(
    toml,
    (await Deno.readTextFile(toml)) + '\n[sandbox.networks]\ninclude = ["backend"]\n',
  );
  await git(repo, "commit", "-qam", "share backend");
  const shared = await sb.kinfra(["impl", "a/m1", "--dry-run"], { cwd: repo });
  assert.equal(shared.code, 0, shared.stderr);
  assert.doesNotMatch(shared.stdout, /_backend/);
  assert.match(shared.stdout, new RegExp(`container_name: ${project}-slot-1-worker`));

  // A project that publishes nothing fixed says so instead of an empty claim line.
  const quiet = await fixtureRepo(sb, stem, "hostnet", {
    "docker-compose.yml":
      'services:\n  app:\n    image: kinfra-test/busybox\n    ports: ["8080"]  # Docker picks\n',
  });
  await initAndCommit(sb, quiet);
  const plan = await sb.kinfra(["impl", "a/m1", "--dry-run"], { cwd: quiet });
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /claim slot 1 \(no port variables: every published port is one Docker picks\)/);
});

dockerTest(
  "a port variable with no default anywhere is refused at init, saying where to add one",
  async (sb, stem) => {
    const repo = await fixtureRepo(sb, stem, "hostnet", {
      "docker-compose.yml":
        'services:\n  web:\n    image: kinfra-test/busybox\n    ports:\n      - "${HTTP_PORT}:8000"\n',
    });
    const run = await sb.kinfra(["init", "--yes"], { cwd: repo });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /\$\{HTTP_PORT\} \(docker-compose\.yml:5\) has no default/);
    assert.match(run.stderr, /set HTTP_PORT in the \.env beside the compose file/);
    assert.equal(await pathExists(join(repo, ".devops-ai")), false);
  },
);

dockerTest(
  "many aliases parse; a billion-laughs document is refused before Compose reads it",
  async (sb, stem) => {
    let big = "# 60 workers sharing one anchor, as large self-hosted suites do\nx-worker: &worker\n" +
      "  image: kinfra-test/busybox\n  init: true\n  logging: &logging\n    driver: json-file\n" +
      "  environment: &env\n    QUEUE: default\n\nservices:\n";
    for (let i = 0; i < 60; i++) {
      big += `  worker${i}:\n    <<: *worker\n    logging: *logging\n    environment: *env\n`;
    }
    big += '  web:\n    <<: *worker\n    ports: ["8080:8080"]\n';
    const repo = await fixtureRepo(sb, stem, "hostnet", { "docker-compose.yml": big });
    const init = await initAndCommit(sb, repo);
    assert.deepEqual(Object.keys(init.json<{ ports: object }>().ports), [
      `${stem}hostnet`.toUpperCase() + "_WEB_PORT",
    ]);
    const plan = await sb.kinfra(["impl", "a/m1", "--dry-run"], { cwd: repo });
    assert.equal(plan.code, 0, plan.stderr);

    let lol =
      "services:\n  app:\n    image: kinfra-test/busybox\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (
      const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"], [
        "h",
        "g",
      ]]
    ) {
      lol += `x-${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]\n`;
    }
    const bomb = await sb.repo(`${stem}bomb`, { "docker-compose.yml": lol });
    const refused = await sb.kinfra(["init", "--yes"], { cwd: bomb });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /aliases expand to more than \d+ nodes.*billion laughs/);
    assert.equal(await pathExists(join(bomb, ".devops-ai")), false);
  },
);
