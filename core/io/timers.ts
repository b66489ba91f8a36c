/**
 * Timers on Deno's own clock (`AbortSignal.timeout`). The global `setTimeout` loads Node's timers
 * module on its first use, about 4 ms of every process, so the paths every command takes use these.
 * A timer keeps the process alive only while it is pending, as `setTimeout`'s does.
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => after(ms, resolve));
}

/** Calls `fn` after `ms` milliseconds unless the returned function is called first. */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(ms);
  const fire = () => fn();
  signal.addEventListener("abort", fire, { once: true });
  return () => signal.removeEventListener("abort", fire);
}
