/**
 * Running things on an ssh:// host. `ssh` comes from PATH, as the docker CLI's does, so the
 * user's ssh config, agent and wrappers apply. ssh hands the remote side one command line for its
 * shell; every argument is single-quoted here, so no value is ever interpreted there either.
 */
import type { Exec, ExecResult } from "../io/exec.ts";
import type { Host } from "./hosts.ts";
import { KinfraError } from "../errors.ts";

/** Single-quotes one word for a POSIX shell. */
export const shellWord = (word: string) =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/** ssh's own options for kinfra's calls: never prompt, give up on a dead host within seconds. */
export const SSH_OPTIONS = [
  "-o",
  "BatchMode=yes",
  "-o",
  "ConnectTimeout=5",
  "-o",
  "ServerAliveInterval=2",
  "-o",
  "ServerAliveCountMax=3",
];

/** `ssh` argv (without the command) reaching an ssh host; ssh's own options must come before it. */
export function sshArgs(host: Host): string[] {
  if (!host.ssh) throw new KinfraError(`Host "${host.name}" (${host.endpoint}) is not reached over ssh.`);
  return [
    ...SSH_OPTIONS,
    ...(host.ssh.port ? ["-p", String(host.ssh.port)] : []),
    "--",
    host.ssh.destination,
  ];
}

/** Runs `argv` on the host; exit 255 is ssh's own failure (the host did not answer). */
export async function onHost(
  exec: Exec,
  host: Host,
  argv: string[],
  options: { stdin?: string; signal?: AbortSignal } = {},
): Promise<ExecResult> {
  return await exec("ssh", [...sshArgs(host), argv.map(shellWord).join(" ")], options);
}

/** The error for a host that does not answer, naming it. */
export function hostDown(host: Host, detail: string): KinfraError {
  return new KinfraError(`Host "${host.name}" (${host.endpoint}) does not answer: ${detail}`, {
    hint:
      `Check the machine and \`kinfra hosts test ${host.name}\`; the next kinfra command finishes what was left.`,
  });
}

/** Runs `argv` on the host and returns stdout; a failure names the host. */
export async function onHostOk(
  exec: Exec,
  host: Host,
  argv: string[],
  signal?: AbortSignal,
): Promise<string> {
  const result = await onHost(exec, host, argv, { signal });
  if (result.code === 255) throw hostDown(host, result.stderr.trim().split("\n").pop() ?? "ssh failed");
  if (!result.success) {
    throw new KinfraError(`On host "${host.name}": ${argv.join(" ")} failed (exit ${result.code}).`, {
      details: result.stderr.trim().split("\n").slice(-5),
    });
  }
  return result.stdout;
}
