/**
 * Plain data (what JSON can hold) as block-style YAML, for the compose files kinfra writes into a
 * slot directory. The YAML library costs ~25 ms to load; writing needs none of it. Strings are
 * written plain only when no YAML reader (1.1 or 1.2) could take them for anything else: `8080:80`
 * is a number in YAML 1.1, `on` a boolean, so both are quoted.
 */

const PLAIN = /^[A-Za-z_][A-Za-z0-9_./=@+-]*$/;
const RESERVED = /^(y|n|yes|no|on|off|true|false|null)$/i;

/** A scalar as YAML: numbers, booleans and null as themselves, strings plain or double-quoted. */
function scalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
    // YAML 1.1 reads an exponent only after a dot: `1e+21` would be a string there, `1.0e+21` a number.
    return String(value).replace(/^(-?\d+)e/, "$1.0e");
  }
  if (typeof value === "boolean") return String(value);
  const text = String(value);
  // JSON's escapes (\n, \t, \", \\, \uXXXX) are YAML's double-quoted escapes too.
  return PLAIN.test(text) && !RESERVED.test(text) ? text : JSON.stringify(text);
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `value` under a key or a list dash: inline when it is a scalar or empty, else on the lines after. */
function nested(value: unknown, indent: string, out: string[], head: string): void {
  if (isMap(value) && Object.keys(value).length) {
    out.push(head);
    lines(value, `${indent}  `, out);
  } else if (Array.isArray(value) && value.length) {
    out.push(head);
    lines(value, `${indent}  `, out);
  } else {
    out.push(`${head} ${isMap(value) ? "{}" : Array.isArray(value) ? "[]" : scalar(value)}`);
  }
}

function lines(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isMap(item) && Object.keys(item).length) {
        // A mapping in a list: its first key on the dash's line, the others aligned under it.
        const inner: string[] = [];
        lines(item, `${indent}  `, inner);
        out.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1));
      } else nested(item, indent, out, `${indent}-`);
    }
  } else if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) nested(item, indent, out, `${indent}${scalar(key)}:`);
  } else out.push(`${indent}${scalar(value)}`);
}

/**
 * The YAML text of `value`, ending in a newline.
 *
 * @example
 * toYaml({ services: { web: { ports: ["8081:80"] } } });
 * // services:\n  web:\n    ports:\n      - "8081:80"\n
 */
export function toYaml(value: unknown): string {
  if (isMap(value) && !Object.keys(value).length) return "{}\n";
  if (Array.isArray(value) && !value.length) return "[]\n";
  const out: string[] = [];
  lines(value, "", out);
  return out.join("\n") + "\n";
}
