/**
 * What carries a remote slot's ports to 127.0.0.1 here, per transport of its host:
 *  - ssh hosts: one `ssh -N -L 127.0.0.1:<p>:127.0.0.1:<p> …` child (ssh from PATH: the user's
 *    config, agent and wrappers apply);
 *  - tcp:// hosts (plain or TLS, or a context pointing at one): a plain TCP relay in this process,
 *    listening on 127.0.0.1:<p> and connecting to <host address>:<p>, where the engine publishes
 *    the sandbox's ports. The engine's TLS protects its API, not the sandbox's ports: those are
 *    reached as any client on the network reaches them.
 * Each gives the tunnels part the same handle: a pid when there is a child, a promise that settles
 * with why it ended, and stop().
 */
import type { Host } from "../remote/hosts.ts";
import { tunnelArgs } from "../remote/tunnels.ts";
import { engineEndpointOf } from "../io/engine_api.ts";
import { Connections } from "./pipe.ts";

export interface Carrier {
  pid?: number;
  /** Settles with the reason once it ends by itself (never when stopped on purpose). */
  ended: Promise<string>;
  stop(): void;
}

/** The carrier for `host`'s transport. */
export function carrierFor(host: Host, ports: number[]): Carrier {
  if (host.ssh) return sshCarrier(host, ports);
  const endpoint = engineEndpointOf(host.docker_host);
  if (!endpoint || "unix" in endpoint) throw new Error(`no address to relay to for ${host.endpoint}`);
  return relayCarrier(endpoint.hostname, ports);
}

function sshCarrier(host: Host, ports: number[]): Carrier {
  const child = new Deno.Command("ssh", {
    args: tunnelArgs(host, ports),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stopped = false;
  return {
    pid: child.pid,
    ended: child.output().then((out) =>
      stopped
        ? new Promise<string>(() => {})
        : new TextDecoder().decode(out.stderr).trim().split("\n").pop() ||
          `ssh exited (${out.code})`
    ),
    stop() {
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    },
  };
}

/** Listens on 127.0.0.1:<p> for each port, each connection piped to hostname:<p>. */
function relayCarrier(hostname: string, ports: number[]): Carrier {
  const connections = new Connections();
  const listeners: Deno.TcpListener[] = [];
  let fail: (why: string) => void = () => {};
  const ended = new Promise<string>((r) => fail = r);
  const stop = () => {
    for (const l of listeners) {
      try {
        l.close();
      } catch { /* closed */ }
    }
    connections.cut(() => false);
  };
  try {
    for (const port of ports) listeners.push(Deno.listen({ hostname: "127.0.0.1", port, transport: "tcp" }));
  } catch (e) {
    stop();
    throw new Error(`cannot listen on 127.0.0.1: ${e instanceof Error ? e.message : e}`);
  }
  for (const [i, listener] of listeners.entries()) {
    const port = ports[i];
    (async () => {
      for await (const client of listener) {
        (async () => {
          client.setNoDelay(true);
          const upstream = await Deno.connect({ hostname, port }).catch(() => undefined);
          if (!upstream) return client.close(); // the sandbox's port is closed there: as if local
          upstream.setNoDelay(true);
          await connections.pipe(String(port), client, upstream, () => {});
        })().catch(() => {});
      }
    })().catch((e) => fail(`the relay on port ${port} stopped: ${e instanceof Error ? e.message : e}`));
  }
  return { ended, stop };
}
