/**
 * Sandboxes on a remote Docker engine (issue 28), against a second engine that is really elsewhere:
 * scripts/remote_host.sh builds it in a network namespace of its own (private /30, own dockerd,
 * reachable only through an sshd there with a key made for the run; `ssh` is a wrapper on PATH).
 * Its published ports are not this machine's, so a port answering on 127.0.0.1 went through the
 * tunnels, and its /tmp is not this machine's, so code served there came through the sync.
 * Nothing of it outlives the run. With CI=true, a host that cannot be built fails the tests.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathExists, runCommand, withSandbox, writeFiles } from "./helpers.ts";
import { httpGet, uniqueName } from "./sandbox_helpers.ts";
import {
  assertKeptForHost,
  DATA_VOLUME,
  dockerContext,
  implStarted,
  localContainers,
  onTestHost,
  pathWith,
  remoteContainers,
  remoteDocker,
  remoteHostTest,
  remoteNetworks,
  setup,
  slots,
  until,
  useTestHelperImage,
  whileBlocked,
} from "./remote_helpers.ts";

remoteHostTest(
  "remote hosts: a sandbox on a Docker engine in another network namespace",
  async (t, host) => {
    await t.step(
      "the test host's engine answers only through ssh, and its ports are not this machine's",
      async () => {
        assert.match(await remoteDocker(host, "info", "--format", "{{.DockerRootDir}}"), /^\//);
        const ours = await runCommand("docker", ["info", "--format", "{{.ID}}"]);
        assert.notEqual(await remoteDocker(host, "info", "--format", "{{.ID}}"), ours.stdout.trim());
      },
    );

    await t.step(
      "hosts add/list/test --json; a bad endpoint is exit 2, a dead one exit 4 naming ssh",
      () =>
        withSandbox(async (sb) => {
          const { kinfra, worktree } = await setup(sb, host);
          const list = (await kinfra(["hosts", "list", "--json"])).json<
            { hosts: { name: string; endpoint: string }[] }
          >();
          assert.deepEqual(list.hosts.map((h) => [h.name, h.endpoint]), [["ns", host.endpoint]]);
          const test = await kinfra(["hosts", "test", "ns", "--json"]);
          assert.equal(test.code, 0, test.stdout);
          const checks = test.json<{ checks: { name: string; ok: boolean }[] }>().checks;
          assert.ok(checks.every((c) => c.ok), JSON.stringify(checks));
          assert.ok(checks.some((c) => c.name === "rsync on ns"));
          const bad = await kinfra(["hosts", "add", "x", "ftp://nowhere"]);
          assert.equal(bad.code, 2);
          assert.match(bad.stderr, /ssh:\/\/user@host/);
          // Port 2 of the namespace: nothing listens, the connection is refused at once.
          assert.equal((await kinfra(["hosts", "add", "dead", `ssh://kinfra@${host.addr}:2`])).code, 0);
          const dead = await kinfra(["hosts", "test", "dead"]);
          assert.equal(dead.code, 4, dead.stdout);
          assert.match(dead.stdout, /✗ ssh/);
          const unknown = await kinfra(["impl", "f/M1", "--host", "nope"]);
          assert.equal(unknown.code, 2);
          assert.match(unknown.stderr, /No host "nope"/);
          assert.equal(await pathExists(worktree), false, "refused before the worktree was made");
          assert.equal((await kinfra(["hosts", "rm", "dead"])).code, 0);
          // A docker context is resolved to its endpoint (a config dir of the test's own: ~/.docker untouched).
          const dockerConfig = await dockerContext(sb, "nsctx", `host=${host.endpoint}`);
          const viaContext = await sb.kinfra(["hosts", "add", "ctx", "nsctx", "--json"], {
            cwd: sb.dir,
            env: { PATH: pathWith(host), DOCKER_CONFIG: dockerConfig },
          });
          assert.equal(viaContext.code, 0, viaContext.stderr);
          const added = viaContext.json<{ host: { endpoint: string; docker_host: string } }>().host;
          assert.deepEqual([added.endpoint, added.docker_host], ["context:nsctx", host.endpoint]);
          // tcp:// hosts (plain, TLS, contexts) run sandboxes too: tests/remote_tcp_test.ts.
        }),
    );

    await t.step(
      "impl --host: ports answer on 127.0.0.1 through tunnels, edits are served remotely, down/up, done leaves nothing",
      () =>
        withSandbox(async (sb) => {
          // The compose file's own bind mount of worktree files must reach the copy over there too.
          const { name, base, kinfra, worktree } = await setup(sb, host, {
            webExtra: "    volumes:\n      - ./src:/app/own\n",
          });
          const impl = await kinfra(["impl", "f/M1", "--host", "ns", "--json"]);
          assert.equal(impl.code, 0, impl.stderr);
          const port = base + 1;
          const project = `${name}-slot-1`;
          // Running over there, not here; answering here.
          assert.equal((await remoteContainers(host, project)).length, 1);
          const [container] = await remoteContainers(host, project);
          assert.equal(await remoteDocker(host, "exec", container, "cat", "/app/own/health"), "ok");
          assert.deepEqual(await localContainers(project), []);
          assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).body, "ok\n");
          // The code comes from the copy on the host (its /tmp is not this machine's).
          const [slot] = await slots(sb);
          assert.equal(slot.remote?.host, "ns");
          assert.doesNotMatch(slot.remote!.copy!, /^\/tmp\//);
          assert.equal(
            (await onTestHost(host, `test -d ${worktree}`)).code,
            1,
            "the worktree path exists there",
          );
          type Remote = { remote: { host: string; tunnels: { state: string }; sync: { state: string } } };
          const status = async () => (await kinfra(["status", "--json"], worktree)).json<Remote>();
          const shown = await status();
          assert.equal(shown.remote.host, "ns");
          assert.equal(shown.remote.tunnels.state, "up");
          // worktrees says where it runs (a HOST column only once some sandbox is remote).
          const listed = await kinfra(["worktrees", "--json"], worktree);
          assert.deepEqual(
            listed.json<{ worktrees: { host: string | null }[] }>().worktrees.map((w) => w.host),
            [
              "ns",
            ],
          );
          assert.match(
            (await kinfra(["worktrees"], worktree)).stdout,
            /^KIND +PROJECT +NAME +BRANCH +SLOT +HOST\b.*\n.* 1 +ns /,
          );
          // The agent's first pass may still run; then the sync says it is idle.
          await until("the sync idle", async () => (await status()).remote.sync.state === "idle");

          const start = performance.now();
          await writeFiles(worktree, { "src/page.txt": "edited\n" });
          await until("the edit served remotely", async () =>
            (await httpGet(`http://127.0.0.1:${port}/page.txt`)).body === "edited\n");
          console.log(`    edit → served through the tunnel: ${Math.round(performance.now() - start)} ms`);
          // Ignored files stay here.
          await writeFiles(worktree, {
            ".gitignore": "secret.txt\n",
            "src/secret.txt": "no\n",
            "src/p2.txt": "2\n",
          });
          await until("the second edit", async () =>
            (await httpGet(`http://127.0.0.1:${port}/p2.txt`)).body === "2\n");
          assert.equal((await httpGet(`http://127.0.0.1:${port}/secret.txt`)).status, 404);

          // logs, restart and env reach the remote engine without naming the host again.
          const logs = await kinfra(["logs", "--json"], worktree);
          assert.equal(logs.code, 0, logs.stderr);
          const restart = await kinfra(["restart"], worktree);
          assert.equal(restart.code, 0, restart.stderr);
          await until("health after restart", async () =>
            (await httpGet(`http://127.0.0.1:${port}/health`)).status === 200);
          const env = (await kinfra(["env", "--json"], worktree)).json<{ env: Record<string, string> }>().env;
          assert.equal(env.DOCKER_HOST, host.endpoint);

          const down = await kinfra(["down"], worktree);
          assert.equal(down.code, 0, down.stderr);
          assert.deepEqual(await remoteContainers(host, project), []);
          assert.equal((await httpGet(`http://127.0.0.1:${port}/health`)).status, 0);

          const up = await kinfra(["up"], worktree);
          assert.equal(up.code, 0, up.stderr);
          assert.equal((await remoteContainers(host, project)).length, 1, "up goes back to the same host");
          assert.equal((await httpGet(`http://127.0.0.1:${port}/page.txt`)).body, "edited\n");
          const [again] = await slots(sb);

          const done = await kinfra(["done", "f-M1", "--force"]);
          assert.equal(done.code, 0, done.stderr);
          assert.deepEqual(await remoteContainers(host, project), []);
          assert.equal(await remoteNetworks(host, project), "");
          assert.equal(
            (await onTestHost(host, `test -e ${again.remote!.copy}`)).code,
            1,
            "the copy is gone",
          );
          await until("the tunnel closed", async () =>
            (await httpGet(`http://127.0.0.1:${port}/health`)).status === 0);
          assert.deepEqual(await slots(sb), []);
        }),
    );

    await t.step(
      "a port in use on the remote host refuses that slot (a local bind test would not see it)",
      () =>
        withSandbox(async (sb) => {
          const { name, base, kinfra } = await setup(sb, host);
          const blocker = uniqueName("blocker");
          await remoteDocker(
            host,
            "run",
            "-d",
            "--name",
            blocker,
            "-p",
            `${base + 1}:8080`,
            "kinfra-test/busybox:latest",
            "httpd",
            "-f",
            "-p",
            "8080",
          );
          try {
            const impl = await kinfra(["impl", "f/M1", "--host", "ns"]);
            assert.equal(impl.code, 0, impl.stderr);
            assert.match(
              impl.stderr,
              new RegExp(`Slot 1 skipped: port ${base + 1} \\(\\w+\\) in use on host ns`),
            );
            assert.deepEqual((await slots(sb)).map((s) => s.slot_id), [2]);
            assert.equal((await remoteContainers(host, `${name}-slot-2`)).length, 1);
            assert.equal((await kinfra(["done", "f-M1"])).code, 0);
          } finally {
            await remoteDocker(host, "rm", "-f", blocker);
          }
        }),
    );

    await t.step(
      "--host auto takes the engine with the most room: here while both are empty, then the host",
      () =>
        withSandbox(async (sb) => {
          const { name, kinfra } = await setup(sb, host);
          const first = await kinfra(["impl", "a/M1", "--host", "auto"]);
          assert.equal(first.code, 0, first.stderr);
          assert.match(first.stderr, /--host auto: local/);
          assert.equal((await slots(sb))[0].remote, undefined, "a tie goes to this machine");
          // The local sandbox was measured once healthy: this machine now has less room than the host.
          const second = await kinfra(["impl", "b/M1", "--host", "auto"]);
          assert.equal(second.code, 0, second.stderr);
          assert.match(second.stderr, /--host auto: ns/);
          const remote = (await slots(sb)).find((s) => s.remote);
          assert.equal(remote?.remote?.host, "ns");
          assert.equal((await remoteContainers(host, `${name}-slot-${remote!.slot_id}`)).length, 1);
          for (const w of ["a-M1", "b-M1"]) assert.equal((await kinfra(["done", w])).code, 0);
        }),
    );

    await t.step(
      "snapshots of a remote sandbox live on its host; --seed starts a sandbox there from one",
      () =>
        withSandbox(async (sb) => {
          const { name, kinfra } = await setup(sb, host, DATA_VOLUME);
          await useTestHelperImage(sb);
          const web = async (worktree: string) => {
            const slot = (await slots(sb)).find((s) =>
              (s as { worktree_path?: string }).worktree_path === worktree
            )!;
            return await remoteDocker(
              host,
              "ps",
              "-q",
              "--filter",
              `label=com.docker.compose.project=${name}-slot-${slot.slot_id}`,
            );
          };
          assert.equal((await kinfra(["impl", "a/M1", "--host", "ns"])).code, 0);
          const a = join(sb.dir, `${name}-impl-a-M1`);
          await remoteDocker(host, "exec", await web(a), "sh", "-c", "echo kept > /data/f");
          const saved = await kinfra(["snapshot", "save", "s1", "a-M1"]);
          assert.equal(saved.code, 0, saved.stderr);
          const listed = (await kinfra(["snapshot", "list", "--json"])).json<
            { snapshots: { name: string; host: string }[] }
          >();
          assert.deepEqual(listed.snapshots.map((s) => [s.name, s.host]), [["s1", "ns"]]);
          const here = await kinfra(["impl", "b/M1", "--seed", "s1"]);
          assert.equal(here.code, 2, here.stderr);
          assert.match(here.stderr, /Snapshot "s1" is on ns, and this sandbox goes to local/);
          const there = await kinfra(["impl", "b/M1", "--seed", "s1", "--host", "ns"]);
          assert.equal(there.code, 0, there.stderr);
          assert.equal(
            await remoteDocker(
              host,
              "exec",
              await web(join(sb.dir, `${name}-impl-b-M1`)),
              "cat",
              "/data/f",
            ),
            "kept",
          );
          assert.equal((await kinfra(["snapshot", "rm", "s1"])).code, 0);
          assert.deepEqual(
            (await kinfra(["snapshot", "list", "--json"])).json<{ snapshots: unknown[] }>().snapshots,
            [],
          );
          for (const w of ["a-M1", "b-M1"]) assert.equal((await kinfra(["done", w])).code, 0);
        }),
    );

    await t.step(
      "gc removes this home's orphans on every host, and nothing that lacks its label",
      () =>
        withSandbox(async (sb) => {
          const { name, kinfra } = await setup(sb, host);
          assert.equal((await kinfra(["gc"])).code, 0); // makes the home and its id (nothing to clean yet)
          const id = (await Deno.readTextFile(join(sb.home, "home-id"))).trim();
          const run = (project: string, home: string) =>
            remoteDocker(
              host,
              ...[
                "run",
                "-d",
                "--label",
                `com.docker.compose.project=${project}`,
                "--label",
                `dev.kinfra.home=${home}`,
              ],
              ...["kinfra-test/busybox:latest", "sleep", "600"],
            );
          const ours = `${name}-slot-7`, theirs = `${name}-slot-8`;
          await run(ours, id);
          const foreign = await run(theirs, "someone-else");
          try {
            const gc = await kinfra(["gc", "--json"]);
            assert.equal(gc.code, 0, gc.stderr);
            assert.deepEqual(gc.json<{ compose_projects: string[] }>().compose_projects, [
              `${ours} (host ns)`,
            ]);
            assert.deepEqual(await remoteContainers(host, ours), []);
            assert.equal((await remoteContainers(host, theirs)).length, 1, "not this home's: untouched");
          } finally {
            await remoteDocker(host, "rm", "-f", foreign);
          }
        }),
    );

    await t.step(
      "a host that stops answering mid-way is named, its slot kept, and the next command repairs it",
      () =>
        withSandbox(async (sb) => {
          const { name, kinfra, env, repo } = await setup(sb, host, {
            health: "/missing",
            healthTimeout: 6,
          });
          const { child, project } = await implStarted(sb, host, { name, env, repo }, "piped", "piped");
          // The host drops off the network while kinfra waits for health.
          await whileBlocked(host, async (unblock) => {
            const stderr = await assertKeptForHost(sb, child, "ns");
            assert.match(stderr, /host ns/);
            // Still down: the next command says which host it waits for and keeps the slot.
            const waiting = await kinfra(["worktrees"]);
            assert.match(waiting.stderr, /host ns/);
            // doctor names the host and the slot waiting for it.
            const doctor = (await kinfra(["doctor", "--json"])).json<
              { checks: { name: string; ok: boolean; detail: string }[] }
            >();
            const check = doctor.checks.find((c) => c.name === "host ns");
            assert.equal(check?.ok, false);
            assert.match(check!.detail, /does not answer, 1 sandbox\(es\) \(slot 1\); slot 1 waits/);
            assert.equal((await slots(sb)).length, 1);
            // Back: the next command finishes the cleanup.
            await unblock();
            const repaired = await kinfra(["worktrees"]);
            assert.equal(repaired.code, 0, repaired.stderr);
            assert.deepEqual(await slots(sb), []);
            assert.deepEqual(await remoteContainers(host, project), []);
            assert.equal((await kinfra(["done", "f-M1"])).code, 0);
          });
        }),
    );

    await t.step(
      "a kinfra killed while starting a remote sandbox is repaired by the next command",
      () =>
        withSandbox(async (sb) => {
          const { name, kinfra, env, repo } = await setup(sb, host, {
            health: "/missing",
            healthTimeout: 30,
          });
          const { child, project } = await implStarted(sb, host, { name, env, repo }, "null", "null");
          const [slot] = await slots(sb);
          child.kill("SIGKILL");
          await child.status;
          // The proxy keeps the tunnels of a slot in the registry, whoever made it.
          await until("the tunnel up", async () =>
            (await httpGet(`http://127.0.0.1:${slot.ports[Object.keys(slot.ports)[0]]}/`)).status > 0);
          const status = await kinfra(["worktrees"]);
          assert.equal(status.code, 0, status.stderr);
          assert.match(status.stderr, /stale/);
          assert.deepEqual(await slots(sb), []);
          assert.deepEqual(await remoteContainers(host, project), []);
          await until("the tunnel closed", async () =>
            (await httpGet(`http://127.0.0.1:${slot.ports[Object.keys(slot.ports)[0]]}/`)).status === 0);
          assert.equal((await kinfra(["done", "f-M1"])).code, 0);
        }),
    );

    await t.step(
      "Ctrl-C while a remote sandbox starts rolls back there too: exit 130, nothing left",
      () =>
        withSandbox(async (sb) => {
          const { name, env, repo } = await setup(sb, host, { health: "/missing", healthTimeout: 30 });
          const { child, project } = await implStarted(sb, host, { name, env, repo }, "null", "piped");
          const [slot] = await slots(sb);
          child.kill("SIGINT");
          const out = await child.output();
          assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
          assert.deepEqual(await remoteContainers(host, project), []);
          assert.deepEqual(await slots(sb), []);
          await until("the tunnel closed", async () =>
            (await httpGet(`http://127.0.0.1:${slot.ports[Object.keys(slot.ports)[0]]}/`)).status === 0);
        }),
    );
  },
);
