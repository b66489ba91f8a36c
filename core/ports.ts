/**
 * Port arithmetic and the TCP bind test. A variable's port in slot n is `base + n` (SPEC §6).
 */

/** The ports of one slot. */
export function slotPorts(bases: Record<string, number>, slot: number): Record<string, number> {
  return Object.fromEntries(Object.entries(bases).map(([name, base]) => [name, base + slot]));
}

/**
 * True when nothing listens on `port`: we can bind it ourselves on all interfaces (as Docker's
 * port publishing will) and on loopback.
 *
 * @example
 * if (!isPortFree(8081)) log("Slot 1 skipped: port 8081 in use");
 */
export function isPortFree(port: number): boolean {
  for (const hostname of ["0.0.0.0", "127.0.0.1"]) {
    try {
      Deno.listen({ hostname, port, transport: "tcp" }).close();
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.PermissionDenied) return false;
      throw e;
    }
  }
  return true;
}
