/**
 * Sandboxes on a Docker engine reached over tcp:// — plain, and TLS with client certificates —
 * and through a docker context pointing at it (issue 28): the test host's engine
 * (scripts/remote_host.sh) also listens on its own address, 2375 plain and 2376 with --tlsverify
 * and certificates made for the run. No ssh is involved for these hosts: the ports come through
 * kinfra's TCP relay, the code through the engine API into volumes. The namespace's /tmp is not
 * this machine's, so code served there came through the sync.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { KINFRA, pathExists, type Sandbox, withSandbox, writeFiles } from "./helpers.ts";
import { httpGet, makeProject, type ProjectOptions, uniqueName } from "./sandbox_helpers.ts";
import {
  assertKeptForHost,
  dockerContext,
  localContainers,
  remoteContainers,
  remoteDocker,
  type RemoteHost,
  remoteHostTest,
  remoteNetworks,
  slots,
  until,
  whileBlocked,
} from "./remote_helpers.ts";

/** A project and kinfra with no ssh wrapper on PATH: a tcp:// host must not need it. */
async function project(sb: Sandbox, options: Partial<ProjectOptions> = {}) {
  const name = uniqueName("t");
  const base = 24000 + Math.floor(Math.random() * 60) * 100;
  const repo = await makeProject(sb, name, { base, ...options });
  const kinfra = (args: string[], cwd = repo, env: Record<string, string> = {}) =>
    sb.kinfra(args, { cwd, env });
  return { name, base, repo, kinfra, worktree: join(sb.dir, `${name}-impl-f-M1`) };
}

/** Nothing listens on 127.0.0.1:`port` any more (the relay's listener closed, not just its upstream gone). */
function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The code volumes and holder containers of a project's copies on the test host (by kinfra's label). */
const codeObjects = async (host: RemoteHost, project = "") => ({
  volumes:
    (await remoteDocker(host, "volume", "ls", "--format", "{{.Name}}", "--filter", "label=dev.kinfra.code"))
      .split("\n").filter((v) => v && v.includes(project)),
  holders:
    (await remoteDocker(host, "ps", "-a", "--format", "{{.Names}}", "--filter", "label=dev.kinfra.code"))
      .split("\n").filter((v) => v && v.includes(project)),
});

remoteHostTest("remote hosts over tcp:// and TLS: a sandbox without ssh", async (t, host) => {
  await t.step(
    "hosts add/test for tcp:// and TLS; missing or refused certificates are named, and nothing is made",
    () =>
      withSandbox(async (sb) => {
        const { kinfra, worktree, repo } = await project(sb);
        assert.equal((await kinfra(["hosts", "add", "plain", host.tcp])).code, 0);
        const plain = await kinfra(["hosts", "test", "plain", "--json"]);
        assert.equal(plain.code, 0, plain.stdout);
        const checks = plain.json<{ checks: { name: string; ok: boolean; detail: string }[] }>().checks;
        assert.deepEqual(checks.map((c) => [c.name, c.ok]), [["engine API", true], ["engine", true], [
          "compose",
          true,
        ]]);
        assert.match(checks[0].detail, /nothing to install there/);

        // `shared` mounts go over ssh only: refused before the worktree is made, not started without them.
        const toml = join(repo, ".devops-ai/infra.toml");
        const config = await Deno.readTextFile(toml);
        await Deno.writeTextFile(
          toml,
          config.replace(
            'code_targets = ["web"]\n',
            'code_targets = ["web"]\nshared = ["src/:/s"]\nshared_targets = ["web"]\n',
          ),
        );
        const shared = await kinfra(["impl", "f/M1", "--host", "plain"]);
        assert.equal(shared.code, 2, shared.stderr);
        assert.match(
          shared.stderr,
          /reached over tcp:\/\/, and this sandbox's \[sandbox.mounts\] shared are synced over ssh only/,
        );
        assert.equal(await pathExists(worktree), false, "refused before the worktree was made");
        await Deno.writeTextFile(toml, config);

        // Certificates that cannot be read: exit 2, the host not recorded.
        const missing = await kinfra(["hosts", "add", "tls", host.tls, "--tls-certs", join(sb.dir, "nope")]);
        assert.equal(missing.code, 2, missing.stderr);
        assert.match(missing.stderr, /TLS certificates for host "tls" cannot be used: no readable ca\.pem/);
        assert.equal(
          (await kinfra(["hosts", "list", "--json"])).json<{ hosts: unknown[] }>().hosts.length,
          1,
        );

        // A TLS port without certificates, and certificates of a CA the engine does not trust:
        // `hosts test` says which (exit 4), impl refuses before the worktree is made (exit 4).
        assert.equal((await kinfra(["hosts", "add", "bare", host.tls])).code, 0);
        assert.equal(
          (await kinfra(["hosts", "add", "rogue", host.tls, "--tls-certs", host.rogueCerts])).code,
          0,
        );
        const rogueTest = await kinfra(["hosts", "test", "rogue"]);
        assert.equal(rogueTest.code, 4, rogueTest.stdout);
        assert.match(rogueTest.stdout, /✗ engine API \(TLS\)/);
        assert.match(rogueTest.stdout, /Check the certificates/);
        for (const name of ["bare", "rogue"]) {
          const impl = await kinfra(["impl", "f/M1", "--host", name]);
          assert.equal(impl.code, 4, impl.stderr);
          assert.match(impl.stderr, new RegExp(`Host "${name}" \\(tcp://${host.addr}:2376.*cannot be used`));
          assert.match(impl.stderr, /Nothing was created/);
          assert.equal(await pathExists(worktree), false, "refused before the worktree was made");
          assert.deepEqual(await slots(sb), []);
        }

        // The right certificates: copied into the home (the key private), the engine answers over TLS,
        // and the docker CLI gets DOCKER_TLS_VERIFY / DOCKER_CERT_PATH.
        const added = await kinfra(["hosts", "add", "tls", host.tls, "--tls-certs", host.tlsCerts, "--json"]);
        assert.equal(added.code, 0, added.stderr);
        const record = added.json<{ host: { docker_host: string } }>().host;
        assert.equal(record.docker_host, `tcp+tls://${host.addr}:2376?certs=${join(sb.home, "tls", "tls")}`);
        assert.equal((await Deno.stat(join(sb.home, "tls", "tls", "key.pem"))).mode! & 0o777, 0o600);
        const tls = await kinfra(["hosts", "test", "tls", "--json"]);
        assert.equal(tls.code, 0, tls.stdout);
        assert.ok(tls.json<{ checks: { ok: boolean }[] }>().checks.every((c) => c.ok), tls.stdout);
        assert.equal((await kinfra(["hosts", "rm", "tls"])).code, 0);
        assert.equal(await pathExists(join(sb.home, "tls", "tls")), false, "its certificates went with it");

        // A docker context with TLS material is read from the store (DOCKER_CONFIG), as docker does.
        const dockerConfig = await dockerContext(
          sb,
          "tlsctx",
          `host=${host.tls},ca=${host.tlsCerts}/ca.pem,cert=${host.tlsCerts}/cert.pem,key=${host.tlsCerts}/key.pem`,
        );
        const viaContext = await kinfra(["hosts", "add", "ctx", "tlsctx", "--json"], sb.dir, {
          DOCKER_CONFIG: dockerConfig,
        });
        assert.equal(viaContext.code, 0, viaContext.stderr);
        const ctxHost = viaContext.json<{ host: { endpoint: string; docker_host: string } }>().host;
        assert.equal(ctxHost.endpoint, "context:tlsctx");
        assert.match(
          ctxHost.docker_host,
          new RegExp(
            `^tcp\\+tls://${host.addr}:2376\\?certs=${dockerConfig}/contexts/tls/[0-9a-f]{64}/docker$`,
          ),
        );
        const ctxTest = await kinfra(["hosts", "test", "ctx"]);
        assert.equal(ctxTest.code, 0, ctxTest.stdout);
        assert.deepEqual(await codeObjects(host), { volumes: [], holders: [] });
      }),
  );

  await t.step(
    "impl --host on a TLS host: the port answers on 127.0.0.1, edits and deletions are served, down/up, done leaves nothing",
    () =>
      withSandbox(async (sb) => {
        // The compose file's own bind of a worktree directory must reach its volume over there too.
        const { name, kinfra, worktree } = await project(sb, {
          webExtra: "    volumes:\n      - ./src:/app/own\n",
        });
        assert.equal((await kinfra(["hosts", "add", "tls", host.tls, "--tls-certs", host.tlsCerts])).code, 0);
        const impl = await kinfra(["impl", "f/M1", "--host", "tls"]);
        assert.equal(impl.code, 0, impl.stderr);
        // Slot 1 unless another run holds its port here or there: the registry says which.
        const [claimed] = await slots(sb);
        const port = Object.values(claimed.ports)[0];
        const compose = `${name}-slot-${claimed.slot_id}`;
        const [container] = await remoteContainers(host, compose);
        assert.ok(container, "runs on the test host's engine");
        assert.deepEqual(await localContainers(compose), []);
        assert.equal(await remoteDocker(host, "exec", container, "cat", "/app/own/health"), "ok");
        assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).body, "ok\n");
        const [slot] = await slots(sb);
        assert.equal(slot.remote?.host, "tls");

        type Remote = {
          remote: { host: string; tunnels: { state: string }; sync: { state: string; error: string | null } };
        };
        const status = async () => (await kinfra(["status", "--json"], worktree)).json<Remote>();
        assert.equal((await status()).remote.tunnels.state, "up");
        assert.match(
          (await kinfra(["status"], worktree)).stdout,
          new RegExp(`host tls \\(tcp://${host.addr}:2376 \\(TLS\\)\\)`),
        );
        await until("the sync idle", async () => (await status()).remote.sync.state === "idle");

        const start = performance.now();
        await writeFiles(worktree, { "src/page.txt": "edited\n", "src/deep/a/b.txt": "b\n" });
        await until("the edit served remotely", async () =>
          (await httpGet(`http://127.0.0.1:${port}/page.txt`)).body === "edited\n");
        console.log(`    edit → served through the relay: ${Math.round(performance.now() - start)} ms`);
        await until("the nested file", async () =>
          (await httpGet(`http://127.0.0.1:${port}/deep/a/b.txt`)).body === "b\n");
        // Deletions carry over (a file, a whole tree); ignored files stay here.
        await Deno.remove(join(worktree, "src/page.txt"));
        await Deno.remove(join(worktree, "src/deep"), { recursive: true });
        await writeFiles(worktree, {
          ".gitignore": "secret.txt\n",
          "src/secret.txt": "no\n",
          "src/p2.txt": "2\n",
        });
        await until("the second edit", async () =>
          (await httpGet(`http://127.0.0.1:${port}/p2.txt`)).body === "2\n");
        assert.equal((await httpGet(`http://127.0.0.1:${port}/page.txt`)).status, 404);
        assert.equal((await httpGet(`http://127.0.0.1:${port}/deep/a/b.txt`)).status, 404);
        assert.equal((await httpGet(`http://127.0.0.1:${port}/secret.txt`)).status, 404);
        assert.equal(await remoteDocker(host, "exec", container, "ls", "/app/own"), "health\np2.txt");

        // env hands the shell what docker needs for a TLS engine.
        const env = (await kinfra(["env", "--json"], worktree)).json<{ env: Record<string, string> }>().env;
        assert.deepEqual([env.DOCKER_HOST, env.DOCKER_TLS_VERIFY, env.DOCKER_CERT_PATH], [
          host.tls,
          "1",
          join(sb.home, "tls", "tls"),
        ]);
        const restart = await kinfra(["restart"], worktree);
        assert.equal(restart.code, 0, restart.stderr);

        const down = await kinfra(["down"], worktree);
        assert.equal(down.code, 0, down.stderr);
        assert.deepEqual(await remoteContainers(host, compose), []);
        await until("the relay closed", () =>
          Promise.resolve(portFree(port)));
        // A copy removed over there meanwhile (a volume prune) is made and filled again by `up`.
        const { volumes } = await codeObjects(host, name);
        assert.equal(volumes.length, 1);
        await remoteDocker(host, "volume", "rm", ...volumes);
        const up = await kinfra(["up"], worktree);
        assert.equal(up.code, 0, up.stderr);
        assert.equal((await remoteContainers(host, compose)).length, 1, "up goes back to the same host");
        assert.equal((await httpGet(`http://127.0.0.1:${port}/p2.txt`)).body, "2\n");

        const done = await kinfra(["done", "f-M1", "--force"]);
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(await remoteContainers(host, compose), []);
        assert.equal(await remoteNetworks(host, compose), "");
        assert.deepEqual(await codeObjects(host, name), { volumes: [], holders: [] }, "the copy is gone");
        assert.deepEqual(await slots(sb), []);
        assert.equal(
          await pathExists(join(sb.home, "sync")) &&
            (await Array.fromAsync(Deno.readDir(join(sb.home, "sync")))).length,
          0,
        );
        await until("the relay closed", () =>
          Promise.resolve(portFree(port)));
      }),
  );

  await t.step(
    "a docker context pointing at the plain tcp:// engine runs a sandbox the same way",
    () =>
      withSandbox(async (sb) => {
        const { name, kinfra, worktree } = await project(sb);
        const dockerConfig = await dockerContext(sb, "tcpctx", `host=${host.tcp}`);
        const added = await kinfra(["hosts", "add", "ctx", "tcpctx", "--json"], sb.dir, {
          DOCKER_CONFIG: dockerConfig,
        });
        assert.equal(added.json<{ host: { docker_host: string } }>().host.docker_host, host.tcp);
        const impl = await kinfra(["impl", "f/M1", "--host", "ctx"]);
        assert.equal(impl.code, 0, impl.stderr);
        const [claimed] = await slots(sb);
        const [compose, port] = [`${name}-slot-${claimed.slot_id}`, Object.values(claimed.ports)[0]];
        assert.equal((await remoteContainers(host, compose)).length, 1);
        assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).body, "ok\n");
        await writeFiles(worktree, { "src/page.txt": "via context\n" });
        await until("the edit served", async () =>
          (await httpGet(`http://127.0.0.1:${port}/page.txt`)).body === "via context\n");
        const done = await kinfra(["done", "f-M1", "--force"]);
        assert.equal(done.code, 0, done.stderr);
        assert.deepEqual(await remoteContainers(host, compose), []);
        assert.deepEqual(await codeObjects(host, name), { volumes: [], holders: [] });
      }),
  );
  await t.step(
    "a TLS host that stops answering mid-way is named, its slot kept, and the next command repairs it",
    () =>
      withSandbox(async (sb) => {
        const { name, repo, kinfra } = await project(sb, { health: "/missing", healthTimeout: 6 });
        assert.equal((await kinfra(["hosts", "add", "tls", host.tls, "--tls-certs", host.tlsCerts])).code, 0);
        const child = new Deno.Command(KINFRA[0], {
          args: [...KINFRA.slice(1), "impl", "f/M1", "--host", "tls"],
          cwd: repo,
          env: { KINFRA_HOME: sb.home, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const slot = await until("the slot claimed", async () => (await slots(sb))[0]);
        const compose = `${name}-slot-${slot.slot_id}`;
        await until(
          "the sandbox started there",
          async () => (await remoteContainers(host, compose)).length > 0,
        );
        // The host drops off the network while kinfra waits for health.
        await whileBlocked(host, async (unblock) => {
          await assertKeptForHost(sb, child, "tls");
          const doctor = (await kinfra(["doctor", "--json"])).json<
            { checks: { name: string; ok: boolean; detail: string }[] }
          >();
          assert.match(doctor.checks.find((c) => c.name === "host tls")!.detail, /does not answer/);
          await unblock();
          const repaired = await kinfra(["worktrees"]);
          assert.equal(repaired.code, 0, repaired.stderr);
          assert.deepEqual(await slots(sb), []);
          assert.deepEqual(await remoteContainers(host, compose), []);
          assert.equal((await kinfra(["done", "f-M1", "--force"])).code, 0);
          assert.deepEqual(await codeObjects(host, name), { volumes: [], holders: [] });
        });
      }),
  );

  await t.step(
    "gc removes this home's code copies nothing names any more on a tcp:// host, and no other home's",
    () =>
      withSandbox(async (sb) => {
        const { kinfra } = await project(sb);
        assert.equal((await kinfra(["hosts", "add", "plain", host.tcp])).code, 0);
        assert.equal((await kinfra(["gc"])).code, 0); // makes the home and its id
        const id = (await Deno.readTextFile(join(sb.home, "home-id"))).trim();
        const copy = (home: string, name: string) =>
          remoteDocker(
            host,
            "volume",
            "create",
            "--label",
            `dev.kinfra.home=${home}`,
            "--label",
            `dev.kinfra.code=${name}`,
            `${name}-0`,
          );
        const [ours, theirs] = [uniqueName("kinfra-code-ours"), uniqueName("kinfra-code-theirs")];
        await copy(id, ours);
        await copy("someone-else", theirs);
        try {
          const gc = await kinfra(["gc", "--json"]);
          assert.equal(gc.code, 0, gc.stderr);
          assert.deepEqual(gc.json<{ code_copies: string[] }>().code_copies, [`${ours} (host plain)`]);
          assert.deepEqual(await codeObjects(host, ours), { volumes: [], holders: [] });
          assert.deepEqual(
            (await codeObjects(host, theirs)).volumes,
            [`${theirs}-0`],
            "another home's: untouched",
          );
        } finally {
          await remoteDocker(host, "volume", "rm", "-f", `${theirs}-0`);
        }
      }),
  );
  await t.step(
    "Ctrl-C while a sandbox starts on a TLS host rolls back there too: exit 130, nothing left",
    () =>
      withSandbox(async (sb) => {
        const { name, repo, kinfra } = await project(sb, { health: "/missing", healthTimeout: 30 });
        assert.equal((await kinfra(["hosts", "add", "tls", host.tls, "--tls-certs", host.tlsCerts])).code, 0);
        const child = new Deno.Command(KINFRA[0], {
          args: [...KINFRA.slice(1), "impl", "f/M1", "--host", "tls"],
          cwd: repo,
          env: { KINFRA_HOME: sb.home, NO_COLOR: "1" },
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const slot = await until("the slot claimed", async () => (await slots(sb))[0]);
        const compose = `${name}-slot-${slot.slot_id}`;
        await until("the sandbox started there", async () =>
          (await remoteContainers(host, compose)).length > 0);
        child.kill("SIGINT");
        const out = await child.output();
        assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
        assert.deepEqual(await remoteContainers(host, compose), []);
        assert.deepEqual(await slots(sb), []);
        const port = Object.values(slot.ports)[0];
        await until("the relay closed", () =>
          Promise.resolve(portFree(port)));
        // The worktree is kept (its copy with it); done removes both.
        assert.equal((await kinfra(["done", "f-M1", "--force"])).code, 0);
        assert.deepEqual(await codeObjects(host, name), { volumes: [], holders: [] });
      }),
  );
});
