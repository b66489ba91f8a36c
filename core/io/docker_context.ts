/**
 * Docker contexts, read from the context store the way the docker CLI reads it: `$DOCKER_CONFIG`
 * (else ~/.docker), `contexts/meta/<sha256 of the name>/meta.json` for the endpoint, and
 * `contexts/tls/<sha256>/docker/{ca,cert,key}.pem` when the context carries TLS material. The
 * current context is `$DOCKER_CONTEXT`, else config.json's `currentContext`.
 */
import { sha256Hex } from "./hash.ts";
import { join } from "./path.ts";
import { readTextIfAny } from "./home.ts";
import { tlsEngineAddress } from "./engine_address.ts";

export interface DockerContext {
  name: string;
  /** The engine address (engine_address.ts): a DOCKER_HOST, or tcp+tls://… with its certificate dir. */
  address: string;
  /** The context trusts any certificate (SkipTLSVerify): this engine client cannot. */
  skipTlsVerify: boolean;
}

const readJson = (path: string) => JSON.parse(readTextIfAny(path) ?? "null");

/** The docker CLI's config directory. */
export const dockerConfigDir = () =>
  Deno.env.get("DOCKER_CONFIG") || join(Deno.env.get("HOME") ?? "/", ".docker");

/** The context the CLI would use when DOCKER_HOST is unset ("default" when none is chosen). */
export async function currentContextName(): Promise<string> {
  return Deno.env.get("DOCKER_CONTEXT") ||
    (await readJson(join(dockerConfigDir(), "config.json")))?.currentContext || "default";
}

/** A context by name, or undefined when the store has no such context (or it has no docker endpoint). */
export async function readDockerContext(name: string): Promise<DockerContext | undefined> {
  if (name === "default") return { name, address: "unix:///var/run/docker.sock", skipTlsVerify: false };
  const id = await sha256Hex(name);
  const config = dockerConfigDir();
  const endpoint = (await readJson(join(config, "contexts", "meta", id, "meta.json")))?.Endpoints?.docker;
  if (typeof endpoint?.Host !== "string") return undefined;
  const tlsDir = join(config, "contexts", "tls", id, "docker");
  const tls = endpoint.Host.startsWith("tcp://") &&
    (() => {
      try {
        return Deno.statSync(tlsDir).isDirectory;
      } catch {
        return false;
      }
    })();
  return {
    name,
    address: tls ? tlsEngineAddress(endpoint.Host, tlsDir) : endpoint.Host,
    skipTlsVerify: endpoint.SkipTLSVerify === true,
  };
}
