/** `kinfra init`: scripted with --yes, comment-preserving compose edits, refusing to overwrite. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseInfraConfig } from "../core/project/config/load.ts";
import { assertDocker, inCI, makeSandbox, needsDocker, withSandbox } from "./helpers.ts";

const COMPOSE = `# Shop stack: this comment must survive
services:
  api:                    # the API
    image: kinfra-test/busybox
    ports:
      - "8080:8080"       # HTTP
      - 127.0.0.1:9229:9229
    networks: [backend]

  db:
    image: kinfra-test/busybox
    ports:
      - target: 5432
        published: 5432   # postgres
networks:
  backend: {}
`;

Deno.test({
  name: "init --yes parameterizes ports in place, keeps comments, and a second run refuses without --force",
  ...needsDocker(),
  fn: async () => {
    if (inCI) assertDocker();
    const sb = await makeSandbox();
    try {
      const repo = await sb.repo("shop", { "docker-compose.yml": COMPOSE });
      const run = await sb.kinfra([
        "--json",
        "init",
        "--yes",
        "--health-endpoint",
        "/health",
        "--mount",
        "src/:/app/src",
        "--code-target",
        "api",
      ], { cwd: repo });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.json<{ ports: unknown }>().ports, {
        SHOP_API_PORT: 8080,
        SHOP_API_PORT_9229: 9229,
        SHOP_DB_PORT: 5432,
      });

      const compose = await Deno.readTextFile(join(repo, "docker-compose.yml"));
      const expected = COMPOSE
        .replace(`"8080:8080"`, `"\${SHOP_API_PORT:-8080}:8080"`)
        .replace(`127.0.0.1:9229:9229`, `"127.0.0.1:\${SHOP_API_PORT_9229:-9229}:9229"`)
        .replace(`published: 5432`, `published: "\${SHOP_DB_PORT:-5432}"`);
      assert.equal(compose, expected, "only the port scalars changed; comments and order intact");

      const config = parseInfraConfig(
        await Deno.readTextFile(join(repo, ".devops-ai/infra.toml")),
        "infra.toml",
        20,
      );
      assert.equal(config.project.name, "shop");
      assert.deepEqual(config.sandbox?.health, {
        endpoint: "/health",
        port_var: "SHOP_API_PORT",
        timeout: 60,
      });
      assert.deepEqual(config.sandbox?.mounts.code_targets, ["api"]);
      // A network the file defines stays each sandbox's own (no fixed name): nothing to share.
      assert.deepEqual(config.sandbox?.networks.include, []);

      const again = await sb.kinfra(["init", "--yes"], { cwd: repo });
      assert.equal(again.code, 3);
      assert.match(again.stderr, /already exists/);
      assert.match(again.stderr, /--force/);

      const forced = await sb.kinfra(["init", "--yes", "--force", "--name", "shop2"], { cwd: repo });
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(
        await Deno.readTextFile(join(repo, "docker-compose.yml")),
        expected,
        "re-running is idempotent",
      );
      assert.match(await Deno.readTextFile(join(repo, ".devops-ai/infra.toml")), /name = "shop2"/);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("init without a terminal and without --yes names the flags and writes nothing", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { "docker-compose.yml": COMPOSE });
    const run = await sb.kinfra(["init"], { cwd: repo });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--yes/);
    assert.match(run.stderr, /--name/);
    assert.equal(await Deno.readTextFile(join(repo, "docker-compose.yml")), COMPOSE);
  }));

Deno.test("init --no-sandbox writes a worktree-only config and leaves the compose file alone", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("My Shop", { "docker-compose.yml": COMPOSE });
    const run = await sb.kinfra(["init", "--yes", "--no-sandbox"], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    const config = parseInfraConfig(
      await Deno.readTextFile(join(repo, ".devops-ai/infra.toml")),
      "infra.toml",
      20,
    );
    assert.equal(config.project.name, "my-shop");
    assert.equal(config.sandbox, undefined);
    assert.equal(await Deno.readTextFile(join(repo, "docker-compose.yml")), COMPOSE);
  }));

Deno.test("init refuses bad flags with exit 2 before writing", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { "docker-compose.yml": COMPOSE });
    for (
      const args of [["--name", "Bad Name"], ["--mount", "../x:/y"], ["--code-target", "nope"], [
        "--health-endpoint",
        "health",
      ]]
    ) {
      const run = await sb.kinfra(["init", "--yes", ...args], { cwd: repo });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(args[0]));
    }
    assert.equal(await Deno.readTextFile(join(repo, "docker-compose.yml")), COMPOSE);
  }));

Deno.test('init with a sandbox says "Docker is not running." (exit 4) when the engine does not answer', () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("shop", { "docker-compose.yml": COMPOSE });
    const run = await sb.kinfra(["init", "--yes"], {
      cwd: repo,
      env: { DOCKER_HOST: `unix://${sb.dir}/no-docker.sock` },
    });
    assert.equal(run.code, 4);
    assert.match(run.stderr, /Docker is not running\./);
    assert.equal(await Deno.readTextFile(join(repo, "docker-compose.yml")), COMPOSE);
  }));

Deno.test({
  name: "init refuses a compose file that is a symlink (git commits the link), before writing anything",
  ...needsDocker(),
  fn: async () => {
    if (inCI) assertDocker();
    await withSandbox(async (sb) => {
      const repo = await sb.repo("shop", { "deploy/compose.yml": COMPOSE });
      await Deno.symlink("deploy/compose.yml", join(repo, "docker-compose.yml"));
      const run = await sb.kinfra(["init", "--yes"], { cwd: repo });
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        /docker-compose\.yml is a symlink \(to deploy\/compose\.yml\); nothing was written/,
      );
      assert.ok((await Deno.lstat(join(repo, "docker-compose.yml"))).isSymlink, "still a link");
      assert.equal(await Deno.readTextFile(join(repo, "deploy/compose.yml")), COMPOSE);
      assert.equal(await Deno.stat(join(repo, ".devops-ai")).catch(() => undefined), undefined);
      const direct = await sb.kinfra(["init", "--yes", "--compose-file", "deploy/compose.yml"], {
        cwd: repo,
      });
      assert.equal(direct.code, 0, direct.stderr);
    });
  },
});

Deno.test("init outside a git repository, or in a bare one, is refused (exit 2) and writes nothing", () =>
  withSandbox(async (sb) => {
    const plain = join(sb.dir, "plain");
    await Deno.mkdir(plain);
    await Deno.writeTextFile(join(plain, "docker-compose.yml"), COMPOSE);
    const bare = join(sb.dir, "bare.git");
    await new Deno.Command("git", { args: ["init", "-q", "--bare", bare] }).output();
    for (const cwd of [plain, bare]) {
      const run = await sb.kinfra(["init", "--yes", "--no-sandbox"], { cwd });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /is not inside a git repository with a working tree; nothing was written/);
      assert.equal(await Deno.stat(join(cwd, ".devops-ai")).catch(() => undefined), undefined);
    }
  }));
