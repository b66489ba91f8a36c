/**
 * POSIX path helpers with node:path's semantics. `node:path` is ~10 ms of Node-compatibility
 * start-up, a quarter of a whole `kinfra status`; these few functions are all kinfra needs (it runs
 * on Linux and macOS). Checked against node:path in tests/unit/path_test.ts.
 */

export const sep = "/";

export const isAbsolute = (path: string) => path.startsWith("/");

/** Resolves `.`/`..` and repeated slashes; keeps a trailing slash off, and "." for nothing. */
export function normalize(path: string): string {
  const absolute = isAbsolute(path);
  const trailing = path.endsWith("/") && path.length > 1;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length && parts.at(-1) !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else parts.push(part);
  }
  const joined = (absolute ? "/" : "") + parts.join("/");
  if (!joined) return absolute ? "/" : trailing ? "./" : ".";
  return trailing && joined !== "/" ? `${joined}/` : joined;
}

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (parts[i]) path = path ? `${parts[i]}/${path}` : parts[i];
  }
  if (!isAbsolute(path)) path = `${Deno.cwd()}/${path}`;
  const normal = normalize(path);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

const trimEnd = (path: string) => path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;

export function dirname(path: string): string {
  const trimmed = trimEnd(path);
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return trimmed.slice(0, i);
}

export function basename(path: string, ext?: string): string {
  const trimmed = trimEnd(path);
  const base = trimmed === "/" ? "" : trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return ext && base !== ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter(Boolean);
  const b = resolve(to).split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...Array(a.length - common).fill(".."), ...b.slice(common)].join("/");
}

/** The path of a `file:` URL (node:url's fileURLToPath without loading Node's compatibility layer, ~8 ms). */
export function fromFileUrl(url: string | URL): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "file:") throw new TypeError(`Not a file URL: ${parsed.href}`);
  return decodeURIComponent(parsed.pathname);
}
