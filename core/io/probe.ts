/** One HTTP probe of a health endpoint, as `status`, `kinfra ui` and the docker plugin word it. */
export async function probe(url: string, timeoutMs = 2000): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? "healthy" : `unhealthy (${response.status})`;
  } catch {
    return "not answering";
  }
}
