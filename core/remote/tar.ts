/**
 * A tar writer, just enough for the engine API's `PUT /containers/{id}/archive`: regular files,
 * symlinks and hard links (the deletion marker of engine_sync.ts), with a PAX header for names or
 * link targets longer than ustar's 100 bytes. Everything in memory: a pass carries what changed.
 */

export interface TarEntry {
  name: string;
  type: "file" | "symlink" | "hardlink";
  /** The file's bytes (type "file"). */
  data?: Uint8Array;
  /** The target of a symlink or hard link. */
  link?: string;
  mode?: number;
  mtime?: number;
}

const encoder = new TextEncoder();
const TYPE = { file: "0", hardlink: "1", symlink: "2" } as const;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(
  name: string,
  type: string,
  size: number,
  mode: number,
  mtime: number,
  link = "",
): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, offset: number, width: number) =>
    block.set(encoder.encode(text).subarray(0, width), offset);
  put(name, 0, 100);
  put(octal(mode & 0o7777, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Math.floor(mtime), 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(link, 157, 100);
  put("ustar\0" + "00", 257, 8);
  const sum = block.reduce((a, b) => a + b, 0);
  put(octal(sum, 7) + " ", 148, 8);
  return block;
}

/** A PAX record `"<len> key=value\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = encoder.encode(body).length;
  let total = n + String(n).length;
  if (String(total).length !== String(n).length) total = n + String(total).length;
  return `${total}${body}`;
}

const padded = (size: number) => Math.ceil(size / 512) * 512;

/** The tar archive of `entries` (ending with the two zero blocks). */
export function tar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.type === "file" ? e.data ?? new Uint8Array() : new Uint8Array();
    const link = e.link ?? "";
    const mtime = e.mtime ?? 0;
    if (encoder.encode(e.name).length > 100 || encoder.encode(link).length > 100) {
      const pax = encoder.encode(
        paxRecord("path", e.name) + (link ? paxRecord("linkpath", link) : ""),
      );
      parts.push(header("PaxHeader", "x", pax.length, 0o644, mtime));
      const body = new Uint8Array(padded(pax.length));
      body.set(pax);
      parts.push(body);
    }
    parts.push(header(e.name, TYPE[e.type], data.length, e.mode ?? 0o644, mtime, link));
    if (data.length) {
      const body = new Uint8Array(padded(data.length));
      body.set(data);
      parts.push(body);
    }
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
