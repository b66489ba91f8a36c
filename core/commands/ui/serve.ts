/**
 * `kinfra ui`: serves the dashboard (templates/ui/index.html, embedded) on 127.0.0.1 until Ctrl-C.
 * The board goes to every open page as server-sent events (live.ts keeps it current); buttons POST
 * actions that run the CLI (actions.ts). A token made for this run, in the printed URL, is required
 * by every request but the page's own files: another page in the browser cannot read the board or
 * act (no CSRF), and the page is never framed or leaks the token as a referrer.
 */
import page from "../../../templates/ui/index.html" with { type: "text" };
import type { Context } from "../../context.ts";
import { Exit, KinfraError, usageError } from "../../errors.ts";
import type { CommandOutput } from "../../io/output.ts";
import { type ActionReply, checkRequest, runAction } from "./actions.ts";
import { follow } from "./live.ts";
import type { Board } from "./model.ts";

const DEFAULT_PORT = 4380;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const WILDCARD = new Set(["0.0.0.0", "::"]);
const HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { ...HEADERS, "content-type": "application/json" } });
const forbidden = (why: string) => json(403, { ok: false, error: { message: why } });

/** The page with the board it starts from (so it shows at once, even before the event stream). */
const html = (board: Board | undefined) =>
  page.replace("__BOARD__", JSON.stringify(board ?? null).replaceAll("<", "\\u003c"));

function listen(host: string, port: number | undefined, handler: Deno.ServeHandler, signal: AbortSignal) {
  const serve = (p: number) => Deno.serve({ hostname: host, port: p, signal, onListen: () => {}, handler });
  if (port !== undefined) return serve(port);
  for (let p = DEFAULT_PORT; p < DEFAULT_PORT + 20; p++) {
    try {
      return serve(p);
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
  return serve(0);
}

export async function ui(
  ctx: Context,
  options: { port?: string; host?: string; open?: boolean; json: boolean },
): Promise<CommandOutput> {
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw usageError(`--port "${options.port}" is not a port number (1–65535, or 0 for any free one).`);
  }
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.test(host)) {
    ctx.log.warn(
      `Serving on ${host}: anyone who can reach it and has the URL (with its token) can stop and remove your ` +
        "sandboxes. Leave out --host to serve on 127.0.0.1 only.",
    );
  }
  const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  const stop = new AbortController();
  ctx.signal.addEventListener("abort", () => stop.abort(), { once: true });
  let current: Board | undefined;
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const encoder = new TextEncoder();
  const send = (c: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    try {
      c.enqueue(encoder.encode(text));
    } catch {
      streams.delete(c);
    }
  };
  const running = new Set<Promise<unknown>>();

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    // A page on another site may send requests here but never carries the token; a rebound DNS name
    // carries neither the right Host nor the token.
    const hostname = (request.headers.get("host") ?? "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    if (!LOOPBACK.test(hostname) && hostname !== host && !WILDCARD.has(host)) {
      return forbidden(`Host ${hostname} is not served here.`);
    }
    const given = request.headers.get("x-kinfra-token") ?? url.searchParams.get("token");
    if (given !== token) {
      return forbidden("This needs the token in the URL `kinfra ui` printed; open that URL.");
    }
    if (request.method === "GET" && url.pathname === "/") {
      return new Response(html(current), {
        headers: { ...HEADERS, "content-type": "text/html; charset=utf-8" },
      });
    }
    if (request.method === "GET" && url.pathname === "/api/board") return json(200, current ?? null);
    if (request.method === "GET" && url.pathname === "/api/events") {
      let me: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          me = c;
          streams.add(c);
          if (current) send(c, `data: ${JSON.stringify(current)}\n\n`);
        },
        cancel() {
          streams.delete(me);
        },
      });
      return new Response(body, { headers: { ...HEADERS, "content-type": "text/event-stream" } });
    }
    if (request.method === "POST" && url.pathname === "/api/actions") {
      const origin = request.headers.get("origin");
      if (origin && new URL(origin).host !== request.headers.get("host")) {
        return forbidden("Cross-origin request.");
      }
      if (request.headers.get("x-kinfra-token") !== token) {
        return forbidden("The token goes in X-Kinfra-Token.");
      }
      const checked = await checkRequest(ctx, await request.json().catch(() => undefined));
      if ("status" in checked) return json(checked.status, checked.body);
      ctx.log.info(`${checked.action}${checked.force ? " --force" : ""} ${checked.path}`);
      const work = runAction(ctx, checked);
      running.add(work);
      const reply: ActionReply = await work.finally(() => running.delete(work));
      return json(reply.status, reply.body);
    }
    return json(404, { ok: false, error: { message: `Nothing at ${request.method} ${url.pathname}.` } });
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = listen(host, port, handler, stop.signal) as Deno.HttpServer<Deno.NetAddr>;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new KinfraError(`Port ${port} on ${host} is in use.`, {
        code: Exit.environment,
        hint: "Pick another with --port, or leave --port out to take a free one.",
      });
    }
    throw usageError(
      `Cannot serve on ${host}: ${(e as Error).message}`,
      "--host takes an address of this machine.",
    );
  }
  // On every address: this machine reaches it on 127.0.0.1.
  const shown = WILDCARD.has(host) ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const address = `http://${shown}:${server.addr.port}/?token=${token}`;
  const following = follow(ctx, stop.signal, (board) => {
    current = board;
    for (const c of streams) send(c, `data: ${JSON.stringify(board)}\n\n`);
  });
  const keepAlive = setInterval(() => streams.forEach((c) => send(c, ": keep-alive\n\n")), 15_000);
  const started = { url: address, host, port: server.addr.port };
  const out = options.json ? JSON.stringify(started) : `kinfra ui: ${address}\n  (Ctrl-C stops it)`;
  await Deno.stdout.write(encoder.encode(out + "\n"));
  if (options.open) openBrowser(ctx, address);

  if (!stop.signal.aborted) {
    await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
  }
  clearInterval(keepAlive);
  for (const c of streams) c.close();
  streams.clear();
  // Actions finish (their CLI got the Ctrl-C too, and rolls back); a client that never reads its
  // response does not keep kinfra running.
  const grace = new Promise((resolve) => setTimeout(resolve, 2000));
  await Promise.allSettled([...running, following, Promise.race([server.finished, grace])]);
  ctx.log.info("kinfra ui stopped.");
  return { data: started, text: "", silent: true };
}

function openBrowser(ctx: Context, url: string) {
  const opener = Deno.build.os === "darwin" ? "open" : "xdg-open";
  new Deno.Command(opener, { args: [url], stdin: "null", stdout: "null", stderr: "null" }).output().then(
    (r) => r.success || ctx.log.warn(`${opener} failed; open ${url} yourself.`),
    () => ctx.log.warn(`There is no ${opener} here; open ${url} yourself.`),
  );
}
