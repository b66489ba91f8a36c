/**
 * Shell completion scripts generated from the command table itself, so they never drift from the
 * real commands and flags.
 */
import { type CommandSpec, type OptionSpec, parseFlags } from "./args.ts";
import type { CommandOutput } from "../io/output.ts";

interface Word {
  word: string;
  description: string;
  choices?: readonly string[];
  /** An option taking a value (`--base <ref>`), with its short form if any: the next word is that value. */
  value?: string[];
}

interface Node {
  path: string[];
  words: Word[];
  /** The command takes a worktree name: offer the registry's (`kinfra worktrees --names`). */
  worktrees: boolean;
  /** It takes a subcommand and no argument (`kinfra`, `kinfra observability`). */
  group: boolean;
}

const NAMES = "kinfra worktrees --names 2>/dev/null";

/** Every option that takes one of fixed values, with them (`--lang` → sh ts), over the whole program. */
function optionChoices(nodes: Node[]): [string, readonly string[]][] {
  const all = nodes.flatMap((n) =>
    n.words.filter((w) => w.choices).flatMap((w) =>
      (w.value ?? [w.word]).map((f) => [f, w.choices!] as const)
    )
  );
  return [...new Map(all).entries()];
}

/**
 * What the scripts need to find the command path in the words typed so far: the options whose next
 * word is their value (`-C`, `--directory`, `--base`…), and every command path. A word that is
 * neither an option, an option's value nor the next step of a path is an argument (`impl x/M1`).
 */
function grammar(nodes: Node[]) {
  const words = nodes.flatMap((n) => n.words);
  const unique = (flags: string[]) => [...new Set(flags)];
  return {
    valued: unique(words.flatMap((w) => w.value ?? [])),
    /** Options whose value is free text or a path: the shell's own (file) completion is offered. */
    free: unique(words.filter((w) => !w.choices).flatMap((w) => w.value ?? [])),
    paths: nodes.map((n) => n.path.join(" ")).filter(Boolean),
    /** Paths that take a subcommand and no argument: an unknown word there leads nowhere. */
    groups: nodes.filter((n) => n.group).map((n) => n.path.join(" ")),
  };
}

function walk(command: CommandSpec, globals: readonly OptionSpec[], path: string[] = []): Node[] {
  const words = [
    ...(command.subcommands ?? []).map((c) => ({ word: c.name, description: c.description })),
    ...(command.args ?? []).flatMap((a) =>
      (a.choices ?? []).map((c) => ({ word: c, description: a.description }))
    ),
    ...[...command.options ?? [], ...globals].map((o) => {
      const { long, short, value } = parseFlags(o.flags);
      const takes = value ? [`--${long}`, ...short ? [`-${short}`] : []] : undefined;
      return { word: `--${long}`, description: o.description, choices: o.choices, value: takes };
    }),
  ];
  return [
    {
      path,
      words,
      worktrees: (command.args ?? []).some((a) => a.worktree),
      group: Boolean(command.subcommands?.length) && !command.args?.length,
    },
    ...(command.subcommands ?? []).flatMap((c) => walk(c, globals, [...path, c.name])),
  ];
}

/** The loop, in bash and zsh alike, that sets `variable` to the command path the words so far lead to. */
function findPath(nodes: Node[], variable: string, words: string): string {
  const { valued, paths, groups } = grammar(nodes);
  const next = `"\${${variable}:+$${variable} }$w"`;
  return `  for w in ${words}; do
    if [ -n "$skip" ]; then [ "$w" = "=" ] || skip=""; continue; fi
    case "$w" in
      ${valued.join("|")}) skip=1 ;;
      -*) ;;
      *) case ${next} in
        ${paths.map(quote).join("|")}) ${variable}=${next} ;;
        *) case "$${variable}" in ${groups.map(quote).join("|")}) ${variable}="?" ;; esac ;;
      esac ;;
    esac
  done`;
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
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" w words="" skip=""
  # bash splits \`--opt=value\` at "=": the option is the word before it.
  [ "$prev" = "=" ] && prev=\${COMP_WORDS[COMP_CWORD-2]}
  [ "$cur" = "=" ] && prev=\${COMP_WORDS[COMP_CWORD-1]} && cur=""
  case "$prev" in
${values.join("\n")}
    ${grammar(nodes).free.join("|")}) COMPREPLY=(); return ;;
  esac
  if [ -n "$words" ]; then COMPREPLY=( $(compgen -W "$words" -- "$cur") ); return; fi
${findPath(nodes, "path", '"\${COMP_WORDS[@]:1:COMP_CWORD-1}"')}
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
# kinfra zsh completion: kinfra completions zsh > "\${fpath[1]}/_kinfra" (or: source <(kinfra completions zsh))
_kinfra() {
  local path_="" w skip=""
  local -a items
  case "\${words[CURRENT-1]}" in
${values.join("\n")}
    ${grammar(nodes).free.join("|")}) _files; return ;;
  esac
  if (( \${#items} )); then _describe 'value' items; return; fi
${findPath(nodes, "path_", "\${words[2,CURRENT-1]}")}
  case "$path_" in
${cases.join("\n")}
    *) items=() ;;
  esac
  _describe 'kinfra' items
}
# Autoloaded from $fpath, this file is _kinfra's body: the first TAB defines the function and runs it.
if [[ \${funcstack[1]} == _kinfra ]]; then _kinfra "$@"; else compdef _kinfra kinfra; fi
`;
}

function fish(nodes: Node[]): string {
  // The command path is found as bash and zsh find it, so `up` is offered under `kinfra` and not
  // again under `kinfra observability` (fish's __fish_seen_subcommand_from cannot tell).
  const { valued, paths, groups } = grammar(nodes);
  const lines = [
    "# kinfra fish completion: kinfra completions fish > ~/.config/fish/completions/kinfra.fish",
    "function __kinfra_at",
    "    set -l path ''",
    "    set -l skip 0",
    "    for w in (commandline -opc)[2..-1]",
    "        if test $skip = 1; set skip 0; continue; end",
    `        if contains -- $w ${valued.join(" ")}; set skip 1`,
    "        else if string match -q -- '-*' $w",
    `        else if contains -- (string trim -- "$path $w") ${paths.map(quote).join(" ")}`,
    '            set path (string trim -- "$path $w")',
    `        else if contains -- "$path" ${groups.map(quote).join(" ")}`,
    "            set path '?'",
    "        end",
    "    end",
    '    test "$path" = "$argv[1]"',
    "end",
  ];
  for (const n of nodes) {
    const cond = `__kinfra_at "${n.path.join(" ")}"`;
    for (const w of n.words) {
      const what = w.word.startsWith("--")
        ? `-l ${w.word.slice(2)}${w.choices ? ` -xa ${quote(w.choices.join(" "))}` : w.value ? " -r" : ""}`
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
