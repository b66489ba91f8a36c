/** The health gate: GET a URL until it answers 2xx, the deadline passes, or the user interrupts. */
import { httpStatus, sleep } from "../../core/hooks/plugin_api.ts";

export interface HealthOutcome {
  ok: boolean;
  /** The last status or error seen, for the failure message. */
  last: string;
  elapsedMs: number;
}

/**
 * Polls `url` until it answers 2xx: at once, then after 10, 20, 40 and from then on every 50 ms
 * (a refused connection costs next to nothing), so a service is seen healthy within ~50 ms of
 * answering. Each attempt is bounded to 2 s.
 *
 * @example
 * const { ok } = await waitHealthy("http://127.0.0.1:8081/health", 60_000, signal);
 */
export async function waitHealthy(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthOutcome> {
  const start = Date.now();
  let last = "did not answer";
  let pause = 10;
  while (!signal.aborted) {
    const left = timeoutMs - (Date.now() - start);
    if (left <= 0) break;
    try {
      const status = await httpStatus(
        url,
        AbortSignal.any([signal, AbortSignal.timeout(Math.min(2000, left))]),
      );
      if (status >= 200 && status < 300) {
        return { ok: true, last: String(status), elapsedMs: Date.now() - start };
      }
      last = `answered ${status}`;
    } catch (e) {
      last = `did not answer (${e instanceof Error ? e.message.split("\n")[0] : e})`;
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
  return { ok: false, last: signal.aborted ? "was interrupted" : last, elapsedMs: Date.now() - start };
}
