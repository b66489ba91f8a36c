/** `kinfra init` on a real pseudo-terminal (util-linux `script`): prompts answered as they appear. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertDocker, inCI, KINFRA, makeSandbox, needsDocker, type Sandbox } from "./helpers.ts";

const ENTER = "\r";
// What `script` relays can arrive with escape sequences and words split across line breaks, so
// prompts are matched on the text with escapes and all whitespace removed.
// deno-lint-ignore no-control-regex -- matching terminal escape sequences is the point
const flat = (s: string) => s.replace(/[\x1b\s]/g, "").replace(/\[[0-9;?]*[a-zA-Z]/g, "");
// deno-lint-ignore no-control-regex -- as above
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");

/** Runs `kinfra init` in a pty; for each [prompt text, keys], waits for the text, then types the keys. */
async function converse(
  sb: Sandbox,
  cwd: string,
  script: [string, string][],
): Promise<{ code: number; screen: string }> {
  const child = new Deno.Command("script", {
    args: ["-qfec", `${KINFRA.map((a) => `'${a}'`).join(" ")} init`, "/dev/null"],
    cwd,
    env: { KINFRA_HOME: sb.home, TERM: "xterm" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let screen = "";
  const deadline = Date.now() + 30_000;
  for (const [prompt, keys] of script) {
    let pending = "";
    while (!flat(pending).includes(flat(prompt))) {
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now())),
      ]);
      if (next === null) throw new Error(`prompt "${prompt}" never appeared:\n${strip(screen)}`);
      if (next.done) throw new Error(`kinfra exited before "${prompt}":\n${strip(screen)}`);
      pending += next.value;
      screen += next.value;
    }
    await writer.write(new TextEncoder().encode(keys));
  }
  for (let r = await reader.read(); !r.done; r = await reader.read()) screen += r.value;
  await writer.close().catch(() => {});
  return { code: (await child.status).code, screen: strip(screen) };
}

Deno.test({
  name:
    "interactive init asks each question with defaults, shows the change, and asks before replacing a config",
  ...needsDocker(),
  fn: async () => {
    if (inCI) assertDocker();
    const sb = await makeSandbox();
    try {
      const compose = `services:\n  web:\n    image: x  # kept\n    ports:\n      - "8080:8080"\n`;
      const repo = await sb.repo("shop", { "compose.yml": compose });
      const first = await converse(sb, repo, [
        ["Project name", ENTER],
        ["Worktree prefix", "\x7f\x7f\x7f\x7fsh" + ENTER],
        ["Published ports", ENTER],
        ["Health endpoint", "/health" + ENTER],
        ["Code mounts", "src/:/app/src" + ENTER],
        ["Services that receive", " " + ENTER],
        ["Write these changes?", ENTER],
      ]);
      assert.equal(first.code, 0, first.screen);
      const toml = await Deno.readTextFile(join(repo, ".devops-ai/infra.toml"));
      assert.match(toml, /name = "shop"/);
      assert.match(toml, /prefix = "sh"/);
      assert.match(toml, /port_var = "SH_WEB_PORT"/);
      assert.match(toml, /code_targets = \["web"\]/);
      assert.equal(
        await Deno.readTextFile(join(repo, "compose.yml")),
        compose.replace('"8080:8080"', '"${SH_WEB_PORT:-8080}:8080"'),
      );

      // A second run shows the current config and, answered with the default (No), changes nothing.
      const second = await converse(sb, repo, [["Update the existing configuration?", ENTER]]);
      assert.equal(second.code, 0, second.screen);
      assert.ok(flat(second.screen).includes(flat("as it is.")), second.screen);
      assert.equal(await Deno.readTextFile(join(repo, ".devops-ai/infra.toml")), toml);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test({
  name: "interactive init: Enter on an empty optional answer means none (it used to crash on Code mounts)",
  ...needsDocker(),
  fn: async () => {
    if (inCI) assertDocker();
    const sb = await makeSandbox();
    try {
      const repo = await sb.repo("shop", {
        "compose.yml": `services:\n  web:\n    image: x\n    ports:\n      - "8080:8080"\n`,
      });
      const run = await converse(sb, repo, [
        ["Project name", ENTER],
        ["Worktree prefix", ENTER],
        ["Published ports", ENTER],
        ["Health endpoint", ENTER],
        ["Code mounts", ENTER],
        ["Write these changes?", ENTER],
      ]);
      assert.equal(run.code, 0, run.screen);
      assert.doesNotMatch(run.screen, /undefined|TypeError|Internal error/);
      const toml = await Deno.readTextFile(join(repo, ".devops-ai/infra.toml"));
      assert.doesNotMatch(toml, /\[sandbox\.health\]|code = \[".+"\]/);
    } finally {
      await sb.cleanup();
    }
  },
});
