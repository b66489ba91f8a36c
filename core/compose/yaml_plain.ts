/**
 * Aliases, merge keys and plain values of a parsed YAML document, in time linear in its size. The
 * `yaml` package resolves each alias by scanning every anchor and alias written before it, so a
 * compose file with thousands of `<<: *common` took minutes; here one pass in document order maps
 * every alias to its anchor, and the rest reads that map.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";

/** Each alias of a document mapped to the node its anchor names (undefined: no such anchor before it). */
export type AliasTargets = Map<Node, Node | undefined>;

/**
 * Maps every alias to the last node anchored with its name before it, as YAML defines it.
 *
 * @example
 * const targets = aliasTargets(parseDocument("a: &x 1\nb: *x\n").contents);
 */
export function aliasTargets(root: unknown): AliasTargets {
  const anchors = new Map<string, Node>();
  const targets: AliasTargets = new Map();
  const stack: unknown[] = [root];
  // Depth-first, children in written order (the stack holds them reversed): document order.
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) {
      targets.set(node, anchors.get(node.source));
      continue;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
    }
    if (isMap(node) || isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    } else if (isPair(node)) {
      stack.push(node.value, node.key);
    }
  }
  return targets;
}

/**
 * How many nodes the document holds written (`written`) and with every alias expanded (`expanded`):
 * what a consumer that copies aliases would build. Each node's size is computed once.
 */
export function documentSize(root: unknown, targets: AliasTargets): { written: number; expanded: number } {
  const sizes = new Map<unknown, number>();
  let written = 0;
  const size = (node: unknown): number => {
    if (isAlias(node)) return size(targets.get(node));
    if (!isMap(node) && !isSeq(node)) return node === undefined || node === null ? 0 : 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let total = 1;
    for (const item of node.items) {
      total += isPair(item) ? size(item.key) + size(item.value) : size(item);
    }
    sizes.set(node, total);
    return total;
  };
  const count = (node: unknown): void => {
    if (node === undefined || node === null) return;
    written++;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) [item.key, item.value].forEach(count);
        else count(item);
      }
    }
  };
  count(root);
  return { written, expanded: size(root) };
}

/**
 * The plain value of a node: aliases resolved through `targets`, merge keys (`<<`) applied (keys
 * written in the mapping win, then the merged maps in order). An aliased node is converted once and
 * shared, so the cost stays linear in the written size.
 *
 * @example
 * toPlain(doc.contents, aliasTargets(doc.contents)); // { services: { web: { image: "nginx", … } } }
 */
export function toPlain(root: unknown, targets: AliasTargets): unknown {
  const done = new Map<unknown, unknown>();
  const plain = (node: unknown): unknown => {
    if (isAlias(node)) return plain(targets.get(node));
    if (isScalar(node)) return node.value;
    if (!isMap(node) && !isSeq(node)) return node ?? null;
    if (done.has(node)) return done.get(node);
    if (isSeq(node)) {
      const list: unknown[] = [];
      done.set(node, list);
      for (const item of node.items) list.push(plain(item));
      return list;
    }
    const map: Record<string, unknown> = {};
    done.set(node, map);
    const merged: unknown[] = [];
    for (const pair of node.items) {
      if (isMergeKey(pair.key)) {
        const value = isAlias(pair.value) ? targets.get(pair.value) : pair.value;
        for (const item of isSeq(value) ? value.items : [pair.value]) merged.push(plain(item));
      } else define(map, keyOf(pair.key, plain), plain(pair.value));
    }
    for (const source of merged) {
      if (source === null || typeof source !== "object" || Array.isArray(source)) continue;
      for (const [key, value] of Object.entries(source)) {
        if (!Object.hasOwn(map, key)) define(map, key, value);
      }
    }
    return map;
  };
  return plain(root);
}

/** `<<` written plain (a quoted "<<" is an ordinary key). */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === "<<" && (!key.type || key.type === "PLAIN");
}

function keyOf(key: unknown, plain: (node: unknown) => unknown): string {
  const value = plain(key);
  return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Sets a key as an own property, even `__proto__` (which plain assignment would not). */
function define(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else map[key] = value;
}

/**
 * The first key written twice in one mapping (scalar keys compared by value), or undefined. The
 * parser's own check compares each key with every earlier one: quadratic in a `services:` of
 * thousands, so it is turned off (`uniqueKeys: false`) and this one pass, with a set per mapping,
 * takes its place.
 */
export function duplicateKey(root: unknown): Node | undefined {
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isSeq(node)) stack.push(...node.items);
    if (!isMap(node)) continue;
    const seen = new Set<unknown>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (seen.has(key)) return pair.key as Node;
      seen.add(key);
      stack.push(pair.value);
    }
  }
  return undefined;
}
