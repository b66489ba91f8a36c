/**
 * Shell completion scripts generated from the commander program itself, so they never drift from
 * the real commands and flags.
 */
import type { Command } from "commander";
import type { CommandOutput } from "./output.ts";

interface Node {
  path: string[];
  commands: { name: string; description: string }[];
  flags: { long: string; description: string }[];
}

function walk(command: Command, path: string[] = []): Node[] {
  const node: Node = {
    path,
    commands: command.commands.map((c) => ({ name: c.name(), description: c.description() })),
    flags: command.options.filter((o) => o.long).map((o) => ({ long: o.long!, description: o.description })),
  };
  return [node, ...command.commands.flatMap((c) => walk(c, [...path, c.name()]))];
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) =>
    `    ${quote(n.path.join(" "))}) words=${
      quote([...n.commands.map((c) => c.name), ...n.flags.map((f) => f.long)].join(" "))
    } ;;`
  );
  return `# kinfra bash completion: eval "$(kinfra completions bash)"
_kinfra() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" w words
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
    const items = [
      ...n.commands.map((c) => `${c.name}:${c.description}`),
      ...n.flags.map((f) => `${f.long}:${f.description}`),
    ].map((s) => quote(s.replaceAll(":", "\\:").replace(/\\:/, ":")));
    return `    ${quote(n.path.join(" "))}) items=(${items.join(" ")}) ;;`;
  });
  return `#compdef kinfra
# kinfra zsh completion: kinfra completions zsh > "\${fpath[1]}/_kinfra"
_kinfra() {
  local path_="" w
  local -a items
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
  const lines = [
    "# kinfra fish completion: kinfra completions fish > ~/.config/fish/completions/kinfra.fish",
  ];
  for (const n of nodes) {
    const cond = n.path.length === 0
      ? "__fish_use_subcommand"
      : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const c of n.commands) {
      lines.push(`complete -c kinfra -f -n ${quote(cond)} -a ${c.name} -d ${quote(c.description)}`);
    }
    for (const f of n.flags) {
      lines.push(`complete -c kinfra -n ${quote(cond)} -l ${f.long.slice(2)} -d ${quote(f.description)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The completion script for `shell`. */
export function completions(program: Command, shell: "bash" | "zsh" | "fish"): Promise<CommandOutput> {
  const nodes = walk(program);
  const script = { bash, zsh, fish }[shell](nodes);
  return Promise.resolve({ data: { shell, script }, text: script });
}
