/**
 * How a subprocess reaches a host's engine: `DOCKER_HOST` set, `DOCKER_CONTEXT` unset (a context
 * chosen in the caller's environment must not win over the slot's host) — and a watchdog, because
 * a docker or compose call to a host that has dropped off the network hangs for a minute or more:
 * before each call the host's port (sshd's, or the engine's for tcp://) must accept a connection,
 * and while the call runs it is asked again every few seconds; two misses in a row end the call
 * with an error naming the host.
 */
import type { Exec, ExecOptions } from "./exec.ts";
import { KinfraError } from "../errors.ts";
import { showEngine, splitEngineAddress } from "./engine_address.ts";

/**
 * The environment a docker or compose subprocess needs for an engine address (engine_address.ts):
 * DOCKER_HOST, and for a TLS engine DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as docker itself takes
 * them (compose v1's docker-py reads the same variables).
 */
export function dockerHostEnv(address: string): Record<string, string> {
  const { docker_host, tls } = splitEngineAddress(address);
  return { DOCKER_HOST: docker_host, ...(tls ? { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: tls } : {}) };
}

/** Exec options that point the docker CLI and compose at `host`. */
export function dockerEnv(host: { docker_host: string }, options: ExecOptions = {}): ExecOptions {
  const env = dockerHostEnv(host.docker_host);
  return {
    ...options,
    env: { ...options.env, ...env },
    // Nothing of the caller's own engine choice may leak in: a context, or TLS settings of another
    // engine. For a TLS engine, requests' CA bundle variables go too: Compose v1 (docker-py) lets
    // REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override DOCKER_CERT_PATH's ca.pem, and then refuses the
    // engine's certificate ("unable to get local issuer certificate").
    unset: [
      ...(options.unset ?? []),
      "DOCKER_CONTEXT",
      ...["DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"].filter((v) => !(v in env)),
      ...(env.DOCKER_CERT_PATH ? ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] : []),
    ],
  };
}

/** The address to knock on for an engine address: ssh's port (22 by default) or the tcp:// port. */
export function probeTarget(
  address: string,
): { hostname: string; port: number; ssh: boolean } | undefined {
  const { docker_host, tls } = splitEngineAddress(address);
  const m = /^(ssh|tcp):\/\/(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+)(?::([0-9]+))?/.exec(docker_host);
  if (!m) return undefined;
  const ssh = m[1] === "ssh";
  return {
    hostname: m[2].replace(/^\[|\]$/g, ""),
    port: m[3] ? Number(m[3]) : ssh ? 22 : tls ? 2376 : 2375,
    ssh,
  };
}

/**
 * True when `target` answers within `timeoutMs`: accepts a TCP connection and, for sshd, sends its
 * banner (a frozen host's kernel may still accept connections nobody serves).
 */
export async function reachable(
  target: { hostname: string; port: number; ssh?: boolean },
  timeoutMs = 3000,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let conn: Deno.TcpConn | undefined;
  const answer = (async () => {
    conn = await Deno.connect({ hostname: target.hostname, port: target.port });
    if (!target.ssh) return true;
    const buffer = new Uint8Array(8);
    const n = await conn.read(buffer);
    return n !== null && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("SSH-");
  })().catch(() => false);
  const timeout = new Promise<boolean>((r) => timer = setTimeout(() => r(false), timeoutMs));
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
    // Closed once the attempt settles, also when the timeout won the race.
    answer.finally(() => {
      try {
        conn?.close();
      } catch { /* already closed */ }
    });
  }
}

/** The error for an engine whose host does not answer. */
export function engineDown(dockerHost: string, name?: string): KinfraError {
  return new KinfraError(
    `Host ${name ? `"${name}" (${showEngine(dockerHost)})` : showEngine(dockerHost)} does not answer.`,
    {
      hint: `Check the machine${
        name ? ` and \`kinfra hosts test ${name}\`` : ""
      }; the next kinfra command finishes what was left once it answers.`,
    },
  );
}

const PROBE_EVERY_MS = 3000;

/** An exec whose every subprocess talks to `dockerHost`'s engine, guarded by the watchdog. */
export function execOnEngine(exec: Exec, dockerHost: string, name?: string): Exec {
  const target = probeTarget(dockerHost);
  return async (cmd, args, options = {}) => {
    const opts = dockerEnv({ docker_host: dockerHost }, options);
    if (!target) return await exec(cmd, args, opts);
    if (!await reachable(target)) throw engineDown(dockerHost, name);
    const watchdog = new AbortController();
    let misses = 0;
    let probing = false;
    const timer = setInterval(async () => {
      if (probing) return;
      probing = true;
      misses = await reachable(target) ? 0 : misses + 1;
      probing = false;
      if (misses >= 2) watchdog.abort();
    }, PROBE_EVERY_MS);
    try {
      const signal = options.signal ? AbortSignal.any([options.signal, watchdog.signal]) : watchdog.signal;
      const result = await exec(cmd, args, { ...opts, signal });
      if (watchdog.signal.aborted) throw engineDown(dockerHost, name);
      return result;
    } finally {
      clearInterval(timer);
    }
  };
}
