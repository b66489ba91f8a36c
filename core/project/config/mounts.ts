/**
 * Docker-style mount specs of `[sandbox.mounts]` (README, "infra.toml"): `host:container[:ro]`, or a bare `src/`
 * meaning `/app/src`. The host side is relative to the worktree and may not leave it.
 */

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * Parses a mount spec, returning the mount or a sentence saying what is wrong.
 *
 * @example
 * parseMount("src/:/app/src:ro"); // { host: "src", container: "/app/src", readOnly: true }
 * parseMount("tests/");           // { host: "tests", container: "/app/tests", readOnly: false }
 */
export function parseMount(spec: string): Mount | string {
  if (CONTROL.test(spec)) return "it contains a control character";
  const parts = spec.split(":");
  if (parts.length > 3) return "expected host:container[:ro]";
  const [rawHost, rawContainer, mode] = parts;
  if (mode !== undefined && mode !== "ro" && mode !== "rw") return `mode must be "ro" or "rw", not "${mode}"`;
  const host = rawHost.replace(/\/+$/, "") || ".";
  if (rawHost === "") return "the host side is empty";
  if (rawHost.startsWith("/") || rawHost.startsWith("~")) {
    return "the host side must be relative to the worktree";
  }
  if (host.split("/").includes("..")) return `the host side must stay inside the worktree (no "..")`;
  const container = rawContainer ?? `/app/${host.split("/").pop()}`;
  if (!container.startsWith("/")) return "the container side must be an absolute path";
  if (container.split("/").includes("..")) return `the container side must not contain ".."`;
  if (/^\/+$/.test(container)) return "the container side must not be the container's root directory";
  return { host, container: container.replace(/(.)\/+$/, "$1"), readOnly: mode === "ro" };
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** A relative path that stays inside its base: no absolute path, no `..` segment, no control character. */
export function isContainedPath(path: string): boolean {
  return path !== "" && !path.startsWith("/") && !path.startsWith("~") && !path.split("/").includes("..") &&
    !CONTROL.test(path);
}
