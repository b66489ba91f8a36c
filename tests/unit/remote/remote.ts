/**
 * The pure parts of remote hosts (core/remote, core/io/engine.ts): endpoints, the remote shell's
 * quoting, ports read from /proc/net and `docker ps`, the tunnels' and rsync's argv, the probe target.
 */
import assert from "node:assert/strict";
import { checkHostName, type Host, parseSshEndpoint } from "../../../core/remote/hosts.ts";
import { type BusyPorts, parseProcNet, parsePublished } from "../../../core/remote/ports.ts";
import { shellWord, sshArgs } from "../../../core/remote/ssh.ts";
import { rsyncArgs } from "../../../core/remote/sync.ts";
import { tunnelArgs, tunnelPorts } from "../../../core/remote/tunnels.ts";
import { dockerEnv, probeTarget } from "../../../core/io/engine.ts";
import { remapBinds } from "../../../plugins/docker/remote_binds.ts";

const host: Host = {
  name: "big",
  endpoint: "ssh://me@box:2222",
  docker_host: "ssh://me@box:2222",
  ssh: { destination: "me@box", port: 2222 },
  added_at: "",
};
const busy = (): BusyPorts => ({ tcp: new Set(), udp: new Set() });

Deno.test("parseSshEndpoint() takes user, host and port; a missing user or a path is refused (exit 2)", () => {
  assert.deepEqual(parseSshEndpoint("ssh://me@box"), { destination: "me@box" });
  assert.deepEqual(parseSshEndpoint("ssh://me@10.0.0.2:2222"), { destination: "me@10.0.0.2", port: 2222 });
  for (const bad of ["ssh://box", "ssh://me@box:99999", "ssh://me@box/x y", "ssh://me;rm@box"]) {
    assert.throws(() => parseSshEndpoint(bad), (e: { code: number }) => e.code === 2, bad);
  }
});

Deno.test("checkHostName() refuses local, auto and names that are not short and lower-case", () => {
  checkHostName("big-1");
  for (const bad of ["local", "auto", "Big", "-x", "a b", "x".repeat(41)]) {
    assert.throws(() => checkHostName(bad), (e: { code: number }) => e.code === 2, bad);
  }
});

Deno.test("shellWord() leaves plain words alone and single-quotes the rest, quotes included", () => {
  assert.equal(shellWord("/home/u/.kinfra/sync/a-1"), "/home/u/.kinfra/sync/a-1");
  assert.equal(shellWord("a b"), "'a b'");
  assert.equal(shellWord("$(rm -rf ~)"), "'$(rm -rf ~)'");
  assert.equal(shellWord("it's"), "'it'\\''s'");
});

Deno.test("sshArgs() puts kinfra's options and the port before `--` and the destination", () => {
  const args = sshArgs(host);
  assert.deepEqual(args.slice(-4), ["-p", "2222", "--", "me@box"]);
  assert.ok(args.includes("BatchMode=yes"));
});

Deno.test("parseProcNet() reads listening TCP sockets and bound UDP ones, v4 and v6", () => {
  const text = [
    "==tcp",
    "  sl  local_address rem_address   st",
    "   0: 00000000:5E1F 00000000:0000 0A 00000000:00000000",
    "   1: 0100007F:1F90 0100007F:D2A4 01 00000000:00000000", // established: not a listener
    "==tcp6",
    "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0",
    "==udp",
    "   0: 00000000:14E9 00000000:0000 07 00000000:00000000",
  ].join("\n");
  const ports = busy();
  parseProcNet(text, ports);
  assert.deepEqual([...ports.tcp].sort(), [24095, 80]);
  assert.deepEqual([...ports.udp], [5353]);
});

Deno.test("parsePublished() reads `docker ps` ports, ranges and UDP included", () => {
  const ports = busy();
  parsePublished(
    "0.0.0.0:8081->8080/tcp, [::]:8081->8080/tcp\n0.0.0.0:9000-9002->9000-9002/udp, 5432/tcp",
    ports,
  );
  assert.deepEqual([...ports.tcp], [8081]);
  assert.deepEqual([...ports.udp], [9000, 9001, 9002]);
});

Deno.test("tunnelPorts() forwards every TCP port of a slot, ranges expanded, UDP-only variables left out", () => {
  const slot = {
    ports: { WEB: 8081, RTP: 9001, API: 7001, API_END: 7003 },
    widths: { API: 3 },
    udp: ["RTP"],
  };
  assert.deepEqual(tunnelPorts(slot).sort(), [7001, 7002, 7003, 8081]);
  assert.deepEqual(
    tunnelArgs(host, [8081]).slice(0, 5),
    ["-N", "-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:8081:127.0.0.1:8081"],
  );
});

Deno.test("rsyncArgs() keeps .git and ignored files local, deletes what went, reaches the host on its port", () => {
  const args = rsyncArgs(host, "/w/shop-impl-a-M1", "/home/me/.kinfra/sync/x");
  assert.ok(
    args.includes("--delete") && args.includes("--exclude=/.git") && args.includes("--filter=:- .gitignore"),
  );
  assert.match(args[args.indexOf("-e") + 1], /^ssh .* -p 2222$/);
  assert.deepEqual(args.slice(-2), ["/w/shop-impl-a-M1/", "me@box:/home/me/.kinfra/sync/x/"]);
});

Deno.test("probeTarget() knocks on sshd's port (22 by default) or the tcp:// engine's; nothing for unix://", () => {
  assert.deepEqual(probeTarget("ssh://me@box"), { hostname: "box", port: 22, ssh: true });
  assert.deepEqual(probeTarget("ssh://me@10.0.0.2:2222"), { hostname: "10.0.0.2", port: 2222, ssh: true });
  assert.deepEqual(probeTarget("tcp://[::1]:2375"), { hostname: "::1", port: 2375, ssh: false });
  assert.equal(probeTarget("unix:///run/docker.sock"), undefined);
});

Deno.test("dockerEnv() sets DOCKER_HOST and unsets DOCKER_CONTEXT and TLS settings, keeping the caller's options", () => {
  const opts = dockerEnv({ docker_host: "ssh://me@box" }, { cwd: "/x", env: { A: "1" }, unset: ["B"] });
  assert.deepEqual(opts, {
    cwd: "/x",
    env: { A: "1", DOCKER_HOST: "ssh://me@box" },
    unset: ["B", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"],
  });
});

Deno.test("rsyncArgs() for the first pass makes the copy's directory in the same connection, quoted", () => {
  const args = rsyncArgs(host, "/w/a", "/home/me/.kinfra/sync/it's", true);
  assert.ok(args.includes("--rsync-path=mkdir -p '/home/me/.kinfra/sync/it'\\''s' && rsync"));
  assert.ok(!rsyncArgs(host, "/w/a", "/c").some((a) => a.startsWith("--rsync-path")));
});

Deno.test("remapBinds() points the compose file's binds of worktree files at the copy, both Compose flavours' forms", () => {
  const doc = {
    services: {
      web: {
        volumes: [
          { type: "bind", source: "/w/a/src", target: "/app/own", read_only: true }, // Compose v2's config
          "/w/a/conf:/etc/app:ro", // Compose v1's config
          "/elsewhere:/x:rw", // not the worktree's: left as it is
          { type: "volume", source: "data", target: "/data" },
        ],
      },
    },
  };
  const services: Record<string, Record<string, unknown>> = { web: { volumes: ["/c/src:/app/src"] } };
  remapBinds(doc, services, "/w/a", "/c");
  assert.deepEqual(services.web.volumes, ["/c/src:/app/src", "/c/src:/app/own:ro", "/c/conf:/etc/app:ro"]);
});
