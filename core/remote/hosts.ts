/**
 * Remote Docker hosts (issue 28): where a sandbox may run besides the local engine. Kept in the
 * home (`<home>/hosts.json`), never in the committed infra.toml: which machine runs a sandbox is the
 * developer's choice, not the project's. An ssh:// host gets the full treatment (ports checked on
 * the host, tunnels, code sync); a tcp:// host or a docker context is reached through the docker
 * CLI only.
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { join } from "../io/path.ts";
import { withLock } from "../io/lock.ts";
import { ensureHome, type HomePaths } from "../io/home.ts";
import { KinfraError, usageError } from "../errors.ts";

export interface Host {
  name: string;
  /** What the user gave: `ssh://user@host[:port]`, `tcp://host:port` or `context:<name>`. */
  endpoint: string;
  /** The value of DOCKER_HOST that reaches its engine. */
  docker_host: string;
  /** For ssh:// hosts: the ssh destination and port (tunnels and sync use them). */
  ssh?: { destination: string; port?: number };
  /** The remote user's home, where the code copies go (asked once over ssh). */
  remote_home?: string;
  /** Its memory budget for this home's sandboxes (`hosts add --memory`; default: its memory less a reserve). */
  memory?: string;
  added_at: string;
}

export interface HostFile {
  version: 1;
  hosts: Record<string, Host>;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** "local" is this machine's engine, never a stored host. */
export const LOCAL = "local";

export const hostsPath = (home: HomePaths) => join(home.root, "hosts.json");

/** Checks a host name; "local" and "auto" mean something else already. */
export function checkHostName(name: string): void {
  if (!NAME.test(name) || name === LOCAL || name === "auto") {
    throw usageError(
      `Host name "${name}" is not allowed.`,
      'Use lower-case letters, digits, "-" and "_" (up to 40); "local" and "auto" are reserved.',
    );
  }
}

/** Parses an ssh:// endpoint; the user part is required (the docker CLI wants it too). */
export function parseSshEndpoint(url: string): { destination: string; port?: number } {
  const m = /^ssh:\/\/([A-Za-z0-9._-]+)@([A-Za-z0-9.:_\[\]-]+?)(?::([0-9]{1,5}))?\/?$/.exec(url);
  if (!m) {
    throw usageError(
      `"${url}" is not an ssh endpoint kinfra can use.`,
      "Write it as ssh://user@host or ssh://user@host:port.",
    );
  }
  const port = m[3] ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw usageError(`Port ${port} in "${url}" is not 1–65535.`);
  }
  return { destination: `${m[1]}@${m[2]}`, ...(port ? { port } : {}) };
}

/** Reads the hosts file; a missing file has no hosts, a corrupt one is an error naming it. */
export async function readHosts(home: HomePaths): Promise<HostFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(hostsPath(home));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { version: 1, hosts: {} };
    throw e;
  }
  try {
    const data = JSON.parse(text);
    if (data?.version !== 1 || typeof data.hosts !== "object" || data.hosts === null) {
      throw new Error("bad shape");
    }
    return data as HostFile;
  } catch (e) {
    throw new KinfraError(
      `The hosts file "${hostsPath(home)}" is corrupt: ${e instanceof Error ? e.message : e}`,
      {
        hint: "Repair it by hand, or move it aside and add the hosts again (`kinfra hosts add`).",
      },
    );
  }
}

/** Changes the hosts file under its lock; written atomically when something changed. */
export async function updateHosts<T>(
  home: HomePaths,
  change: (file: HostFile) => T | Promise<T>,
): Promise<T> {
  await ensureHome(home);
  return await withLock(join(home.root, "hosts.lock"), async () => {
    const file = await readHosts(home);
    const before = JSON.stringify(file);
    const result = await change(file);
    if (JSON.stringify(file) !== before) {
      await writeFileAtomic(hostsPath(home), JSON.stringify(file, null, 2) + "\n");
    }
    return result;
  });
}

/** A stored host by name, or a usage error listing the known ones. */
export async function getHost(home: HomePaths, name: string): Promise<Host> {
  const { hosts } = await readHosts(home);
  const host = hosts[name];
  if (!host) {
    const known = Object.keys(hosts);
    throw usageError(
      `No host "${name}".`,
      known.length
        ? `Known hosts: ${known.join(", ")} (kinfra hosts list).`
        : "Add one with `kinfra hosts add <name> ssh://user@host`.",
    );
  }
  return host;
}
