/** Shared by the unit tests that run real bind tests: a run of ports free right now. */

/** True when `port` can be bound over TCP on all interfaces and on loopback right now. */
function bindable(port: number): boolean {
  try {
    for (const hostname of ["0.0.0.0", "127.0.0.1"]) Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A port `p` such that `p` … `p + count - 1` are all free over TCP now, found from a port the system
 * picked: fixed port numbers collide with whatever else runs on a shared machine.
 */
export function freePorts(count: number): number {
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    if (port + count <= 65536 && Array.from({ length: count }, (_, i) => port + i).every(bindable)) {
      return port;
    }
  }
}
