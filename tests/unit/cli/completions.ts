/**
 * Shell completions come from the command table: each shell offers exactly the table's commands,
 * subcommands and an option's choices. Bash, zsh and fish run the script for real (zsh with its
 * completion functions stubbed, autoloaded from $fpath as installed).
 */
import assert from "node:assert/strict";
import { completions } from "../../../core/cli/completions.ts";
import { GLOBAL_OPTIONS, PROGRAM } from "../../../core/cli/program.ts";

const script = async (shell: "bash" | "zsh" | "fish") =>
  (await completions(PROGRAM, GLOBAL_OPTIONS, shell)).text;
const COMMANDS = PROGRAM.subcommands!.map((c) => c.name);

/** What bash's `_kinfra` offers for the words typed so far (the last one being completed). */
async function bash(...words: string[]): Promise<string[]> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `${await script("bash")}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${
        words.length - 1
      }; _kinfra; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

/** What fish offers for `line` (its `complete -C`), without descriptions. */
async function fish(line: string): Promise<string[]> {
  const out = await new Deno.Command("fish", {
    args: ["--no-config", "-c", `${await script("fish")}\ncomplete -C ${JSON.stringify(line)}`],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
}

/**
 * What zsh's `_kinfra` describes for `words` (the last one being completed): the script autoloaded
 * from a $fpath directory, as its header says to install it, and called once (the first TAB).
 */
async function zsh(...words: string[]): Promise<string[]> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/_kinfra`, await script("zsh"));
    const out = await new Deno.Command("zsh", {
      args: [
        "-f",
        "-c",
        `_describe() { print -rl -- \${(P)2} }; _files() { print FILES }; compdef() { }
fpath=(${dir} $fpath); autoload -Uz _kinfra
words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _kinfra`,
      ],
      stdout: "piped",
    }).output();
    // `word:description`, a colon in the word escaped: the words whose start is being typed.
    const typed = words.at(-1)!;
    return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)
      .map((l) => l.split(/(?<!\\):/)[0].replaceAll("\\:", ":")).filter((w) => w.startsWith(typed));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("completions() find the command past options, their values and arguments (bash, zsh, fish)", async () => {
  assert.deepEqual(await bash("kinfra", "-C", "/tmp", "st"), ["status"]);
  assert.deepEqual(await bash("kinfra", "impl", "x/M1", "--base", "main", "--no-s"), ["--no-sandbox"]);
  assert.deepEqual(await bash("kinfra", "done", "foo", "--f"), ["--force"]);
  // bash splits `--directory=/tmp` at "=" (COMP_WORDBREAKS).
  assert.deepEqual(await bash("kinfra", "--directory", "=", "/tmp", "st"), ["status"]);
  assert.deepEqual(await bash("kinfra", "plugins", "new", "x", "--lang", "=", "s"), ["sh"]);
  assert.deepEqual(await bash("kinfra", "--json", "observability", "-v", "s"), ["status"]);
  assert.deepEqual(await zsh("kinfra", "-C", "/tmp", "st"), ["status"]);
  assert.deepEqual(await zsh("kinfra", "impl", "x/M1", "--base", "main", "--no-s"), ["--no-sandbox"]);
  assert.deepEqual(await fish("kinfra -C /tmp observability "), ["down", "status", "up"]);
  assert.deepEqual(await fish("kinfra impl x/M1 --base main --no-s"), ["--no-sandbox"]);
});

Deno.test("completions() leave an option's free value to the shell's own (file) completion", async () => {
  assert.deepEqual(await bash("kinfra", "-C", ""), []);
  assert.deepEqual(await bash("kinfra", "impl", "x/M1", "--base", ""), []);
  assert.deepEqual(await zsh("kinfra", "-C", ""), ["FILES"]);
});

Deno.test("completions() in zsh work on the first TAB when autoloaded from $fpath, as the header says", async () => {
  assert.deepEqual(await zsh("kinfra", "observability", "d"), ["down"]);
});

Deno.test("completions() in bash offer every top-level command of the table, and only them", async () => {
  const words = (await bash("kinfra", "")).filter((w) => !w.startsWith("-"));
  assert.deepEqual(words.toSorted(), COMMANDS.toSorted());
});

Deno.test("completions() in bash offer the global options at the top level", async () => {
  const words = await bash("kinfra", "--");
  for (const option of ["--json", "--quiet", "--verbose", "--directory"]) {
    assert.ok(words.includes(option), option);
  }
});

Deno.test("completions() in bash offer a command's own options after it", async () => {
  assert.deepEqual(await bash("kinfra", "done", "--f"), ["--force"]);
});

Deno.test("completions() in bash complete subcommands under their group", async () => {
  assert.deepEqual(await bash("kinfra", "observability", "s"), ["status"]);
});

Deno.test("completions() in bash offer an option's choices after it", async () => {
  assert.deepEqual(await bash("kinfra", "plugins", "new", "x", "--lang", ""), ["sh", "ts"]);
});

Deno.test("completions() in bash offer an argument's choices", async () => {
  assert.deepEqual(await bash("kinfra", "completions", "z"), ["zsh"]);
});

Deno.test("completions() in bash offer nothing after an unknown command", async () => {
  assert.deepEqual(await bash("kinfra", "nosuch", ""), []);
});

Deno.test("completions() in fish offer every top-level command of the table", async () => {
  const words = (await fish("kinfra ")).filter((w) => !w.startsWith("-"));
  assert.deepEqual(words.toSorted(), COMMANDS.toSorted());
});

Deno.test("completions() in fish offer a group's subcommands, not the top-level commands", async () => {
  assert.deepEqual((await fish("kinfra observability ")).toSorted(), ["down", "status", "up"]);
});

Deno.test("completions() in zsh describe every top-level command with its description", async () => {
  const top = (await script("zsh")).split("\n").find((l) => l.startsWith("    '') items=("));
  assert.ok(top, "a case for the empty command path");
  for (const c of PROGRAM.subcommands!) {
    const described = `'${c.name}:${c.description.replaceAll("'", "'\\''")}'`;
    assert.ok(top.includes(described), `${c.name} is described as ${described}`);
  }
});

Deno.test("completions() in zsh escape a colon in a word, which _describe would split on", async () => {
  const program = { name: "kinfra", description: "", subcommands: [{ name: "a:b", description: "d" }] };
  const text = (await completions(program, [], "zsh")).text;
  assert.ok(text.includes(`'a\\:b:d'`), text);
});

Deno.test("completions() return the script as data too, for --json", async () => {
  const out = await completions(PROGRAM, GLOBAL_OPTIONS, "fish");
  assert.deepEqual(out.data, { shell: "fish", script: out.text });
});
