/**
 * Adding kinfra's WorktreeCreate/WorktreeRemove hooks to a Claude Code settings file, and taking
 * them out, as text edits: every other byte of the file — settings, other hooks, key order,
 * indentation — stays as it was, and `uninstall` after `install` gives back the original file.
 */
import { applyEdits, findNodeAtLocation, modify, type Node, parseTree } from "jsonc-parser";
import { usageError } from "../../errors.ts";

export const HOOK_EVENTS = { WorktreeCreate: "create", WorktreeRemove: "remove" } as const;

/** One hook entry: the command Claude Code runs and how long it waits for it (seconds). */
export interface HookEntry {
  command: string;
  timeout: number;
}

interface Edit {
  offset: number;
  length: number;
  text: string;
}

const apply = (text: string, edit: Edit) =>
  text.slice(0, edit.offset) + edit.text + text.slice(edit.offset + edit.length);

function root(text: string, file: string): Node {
  const errors: unknown[] = [];
  const tree = parseTree(text, errors as never, { allowTrailingComma: true });
  if (!tree || errors.length || tree.type !== "object") {
    throw usageError(`${file} is not a JSON object; kinfra leaves it alone.`, "Fix it, then run this again.");
  }
  return tree;
}

/** The file's indent unit (the first indented line's), two spaces by default. */
function indentUnit(text: string): string {
  return text.match(/\n([ \t]+)"/)?.[1] ?? "  ";
}

/** A value as JSON at `depth` levels of `unit` indentation. */
function render(value: unknown, unit: string, depth: number): string {
  return JSON.stringify(value, null, unit).replaceAll("\n", "\n" + unit.repeat(depth));
}

/** Inserts `"key": value` as the last property of `object` (or `value` as the last item of an array). */
function append(container: Node, unit: string, depth: number, entry: string): Edit {
  const last = container.children?.at(-1);
  if (last) return { offset: last.offset + last.length, length: 0, text: `,\n${unit.repeat(depth)}${entry}` };
  return {
    offset: container.offset + 1,
    length: container.length - 2,
    text: `\n${unit.repeat(depth)}${entry}\n${unit.repeat(depth - 1)}`,
  };
}

const commandsOf = (group: Node) =>
  (findNodeAtLocation(group, ["hooks"])?.children ?? []).map((h) =>
    findNodeAtLocation(h, ["command"])?.value
  );

/**
 * The settings text with kinfra's hooks in it; unchanged when they are there already. A hook of
 * kinfra's with another timeout (an older install) gets the new one, and nothing else changes.
 */
export function installHooks(text: string, file: string, hook: (action: string) => HookEntry): string {
  let out = text.trim() === "" ? "{}\n" : text;
  const unit = indentUnit(out);
  for (const [event, action] of Object.entries(HOOK_EVENTS)) {
    const tree = root(out, file);
    const { command, timeout } = hook(action);
    const group = { hooks: [{ type: "command", command, timeout }] };
    const list = findNodeAtLocation(tree, ["hooks", event]);
    if (list?.type === "array") {
      const at = list.children?.findIndex((g) => commandsOf(g).includes(command)) ?? -1;
      if (at >= 0) {
        out = withTimeout(out, list.children![at], [event, at], command, timeout, unit);
        continue;
      }
      out = apply(out, append(list, unit, 3, render(group, unit, 3)));
      continue;
    }
    if (list) throw usageError(`${file}: hooks.${event} is not a list; kinfra leaves it alone.`);
    const hooks = findNodeAtLocation(tree, ["hooks"]);
    if (hooks && hooks.type !== "object") throw usageError(`${file}: "hooks" is not an object.`);
    out = hooks
      ? apply(out, append(hooks, unit, 2, `"${event}": ${render([group], unit, 2)}`))
      : apply(out, append(tree, unit, 1, `"hooks": ${render({ [event]: [group] }, unit, 1)}`));
  }
  return out;
}

/** Sets the timeout of kinfra's entry in `group` (at `hooks.<event>[index]`) when it differs. */
function withTimeout(
  text: string,
  group: Node,
  [event, index]: [string, number],
  command: string,
  timeout: number,
  unit: string,
): string {
  const hooks = findNodeAtLocation(group, ["hooks"])?.children ?? [];
  const at = hooks.findIndex((h) => findNodeAtLocation(h, ["command"])?.value === command);
  if (findNodeAtLocation(hooks[at], ["timeout"])?.value === timeout) return text;
  const formattingOptions = { insertSpaces: !unit.includes("\t"), tabSize: unit.length };
  return applyEdits(
    text,
    modify(text, ["hooks", event, index, "hooks", at, "timeout"], timeout, { formattingOptions }),
  );
}

/** Removes `node` (a property or an array item) with the separator that joins it to its neighbours. */
function remove(node: Node): Edit {
  const siblings = node.parent!.children!;
  const i = siblings.indexOf(node);
  if (siblings.length === 1) {
    const container = node.parent!;
    return { offset: container.offset + 1, length: container.length - 2, text: "" };
  }
  if (i > 0) {
    const previous = siblings[i - 1];
    const end = previous.offset + previous.length;
    return { offset: end, length: node.offset + node.length - end, text: "" };
  }
  return { offset: node.offset, length: siblings[1].offset - node.offset, text: "" };
}

/** The settings text without kinfra's hooks (and without the lists and `hooks` they leave empty). */
export function uninstallHooks(text: string, file: string, hook: (action: string) => HookEntry): string {
  let out = text;
  for (const [event, action] of Object.entries(HOOK_EVENTS)) {
    for (;;) {
      const list = findNodeAtLocation(root(out, file), ["hooks", event]);
      const ours = list?.children?.find((g) => commandsOf(g).includes(hook(action).command));
      if (!list || !ours) break;
      // The whole property goes when ours is its only group; `hooks` too when it held nothing else.
      const property = list.parent!;
      const hooks = property.parent!;
      const target = list.children!.length > 1 ? ours : hooks.children!.length > 1 ? property : hooks.parent!;
      out = apply(out, remove(target));
    }
  }
  return out;
}
