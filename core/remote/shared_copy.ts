/**
 * A remote sandbox's `shared` mounts ([sandbox.mounts] shared: host sides relative to the project
 * root, the same files for every sandbox of the project). On a host they come from one copy per
 * project — every slot of the project there mounts it, as every local slot mounts the project root —
 * fed like the code copy (rsync over ssh, this machine → host; `.git` stays here, ignore rules do
 * not apply: a shared path is named on purpose) and removed once no slot on the host uses it.
 */
import { join } from "../io/path.ts";
import { sha256Hex } from "../io/hash.ts";
import type { Exec } from "../io/exec.ts";
import { KinfraError } from "../errors.ts";
import { parseMount } from "../project/config/mounts.ts";
import type { Registry, RemoteSlot } from "../slots/registry.ts";

type SharedCopy = NonNullable<RemoteSlot["shared"]>;
import type { Host } from "./hosts.ts";
import { hostDown, onHostOk, shellWord, SSH_OPTIONS } from "./ssh.ts";

/** The host sides of the shared mount specs, each once ("." for the whole root). */
export function sharedPaths(specs: string[]): string[] {
  const paths = specs.map((s) => parseMount(s)).filter((m) => typeof m !== "string").map((m) => m.host);
  return [...new Set(paths)];
}

/** The project's shared copy on `host`: `~/.kinfra/sync/<home id>/<project>-shared-<hash of its root>`. */
export async function sharedCopy(
  host: Host,
  homeId: string,
  project: string,
  root: string,
  specs: string[],
): Promise<SharedCopy | undefined> {
  const paths = sharedPaths(specs);
  if (!paths.length) return undefined;
  if (!host.remote_home) {
    throw new KinfraError(
      `Host "${host.name}" has no known home directory; run \`kinfra hosts test ${host.name}\`.`,
    );
  }
  const hash = (await sha256Hex(root)).slice(0, 8);
  return { root, paths, copy: `${host.remote_home}/.kinfra/sync/${homeId}/${project}-shared-${hash}` };
}

/** rsync's argv for one pass of the paths that exist (`-R`: each keeps its path under the copy). */
export function rsyncSharedArgs(host: Host, shared: SharedCopy, present: string[]): string[] {
  const rsh = ["ssh", ...SSH_OPTIONS, ...(host.ssh?.port ? ["-p", String(host.ssh.port)] : [])].join(" ");
  return [
    "-a",
    "--delete",
    "--protect-args",
    "--relative",
    "--exclude=.git",
    "-e",
    rsh,
    `--rsync-path=mkdir -p ${shellWord(shared.copy)} && rsync`,
    ...present.map((p) => p === "." ? `${shared.root}/./` : `${shared.root}/./${p}`),
    `${host.ssh!.destination}:${shared.copy}/`,
  ];
}

/** One pass; a path missing here is left out (Docker makes an empty directory for it over there). */
export async function syncShared(exec: Exec, host: Host, shared: SharedCopy, signal?: AbortSignal) {
  const present = [];
  for (const p of shared.paths) {
    if (await Deno.stat(join(shared.root, p)).then(() => true, () => false)) present.push(p);
  }
  if (!present.length) return void await onHostOk(exec, host, ["mkdir", "-p", "--", shared.copy], signal);
  const result = await exec("rsync", rsyncSharedArgs(host, shared, present), { signal });
  if (result.code === 255) throw hostDown(host, result.stderr.trim().split("\n").pop() ?? "ssh failed");
  if (!result.success) {
    throw new KinfraError(
      `Syncing the shared mounts of ${shared.root} to ${host.name}:${shared.copy} failed (rsync exit ${result.code}).`,
      { details: result.stderr.trim().split("\n").slice(-5) },
    );
  }
}

/** True while a slot of the registry on `host` uses the shared copy `copy`. */
export const sharedInUse = (registry: Registry, host: string, copy: string) =>
  Object.values(registry.slots).some((s) => s.remote?.host === host && s.remote.shared?.copy === copy);

/** Removes the shared copy from the host (only below ~/.kinfra/sync: never anything else). */
export async function removeShared(exec: Exec, host: Host, copy: string): Promise<void> {
  if (!copy.includes("/.kinfra/sync/")) {
    throw new KinfraError(`Refusing to remove ${shellWord(copy)} on ${host.name}.`);
  }
  await onHostOk(exec, host, ["rm", "-rf", "--", copy]);
}
