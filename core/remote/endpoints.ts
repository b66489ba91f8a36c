/**
 * What `kinfra hosts add` records for an endpoint: ssh://user@host[:port]; tcp://host:port, with
 * TLS material (`--tls-certs <dir>`, or DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set, as docker
 * takes them) copied into the home; or a docker context, read from the context store, whose own
 * endpoint (ssh, tcp, tcp with TLS) it then behaves as.
 */
import type { Context } from "../context.ts";
import { messageOf, usageError } from "../errors.ts";
import { join, resolve } from "../io/path.ts";
import { dockerConfigDir, readDockerContext } from "../io/docker_context.ts";
import { readTlsDir } from "../io/engine_api.ts";
import { tlsEngineAddress } from "../io/engine_address.ts";
import { type Host, parseSshEndpoint } from "./hosts.ts";

/** The engine address of a docker context, read from the context store as the docker CLI reads it. */
async function contextAddress(name: string): Promise<string> {
  const context = await readDockerContext(name);
  if (!context) {
    throw usageError(
      `No docker context "${name}" (in ${dockerConfigDir()}).`,
      "See `docker context ls`; DOCKER_CONFIG chooses the config directory, as for docker.",
    );
  }
  if (name === "default") {
    throw usageError('The docker context "default" is this machine\'s engine.', "Use --host local.");
  }
  if (context.skipTlsVerify) {
    throw usageError(
      `Docker context "${name}" skips TLS verification, which kinfra does not do.`,
      "Give the context the engine's CA (`docker context update --docker ca=…`).",
    );
  }
  return context.address;
}

/**
 * A TLS engine's certificates, copied into the home (as `docker context create` copies them into
 * its store): ca.pem, cert.pem and key.pem of `dir`, laid out as DOCKER_CERT_PATH. Checked first,
 * so a host is never recorded with certificates that cannot be read.
 */
async function keepCertificates(ctx: Context, name: string, dir: string): Promise<string> {
  try {
    const { cert } = await readTlsDir(dir);
    if (!cert) throw new Error(`no cert.pem and key.pem in ${dir}`);
  } catch (e) {
    throw usageError(
      `The TLS certificates for host "${name}" cannot be used: ${messageOf(e)}.`,
      "Give a directory holding ca.pem, cert.pem and key.pem (as DOCKER_CERT_PATH does).",
    );
  }
  const copy = join(ctx.home.root, "tls", name);
  await Deno.remove(copy, { recursive: true }).catch(() => {});
  await Deno.mkdir(copy, { recursive: true, mode: 0o700 });
  for (const f of ["ca.pem", "cert.pem", "key.pem"]) {
    await Deno.copyFile(join(dir, f), join(copy, f));
    await Deno.chmod(join(copy, f), f === "key.pem" ? 0o600 : 0o644);
  }
  return copy;
}

/**
 * The TLS material of a tcp:// host: `--tls-certs <dir>`, else DOCKER_CERT_PATH (or ~/.docker)
 * when DOCKER_TLS_VERIFY is set, as the docker CLI would use them; undefined for plain tcp.
 */
function tlsSource(tlsCerts?: string): string | undefined {
  if (tlsCerts) return resolve(tlsCerts);
  if (!Deno.env.get("DOCKER_TLS_VERIFY")) return undefined;
  return Deno.env.get("DOCKER_CERT_PATH") || dockerConfigDir();
}

/** The host record for an endpoint as the user wrote it (`kinfra hosts add`). */
export async function describeHost(
  ctx: Context,
  name: string,
  endpoint: string,
  tlsCerts?: string,
): Promise<Host> {
  const base = { name, endpoint, added_at: ctx.now().toISOString() };
  if (tlsCerts && !endpoint.startsWith("tcp://")) {
    throw usageError("--tls-certs is for tcp:// hosts.", "A docker context carries its own TLS material.");
  }
  if (endpoint.startsWith("ssh://")) {
    return { ...base, docker_host: endpoint, ssh: parseSshEndpoint(endpoint) };
  }
  if (/^tcp:\/\/[A-Za-z0-9.\[\]:_-]+:[0-9]{1,5}\/?$/.test(endpoint)) {
    const certs = tlsSource(tlsCerts);
    const dockerHost = endpoint.replace(/\/$/, "");
    return {
      ...base,
      docker_host: certs
        ? tlsEngineAddress(dockerHost, await keepCertificates(ctx, name, certs))
        : dockerHost,
    };
  }
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(endpoint)) {
    const host = await contextAddress(endpoint);
    return {
      ...base,
      endpoint: `context:${endpoint}`,
      docker_host: host,
      ...(host.startsWith("ssh://") ? { ssh: parseSshEndpoint(host) } : {}),
    };
  }
  throw usageError(
    `"${endpoint}" is not an endpoint kinfra understands.`,
    "Give ssh://user@host[:port], tcp://host:port, or the name of an existing docker context.",
  );
}
