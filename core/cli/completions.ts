/**
 * Shell completion scripts generated from the command table itself, so they never drift from the
 * real commands and flags.
 */
import { type CommandSpec, type OptionSpec, parseFlags } from "./args.ts";
import type { CommandOutput } from "../io/output.ts";

interface Node {
  path: string[];
  words: { word: string; description: string; choices?: readonly string[] }[];
  /** The command takes a worktree name: offer the registry's (`kinfra worktrees --names`). */
  worktrees: boolean;
}

const NAMES = "kinfra worktrees --names 2>/dev/null";

/** Every option that takes one of fixed values, with them (`--lang` → sh ts), over the whole program. */
function optionChoices(nodes: Node[]): [string, readonly string[]][] {
  const all = nodes.flatMap((n) =>
    n.words.filter((w) => w.choices).map((w) => [w.word, w.choices!] as const)
  );
  return [...new Map(all).entries()];
}

function walk(command: CommandSpec, globals: readonly OptionSpec[], path: string[] = []): Node[] {
  const words = [
    ...(command.subcommands ?? []).map((c) => ({ word: c.name, description: c.description })),
    ...(command.args ?? []).flatMap((a) =>
      (a.choices ?? []).map((c) => ({ word: c, description: a.description }))
    ),
    ...[...command.options ?? [], ...globals].map((o) => ({
      word: `--${parseFlags(o.flags).long}`,
      description: o.description,
      choices: o.choices,
    })),
  ];
  return [
    { path, words, worktrees: (command.args ?? []).some((a) => a.worktree) },
    ...(command.subcommands ?? []).flatMap((c) => walk(c, globals, [...path, c.name])),
  ];
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) =>
    `    ${quote(n.path.join(" "))}) words=${quote(n.words.map((w) => w.word).join(" "))}${
      n.worktrees ? `" $(${NAMES})"` : ""
    } ;;`
  );
  const values = optionChoices(nodes).map(([o, c]) => `    ${o}) words=${quote(c.join(" "))} ;;`);
  return `# kinfra bash completion: eval "$(kinfra completions bash)"
_kinfra() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" w words=""
  case "$prev" in
${values.join("\n")}
  esac
  if [ -n "$words" ]; then COMPREPLY=( $(compgen -W "$words" -- "$cur") ); return; fi
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) [ -n "$path" ] && path="$path $w" || path="$w" ;; esac
  done
  case "$path" in
${cases.join("\n")}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _kinfra kinfra
`;
}

function zsh(nodes: Node[]): string {
  const cases = nodes.map((n) => {
    const items = n.words.map((w) => quote(`${w.word.replaceAll(":", "\\:")}:${w.description}`));
    const names = n.worktrees ? ` \${(f)"$(${NAMES})"}` : "";
    return `    ${quote(n.path.join(" "))}) items=(${items.join(" ")}${names}) ;;`;
  });
  const values = optionChoices(nodes).map(([o, c]) => `    ${o}) items=(${c.map(quote).join(" ")}) ;;`);
  return `#compdef kinfra
# kinfra zsh completion: kinfra completions zsh > "\${fpath[1]}/_kinfra"
_kinfra() {
  local path_="" w
  local -a items
  case "\${words[CURRENT-1]}" in
${values.join("\n")}
  esac
  if (( \${#items} )); then _describe 'value' items; return; fi
  for w in \${words[2,CURRENT-1]}; do
    [[ $w == -* ]] || path_="\${path_:+$path_ }$w"
  done
  case "$path_" in
${cases.join("\n")}
    *) items=() ;;
  esac
  _describe 'kinfra' items
}
compdef _kinfra kinfra
`;
}

function fish(nodes: Node[]): string {
  // The command path is the words so far that are not options, so `up` is offered under `kinfra`
  // and not again under `kinfra observability` (fish's __fish_seen_subcommand_from cannot tell).
  const lines = [
    "# kinfra fish completion: kinfra completions fish > ~/.config/fish/completions/kinfra.fish",
    "function __kinfra_at",
    "    set -l path",
    "    for w in (commandline -opc)[2..-1]",
    "        string match -q -- '-*' $w; or set -a path $w",
    "    end",
    '    test "$path" = "$argv[1]"',
    "end",
  ];
  for (const n of nodes) {
    const cond = `__kinfra_at "${n.path.join(" ")}"`;
    for (const w of n.words) {
      const what = w.word.startsWith("--")
        ? `-l ${w.word.slice(2)}${w.choices ? ` -xa ${quote(w.choices.join(" "))}` : ""}`
        : `-f -a ${w.word}`;
      lines.push(`complete -c kinfra -n ${quote(cond)} ${what} -d ${quote(w.description)}`);
    }
    if (n.worktrees) {
      lines.push(`complete -c kinfra -n ${quote(cond)} -f -a ${quote(`(${NAMES})`)} -d worktree`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The completion script for `shell`. */
export function completions(
  program: CommandSpec,
  globals: readonly OptionSpec[],
  shell: "bash" | "zsh" | "fish",
): Promise<CommandOutput> {
  const script = { bash, zsh, fish }[shell](walk(program, globals));
  return Promise.resolve({ data: { shell, script }, text: script });
}
