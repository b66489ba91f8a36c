/**
 * The compose corpus findings (tests/fixtures/compose/corpus/) through the real CLI and real
 * Compose, on both flavours: `init --yes` and `impl --dry-run` on each small reproduction. Nothing
 * is started (dry runs), so no port is taken from other tests; the Docker engine must answer
 * (init checks it).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { join } from "node:path";
import { git, pathExists, type Run, type Sandbox } from "./helpers.ts";
import { dockerTest } from "./sandbox_helpers.ts";

const FIXTURES = new URL("./fixtures/compose/corpus/", import.meta.url).pathname;
const FLAVOURS = ["docker compose", "docker-compose"] as const;

async function fixtureRepo(sb: Sandbox, name: string, fixture: string): Promise<string> {
  const files: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(join(FIXTURES, fixture, dir))) {
      if (e.isDirectory) await walk(join(dir, e.name), `${prefix}${e.name}/`);
      else files[`${prefix}${e.name}`] = await Deno.readTextFile(join(FIXTURES, fixture, dir, e.name));
    }
  };
  await walk("", "");
  return await sb.repo(name, files);
}

/** Runs kinfra with the flavour chosen; init's result is committed when it succeeded. */
function runner(sb: Sandbox, flavour: string) {
  const env = { KINFRA_COMPOSE: flavour };
  return {
    kinfra: (repo: string, ...args: string[]) => sb.kinfra(args, { cwd: repo, env }),
    init: async (repo: string): Promise<Run> => {
      const run = await sb.kinfra(["--json", "init", "--yes"], { cwd: repo, env });
      if (run.code === 0) {
        await git(repo, "add", "-A");
        await git(repo, "commit", "-qm", "kinfra init");
      }
      return run;
    },
  };
}

for (const flavour of FLAVOURS) {
  dockerTest(
    `[${flavour}] TCP and UDP on one number: one variable, bind-tested over both; dry-run says why no slot`,
    async (sb, stem) => {
      const k = runner(sb, flavour);
      const repo = await fixtureRepo(sb, `${stem}tu`, "tcp_udp");
      const init = await k.init(repo);
      assert.equal(init.code, 0, init.stderr);
      const prefix = `${stem}tu`.toUpperCase();
      assert.deepEqual(init.json<{ ports: unknown }>().ports, {
        [`${prefix}_LOGSTASH_PORT`]: 50000,
        [`${prefix}_LOGSTASH_PORT_9600`]: 9600,
        [`${prefix}_DNS_PORT`]: 53,
      });
      // One slot only, and its UDP port held here: the dry run says which port, over which protocol.
      await Deno.writeTextFile(join(sb.home, "config.toml"), "[slots]\nmax = 1\n");
      const socket = dgram.createSocket("udp4");
      await new Promise<void>((ok, fail) => socket.once("error", fail).bind(50001, "0.0.0.0", ok));
      try {
        const plan = await k.kinfra(repo, "impl", "a/M1", "--dry-run");
        assert.equal(plan.code, 0, plan.stderr);
        assert.match(
          plan.stdout,
          new RegExp(
            `no free slot right now: slot 1: port 50001/udp \\(${prefix}_LOGSTASH_PORT\\) in use by another process`,
          ),
        );
      } finally {
        socket.close();
      }
      await Deno.writeTextFile(join(sb.home, "config.toml"), "[slots]\nmax = 20\n");
      const free = await k.kinfra(repo, "impl", "a/M1", "--dry-run");
      assert.equal(free.code, 0, free.stderr);
      assert.match(free.stdout, new RegExp(`claim slot \\d+: .*${prefix}_DNS_PORT=\\d+`));
    },
  );

  dockerTest(`[${flavour}] a range of 1,001 ports is refused at init, nothing written`, async (sb, stem) => {
    const k = runner(sb, flavour);
    const repo = await fixtureRepo(sb, `${stem}wr`, "wide_range");
    const before = await Deno.readTextFile(join(repo, "docker-compose.yml"));
    const init = await k.init(repo);
    assert.equal(init.code, 2, init.stderr);
    assert.match(init.stderr, /"8000-9000:8000-9000"\) is a range of 1001 ports; .*Narrow it, or split it/);
    assert.doesNotMatch(init.stderr, /must be 2–1000/);
    assert.equal(await pathExists(join(repo, ".devops-ai")), false);
    assert.equal(await Deno.readTextFile(join(repo, "docker-compose.yml")), before);
  });

  dockerTest(
    `[${flavour}] a bind address with a range is parameterized, the address kept`,
    async (sb, stem) => {
      const k = runner(sb, flavour);
      const repo = await fixtureRepo(sb, `${stem}ir`, "ip_range");
      const init = await k.init(repo);
      assert.equal(init.code, 0, init.stderr);
      const name = `${stem}ir`.toUpperCase();
      assert.deepEqual(
        init.json<{ ports: Record<string, unknown> }>().ports[`${name}_LOCALSTACK_PORT_4510`],
        {
          base: 4510,
          width: 50,
        },
      );
      assert.match(
        await Deno.readTextFile(join(repo, "docker-compose.yml")),
        new RegExp(
          `"127\\.0\\.0\\.1:\\$\\{${name}_LOCALSTACK_PORT_4510:-4510\\}-\\$\\{${name}_LOCALSTACK_PORT_4510_END:-4559\\}:4510-4559"`,
        ),
      );
      const plan = await k.kinfra(repo, "impl", "a/M1", "--dry-run");
      assert.equal(plan.code, 0, plan.stderr);
    },
  );

  dockerTest(
    `[${flavour}] one variable on both sides, also through extends: init and impl say what to write`,
    async (sb, stem) => {
      const k = runner(sb, flavour);
      const repo = await fixtureRepo(sb, `${stem}sv`, "same_var");
      const init = await k.init(repo);
      assert.equal(init.code, 0, init.stderr);
      assert.match(
        init.stderr,
        /\$\{JVB_PORT\} as both the host and the container port.*"\$\{JVB_PORT:-10000\}:10000\/udp"/,
      );
      assert.match(init.stderr, /base\/docker-compose\.base\.yml:6 .*"\$\{INTERFACE_HTTPS_PORT:-443\}:443"/);
      const plan = await k.kinfra(repo, "impl", "a/M1", "--dry-run");
      assert.equal(plan.code, 2, plan.stderr);
      assert.match(
        plan.stderr,
        /jvb publishes host port 10000 \(→ 10000\/udp\): docker-compose\.yml:7 .*both the host/,
      );
      assert.match(
        plan.stderr,
        /nginx publishes host port 443 .*base\/docker-compose\.base\.yml:6 .*both the host/,
      );
      assert.doesNotMatch(plan.stderr, /written in none/);
      assert.equal(await pathExists(join(sb.dir, `${stem}sv-impl-a-M1`)), false);
    },
  );

  dockerTest(
    `[${flavour}] a whole entry written as one variable: where the port comes from and what to write`,
    async (sb, stem) => {
      const k = runner(sb, flavour);
      const repo = await fixtureRepo(sb, `${stem}wv`, "whole_var");
      const init = await k.init(repo);
      if (flavour === "docker-compose" && init.code === 2) {
        // Compose v1 cannot read this file: refused with Compose's own message.
        assert.match(init.stderr, /Compose cannot read/);
        return;
      }
      assert.equal(init.code, 0, init.stderr);
      const origin =
        /immich-server publishes host port 2283 \(→ 2283\/tcp\): it comes from docker-compose\.yml:7 .*the whole entry is the variable \$\{EXPOSE_PORT\}.*Write it as "\$\{VAR:-2283\}:2283"/;
      assert.match(init.stderr, origin);
      const plan = await k.kinfra(repo, "impl", "a/M1", "--dry-run");
      assert.equal(plan.code, 2, plan.stderr);
      assert.match(plan.stderr, origin);
      assert.doesNotMatch(plan.stderr, /written in none/);
    },
  );

  dockerTest(
    `[${flavour}] \${VAR} with its value only in an absent .env: refused at init, naming it`,
    async (sb, stem) => {
      const k = runner(sb, flavour);
      const repo = await fixtureRepo(sb, `${stem}eo`, "env_only");
      const init = await k.init(repo);
      // v1 cannot read the file; v2 would let Docker pick the port: refused alike, saying where to add a value.
      assert.equal(init.code, 2, init.stderr);
      assert.match(init.stderr, /\$\{SVR_WEB_HTTP_PORT\} \(docker-compose\.yml:7\) has no default/);
      assert.equal(await pathExists(join(repo, ".devops-ai")), false);
    },
  );
}
