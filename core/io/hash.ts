/** Hex encoding and sha256, the one place kinfra hashes (config cache, copied files, plugin trust, ids). */

/** Lower-case hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The sha256 of text or bytes, as hex.
 *
 * @example
 * await sha256Hex("abc"); // "ba7816bf…"
 */
export async function sha256Hex(data: string | Uint8Array | ArrayBuffer): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}
