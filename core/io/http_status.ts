/**
 * The status code of one GET, read from the status line over a plain TCP socket. Health probes and
 * `status` only need that number, and `fetch`'s first use in a process loads its whole stack (~8 ms
 * of a command that runs in 30). Other schemes (https) and redirects, which `fetch` follows, still go
 * through `fetch`, so the answer is the same as before.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * GETs `url` and resolves to its HTTP status; rejects when nothing answers, the answer is not HTTP, or
 * `signal` aborts.
 *
 * @example
 * await httpStatus("http://127.0.0.1:8081/health", AbortSignal.timeout(2000)); // 200
 */
export async function httpStatus(url: string, signal: AbortSignal): Promise<number> {
  const target = new URL(url);
  if (target.protocol !== "http:") return await fetchStatus(url, signal);
  const status = await statusLine(target, signal);
  return status >= 300 && status < 400 ? await fetchStatus(url, signal) : status;
}

async function fetchStatus(url: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(url, { signal });
  await response.body?.cancel();
  return response.status;
}

async function statusLine(target: URL, signal: AbortSignal): Promise<number> {
  signal.throwIfAborted();
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const conn = await untilAborted(Deno.connect({ hostname, port: Number(target.port || 80) }), signal);
  const close = () => {
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  signal.addEventListener("abort", close, { once: true });
  try {
    // The URL parser has already percent-encoded anything that could end a line.
    const request = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      `User-Agent: kinfra\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
    await conn.write(encoder.encode(request));
    let head = "";
    const buffer = new Uint8Array(1024);
    while (!head.includes("\r\n") && head.length < 8192) {
      const n = await conn.read(buffer);
      if (n === null) break;
      head += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    signal.throwIfAborted();
    const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head)?.[1];
    if (!status) throw new Error(head ? "the answer is not HTTP" : "the connection closed without an answer");
    return Number(status);
  } finally {
    signal.removeEventListener("abort", close);
    close();
  }
}

/** `connecting`, unless `signal` aborts first (a connection that arrives after that is closed). */
function untilAborted(connecting: Promise<Deno.TcpConn>, signal: AbortSignal): Promise<Deno.TcpConn> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    connecting.then((conn) => {
      signal.removeEventListener("abort", abort);
      if (signal.aborted) conn.close();
      else resolve(conn);
    }, (e) => {
      signal.removeEventListener("abort", abort);
      reject(e);
    });
  });
}
