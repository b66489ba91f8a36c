/**
 * Reading a project's compose files for their published ports, through a content-addressed cache:
 * a file whose exact text was read before is not parsed again, so `impl` and `up` of a project whose
 * compose files did not change never load the YAML library (core/compose/file.ts). A file that does
 * not parse is never cached, so its error is reported every time.
 */
import { dirname, join, relative } from "../io/path.ts";
import { BUILD } from "#build";
import { writeFileAtomic } from "../io/atomic.ts";
import { sha256Hex } from "../io/hash.ts";
import { isContainedPath } from "../project/config/mounts.ts";
import { type ComposeSources, portRender, type PortSource } from "./sources.ts";

/** Bumped when what a scan records changes, so entries written by another kinfra are not read. */
const FORMAT = 1;

/** One file's part of a scan: its plain value and its port entries (without their render function). */
interface Scanned {
  value: Record<string, unknown>;
  ports: Omit<PortSource, "render">[];
}

async function scanFile(text: string, path: string, cacheDir?: string): Promise<Scanned> {
  const key = cacheDir && await sha256Hex([FORMAT, BUILD.version, BUILD.commit, path, text].join("\0"));
  const file = key && join(cacheDir!, `compose-${key.slice(0, 32)}.json`);
  if (file) {
    try {
      return JSON.parse(await Deno.readTextFile(file)) as Scanned;
    } catch { /* not read before */ }
  }
  const { readPorts } = await import("./file.ts");
  const scanned = readPorts(text, path);
  // Only what JSON keeps exactly: a YAML `.inf` or `.nan` would come back as null.
  let faithful = true;
  const json = JSON.stringify(scanned, (_key, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) faithful = false;
    return v;
  });
  if (file && faithful) await writeFileAtomic(file, json).catch(() => {});
  return scanned;
}

/**
 * Reads `file` (relative to `root`) and every file it reaches, listing each published port entry.
 * With `cacheDir` (`<home>/cache`), a text read before is taken from there.
 *
 * @example
 * const { ports } = await scanCompose("/src/shop", "docker-compose.yml");
 * // ports[0] → { file: "docker-compose.yml", where: "services.api.ports[0]", text: "8080:80", … }
 */
export async function scanCompose(
  root: string,
  file: string,
  firstText?: string,
  cacheDir?: string,
): Promise<ComposeSources> {
  const sources: ComposeSources = { files: {}, values: {}, ports: [], outside: [] };
  const queue = [file];
  while (queue.length) {
    const current = queue.shift()!;
    if (current in sources.files) continue;
    const text = current === file && firstText !== undefined
      ? firstText
      : await Deno.readTextFile(join(root, current)).catch(() => undefined);
    if (text === undefined) continue; // Compose itself reports a missing file.
    sources.files[current] = text;
    const scanned = await scanFile(text, current, cacheDir);
    sources.values[current] = scanned.value;
    for (const entry of scanned.ports) {
      sources.ports.push({ ...entry, render: portRender(entry.form, entry.text) });
    }
    for (const ref of referencedFiles(scanned.value)) {
      const path = relative(root, join(root, dirname(current), ref));
      if (isContainedPath(path)) queue.push(path);
      else if (!sources.outside.includes(path)) sources.outside.push(path);
    }
  }
  return sources;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Files named by `extends: { file }` and `include` (string, `path:` string or list). */
function referencedFiles(value: Record<string, unknown>): string[] {
  const refs: string[] = [];
  const services = value.services;
  for (const body of Object.values(isObject(services) ? services : {})) {
    const ref = isObject(body) && isObject(body.extends) ? body.extends.file : undefined;
    if (typeof ref === "string") refs.push(ref);
  }
  const include = value.include;
  for (const item of Array.isArray(include) ? include : []) {
    const paths = typeof item === "string" ? [item] : isObject(item) ? item.path : undefined;
    refs.push(...[paths].flat().filter((p): p is string => typeof p === "string"));
  }
  return refs;
}
