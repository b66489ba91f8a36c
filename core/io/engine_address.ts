/**
 * An engine address: how kinfra records which Docker engine a host or slot talks to, in one string
 * so it travels wherever a DOCKER_HOST did (registry, hook inputs, scans). It is a DOCKER_HOST
 * (`ssh://…`, `tcp://…`, `unix://…`), or for an engine that speaks TLS
 * `tcp+tls://host:port?certs=<dir>`, where `<dir>` holds ca.pem, cert.pem and key.pem as
 * DOCKER_CERT_PATH does. The scheme is kinfra's own on purpose: handed to the docker CLI as it is,
 * it is refused rather than silently used without TLS.
 */

/** Splits an address into the DOCKER_HOST the CLI takes and, for TLS, its certificate directory. */
export function splitEngineAddress(address: string): { docker_host: string; tls?: string } {
  const m = /^tcp\+tls:\/\/([^?]+)\?certs=(.+)$/.exec(address);
  return m ? { docker_host: `tcp://${m[1]}`, tls: m[2] } : { docker_host: address };
}

/** The address of a TLS engine at `dockerHost` (`tcp://host:port`) with its certificates in `certs`. */
export function tlsEngineAddress(dockerHost: string, certs: string): string {
  return `tcp+tls://${dockerHost.replace(/^tcp:\/\//, "")}?certs=${certs}`;
}

/** What a person reads: the DOCKER_HOST, with "(TLS)" for a TLS engine (no certificate path). */
export function showEngine(address: string): string {
  const { docker_host, tls } = splitEngineAddress(address);
  return tls ? `${docker_host} (TLS)` : docker_host;
}
