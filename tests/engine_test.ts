/**
 * The docker plugin reads through the Engine API socket, from the endpoint the docker CLI would use
 * (DOCKER_HOST, a context), and falls back to the CLI when it cannot speak to it. A `docker` shim
 * first on PATH records every CLI call (and runs the real CLI with the default endpoint).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Sandbox, writeFiles } from "./helpers.ts";
import { dockerTest, makeProject, randomBase } from "./sandbox_helpers.ts";

async function withShim(
  sb: Sandbox,
): Promise<{ env: Record<string, string>; calls: () => Promise<string[]> }> {
  const bin = join(sb.dir, "shim");
  const log = join(sb.dir, "docker-calls.log");
  const real = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "command -v docker"], stdout: "piped" }).output()).stdout,
  ).trim();
  await writeFiles(bin, {
    docker:
      `#!/bin/sh\necho "$*" >> ${log}\nunset DOCKER_HOST DOCKER_CONFIG DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH\nexec ${real} "$@"\n`,
  });
  await Deno.chmod(join(bin, "docker"), 0o755);
  return {
    env: { PATH: `${bin}:${Deno.env.get("PATH")}` },
    calls: async () => {
      const text = await Deno.readTextFile(log).catch(() => "");
      await Deno.remove(log).catch(() => {});
      return text.split("\n").filter(Boolean);
    },
  };
}

/** A Docker CLI config whose current context is `name`, pointing at `host`. */
async function contextConfig(sb: Sandbox, name: string, host: string): Promise<string> {
  const dir = join(sb.dir, `docker-config-${name}`);
  const id = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  await writeFiles(dir, {
    "config.json": JSON.stringify({ currentContext: name }),
    [`contexts/meta/${id}/meta.json`]: JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }),
  });
  return dir;
}

dockerTest(
  "status reads containers over the engine socket that DOCKER_HOST or the context names, else the CLI",
  async (sb, stem) => {
    const repo = await makeProject(sb, stem, { base: randomBase() });
    const impl = await sb.kinfra(["impl", "one/M1"], { cwd: repo });
    assert.equal(impl.code, 0, impl.stderr);
    const shim = await withShim(sb);
    const status = async (env: Record<string, string>) => {
      const run = await sb.kinfra(["--json", "status", "one-M1"], {
        cwd: repo,
        env: { ...shim.env, ...env },
      });
      assert.equal(run.code, 0, run.stderr);
      const containers =
        run.json<{ plugins: { docker: { containers: { service: string; state: string }[] } } }>()
          .plugins.docker.containers;
      return { containers: containers.map((c) => `${c.service} ${c.state}`), cli: await shim.calls() };
    };

    const socket = await status({});
    assert.deepEqual(socket, { containers: ["web running"], cli: [] }, "the default socket, no CLI");

    const viaHost = await status({ DOCKER_HOST: "unix:///var/run/docker.sock" });
    assert.deepEqual(viaHost.cli, []);

    // An endpoint this client cannot reach: the CLI answers instead, with the same result.
    const missing = await status({ DOCKER_HOST: `unix://${join(sb.dir, "no.sock")}` });
    assert.deepEqual(missing.containers, ["web running"]);
    assert.ok(missing.cli.some((c) => c.startsWith("ps ")), missing.cli.join("\n"));
    const tls = await status({ DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1" });
    assert.ok(tls.cli.some((c) => c.startsWith("ps ")), "TLS is left to the CLI");

    const good = await contextConfig(sb, "here", "unix:///var/run/docker.sock");
    assert.deepEqual((await status({ DOCKER_CONFIG: good })).cli, [], "a context on the socket");
    const bad = await contextConfig(sb, "elsewhere", `unix://${join(sb.dir, "no.sock")}`);
    const fromContext = await status({ DOCKER_CONFIG: bad });
    assert.deepEqual(fromContext.containers, ["web running"]);
    assert.ok(fromContext.cli.some((c) => c.startsWith("ps ")), "the context's endpoint was followed");

    assert.equal((await sb.kinfra(["done", "one-M1"], { cwd: repo })).code, 0);
  },
);
