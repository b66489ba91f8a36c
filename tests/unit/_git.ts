/** Shared by the unit tests: running git in a scratch repository, synchronously, its output dropped. */

/** `git -C <cwd> <args…>` with a committer set; true when it succeeded. */
export const git = (cwd: string, ...args: string[]) =>
  new Deno.Command("git", {
    args: ["-C", cwd, "-c", "user.name=a", "-c", "user.email=a@b", ...args],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
