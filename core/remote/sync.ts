/**
 * The code of a remote sandbox: the worktree stays local, where the agent edits it, and a copy on
 * the host feeds the code mounts. rsync over ssh (both from PATH): `.git` and whatever the
 * worktree's .gitignore files ignore stay behind; deletions carry over.
 */
import { basename } from "../io/path.ts";
import { sha256Hex } from "../io/hash.ts";
import type { Exec } from "../io/exec.ts";
import { KinfraError } from "../errors.ts";
import type { Host } from "./hosts.ts";
import { hostDown, onHostOk, shellWord, SSH_OPTIONS } from "./ssh.ts";

/** Where a worktree's copy lives on the host: `~/.kinfra/sync/<home id>/<dir name>-<hash>`. */
export async function remoteCopyDir(host: Host, homeId: string, worktree: string): Promise<string> {
  if (!host.remote_home) {
    throw new KinfraError(
      `Host "${host.name}" has no known home directory; run \`kinfra hosts test ${host.name}\`.`,
    );
  }
  return `${host.remote_home}/.kinfra/sync/${homeId}/${basename(worktree)}-${
    (await sha256Hex(worktree)).slice(0, 8)
  }`;
}

/** rsync's argv for one pass: worktree → copy. */
export function rsyncArgs(host: Host, worktree: string, copy: string, mkdir = false): string[] {
  const rsh = ["ssh", ...SSH_OPTIONS, ...(host.ssh?.port ? ["-p", String(host.ssh.port)] : [])].join(" ");
  return [
    "-a",
    "--delete",
    "--protect-args",
    "--exclude=/.git",
    "--filter=:- .gitignore",
    "-e",
    rsh,
    // The first pass makes the copy's directory in the same ssh connection (one handshake less).
    ...(mkdir ? [`--rsync-path=mkdir -p ${shellWord(copy)} && rsync`] : []),
    `${worktree}/`,
    `${host.ssh!.destination}:${copy}/`,
  ];
}

/** One pass of the sync; throws naming the host when it does not answer. */
export async function syncOnce(
  exec: Exec,
  host: Host,
  worktree: string,
  copy: string,
  signal?: AbortSignal,
  mkdir = false,
) {
  const result = await exec("rsync", rsyncArgs(host, worktree, copy, mkdir), { signal });
  if (result.code === 255) throw hostDown(host, result.stderr.trim().split("\n").pop() ?? "ssh failed");
  if (!result.success) {
    throw new KinfraError(`Syncing ${worktree} to ${host.name}:${copy} failed (rsync exit ${result.code}).`, {
      details: result.stderr.trim().split("\n").slice(-5),
      hint: result.code === 127 || /rsync: (command )?not found/.test(result.stderr)
        ? `Install rsync on ${host.name} (kinfra hosts test ${host.name}).`
        : undefined,
    });
  }
}

/** The first copy: the directory made and a full pass, over one ssh connection. */
export async function initialSync(
  exec: Exec,
  host: Host,
  worktree: string,
  copy: string,
  signal?: AbortSignal,
) {
  await syncOnce(exec, host, worktree, copy, signal, true);
}

/** Removes the copy from the host (only below ~/.kinfra/sync: never anything else). */
export async function removeCopy(exec: Exec, host: Host, copy: string): Promise<void> {
  if (!copy.includes("/.kinfra/sync/")) {
    throw new KinfraError(`Refusing to remove ${shellWord(copy)} on ${host.name}.`);
  }
  await onHostOk(exec, host, ["rm", "-rf", "--", copy]);
}
