/** One HTTP probe of a health endpoint, as `status`, `kinfra ui` and the docker plugin word it. */
import { httpStatus } from "./http_status.ts";

// What a plugin polling an endpoint needs besides `probe`, re-exported as one line of plugin_api.ts.
export { httpStatus };
export { sleep } from "./timers.ts";

export async function probe(url: string, timeoutMs = 2000): Promise<string> {
  try {
    const status = await httpStatus(url, AbortSignal.timeout(timeoutMs));
    return status >= 200 && status < 300 ? "healthy" : `unhealthy (${status})`;
  } catch {
    return "not answering";
  }
}
