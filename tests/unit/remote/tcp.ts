/**
 * The pure parts of tcp:// and TLS hosts: engine addresses and the environment they give docker
 * and compose, the engine client's endpoints, the tar writer the code sync uploads with, and which
 * worktree directories a sandbox on such a host needs as volumes.
 */
import assert from "node:assert/strict";
import { showEngine, splitEngineAddress, tlsEngineAddress } from "../../../core/io/engine_address.ts";
import { dockerEnv, dockerHostEnv, probeTarget } from "../../../core/io/engine.ts";
import { engineEndpointOf } from "../../../core/io/engine_api.ts";
import { tar } from "../../../core/remote/tar.ts";
import { codeSources, sourceKey } from "../../../core/remote/code_volumes.ts";
import { codeVolume, remapBinds } from "../../../plugins/docker/remote_binds.ts";

const TLS = "tcp+tls://10.0.0.2:2376?certs=/h/tls/big";

Deno.test("an engine address keeps a TLS engine's certificate directory apart from its DOCKER_HOST", () => {
  assert.equal(tlsEngineAddress("tcp://10.0.0.2:2376", "/h/tls/big"), TLS);
  assert.deepEqual(splitEngineAddress(TLS), { docker_host: "tcp://10.0.0.2:2376", tls: "/h/tls/big" });
  assert.deepEqual(splitEngineAddress("ssh://me@box"), { docker_host: "ssh://me@box" });
  assert.equal(showEngine(TLS), "tcp://10.0.0.2:2376 (TLS)");
  assert.equal(showEngine("tcp://box:2375"), "tcp://box:2375");
});

Deno.test("dockerHostEnv()/dockerEnv() give docker and compose DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for TLS only", () => {
  assert.deepEqual(dockerHostEnv(TLS), {
    DOCKER_HOST: "tcp://10.0.0.2:2376",
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: "/h/tls/big",
  });
  const tls = dockerEnv({ docker_host: TLS });
  // docker-py would let a CA bundle of the caller's environment override the engine's CA.
  assert.deepEqual(tls.unset, ["DOCKER_CONTEXT", "DOCKER_TLS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]);
  const plain = dockerEnv({ docker_host: "tcp://box:2375" });
  assert.deepEqual(plain.env, { DOCKER_HOST: "tcp://box:2375" });
  // Another engine's TLS settings in the caller's environment must not reach a plain one.
  assert.deepEqual(plain.unset, ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"]);
});

Deno.test("probeTarget() and engineEndpointOf() read tcp:// and TLS addresses (TLS defaults to 2376)", () => {
  assert.deepEqual(probeTarget(TLS), { hostname: "10.0.0.2", port: 2376, ssh: false });
  assert.deepEqual(probeTarget("tcp+tls://box?certs=/c"), { hostname: "box", port: 2376, ssh: false });
  assert.deepEqual(engineEndpointOf(TLS), { hostname: "10.0.0.2", port: 2376, tls: "/h/tls/big" });
  assert.deepEqual(engineEndpointOf("tcp://[::1]:2375"), { hostname: "::1", port: 2375 });
  assert.deepEqual(engineEndpointOf("unix:///run/docker.sock"), { unix: "/run/docker.sock" });
  assert.equal(engineEndpointOf("ssh://me@box"), undefined);
});

Deno.test("tar() writes ustar entries, with a PAX header for long names, ending in two zero blocks", () => {
  const long = "d/".repeat(60) + "f.txt";
  const out = tar([
    { name: "a.txt", type: "file", data: new TextEncoder().encode("hi"), mode: 0o755 },
    { name: long, type: "file", data: new Uint8Array(513) },
    { name: "gone", type: "hardlink", link: "u/.none" },
  ]);
  const text = (at: number, n: number) =>
    new TextDecoder().decode(out.subarray(at, at + n)).replace(/\0.*$/s, "");
  assert.equal(text(0, 100), "a.txt");
  assert.equal(text(100, 8), "0000755");
  assert.equal(text(124, 12), "00000000002");
  assert.equal(text(257, 6), "ustar");
  // The header's checksum is the sum of its bytes with the checksum field as spaces.
  const block = out.slice(0, 512);
  block.fill(32, 148, 156);
  assert.equal(parseInt(text(148, 7), 8), block.reduce((a, b) => a + b, 0));
  assert.equal(String.fromCharCode(out[1024 + 156]), "x", "a PAX header for the long name");
  assert.match(text(1536, 200), new RegExp(`^\\d+ path=${long}\\n$`));
  const link = 1024 + 512 + 512 + 512 + 1024;
  assert.equal(String.fromCharCode(out[link + 156]), "1");
  assert.equal(text(link + 157, 100), "u/.none");
  assert.equal(out.length, link + 512 + 1024);
  assert.ok(out.subarray(out.length - 1024).every((b) => b === 0));
});

Deno.test("codeSources() takes the code mounts and the compose file's own ./ binds, once each", () => {
  const compose = {
    files: {},
    ports: [],
    outside: [],
    values: {
      "docker-compose.yml": {
        services: {
          web: {
            volumes: ["./src:/app/own", "data:/data", "/etc/x:/x", "${DIR}:/d", {
              type: "bind",
              source: "./cfg/",
              target: "/c",
            }],
          },
          db: null,
        },
      },
      "sub/extra.yml": { services: { w: { volumes: ["../src/:/again", "../../out:/o"] } } },
    },
  };
  assert.deepEqual(codeSources(["src/:/app/src", ".:/all"], compose), [".", "cfg", "src"]);
  assert.equal(sourceKey("./src/"), "src");
  assert.equal(sourceKey("./"), ".");
});

Deno.test("remapBinds() points the compose file's binds of worktree directories at their volumes; an unplanned one is an error", () => {
  const volumes = { src: "kc-1", ".": "kc-0" };
  const doc = {
    services: {
      web: {
        volumes: [
          { type: "bind", source: "/w/src", target: "/app/own" },
          "/w:/all:ro",
          { type: "volume", source: "data", target: "/data" },
        ],
      },
    },
  };
  const services: Record<string, Record<string, unknown>> = { web: {} };
  remapBinds(doc, services, "/w", (rel) => codeVolume(volumes, rel, rel));
  assert.deepEqual(services.web.volumes, ["kc-1:/app/own", "kc-0:/all:ro"]);
  assert.throws(() => codeVolume(volumes, "docs", "/w/docs"), /"\/w\/docs" has no copy on the remote host/);
});
