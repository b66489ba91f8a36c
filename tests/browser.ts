/**
 * A real headless Chromium driven over the DevTools protocol (a WebSocket; no driver library): open
 * a page, run JavaScript in it, wait for a condition, take a screenshot.
 */
import { join } from "node:path";

/** The Chromium on this machine, or undefined. */
export const chromiumPath: string | undefined = (() => {
  for (const name of [Deno.env.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]) {
    if (!name) continue;
    const r = new Deno.Command("sh", { args: ["-c", `command -v "${name}"`], stdout: "piped" }).outputSync();
    if (r.success) return new TextDecoder().decode(r.stdout).trim();
  }
})();

type Message = { id?: number; result?: Record<string, unknown>; error?: { message: string } };

export class Browser {
  private next = 1;
  private waiting = new Map<number, (m: Message) => void>();

  private constructor(
    private readonly process: Deno.ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
  ) {
    socket.onmessage = (e) => {
      const message = JSON.parse(e.data) as Message;
      if (message.id) this.waiting.get(message.id)?.(message);
    };
  }

  static async launch(): Promise<Browser> {
    if (!chromiumPath) throw new Error("no chromium (apt-get install chromium)");
    const profile = await Deno.makeTempDir({ prefix: "kinfra-chromium-" });
    const process = new Deno.Command(chromiumPath, {
      args: [
        "--headless",
        "--no-sandbox", // tests run as root in containers
        "--disable-gpu",
        "--no-first-run",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "--window-size=1400,900",
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Chromium says where its DevTools endpoint is on stderr.
    let seen = "";
    const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!/ws:\/\/\S+/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`chromium did not start:\n${seen}`);
      seen += value;
    }
    (async () => { // keep draining so Chromium never blocks on a full pipe
      while (!(await reader.read()).done);
    })().catch(() => {});
    const socket = new WebSocket(seen.match(/ws:\/\/\S+/)![0]);
    await new Promise((resolve, reject) => (socket.onopen = resolve, socket.onerror = reject));
    return new Browser(process, socket, profile);
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.next++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) =>
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {});
      })
    );
  }

  async open(url: string): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await page.send("Page.enable");
    await page.send("Page.navigate", { url });
    await page.waitFor("document.readyState === 'complete'");
    return page;
  }

  async close(): Promise<void> {
    this.socket.close();
    try {
      this.process.kill("SIGKILL");
    } catch { /* gone */ }
    await this.process.status;
    await Deno.remove(this.profile, { recursive: true }).catch(() => {});
  }
}

export class Page {
  constructor(private readonly browser: Browser, private readonly session: string) {}

  send(method: string, params: Record<string, unknown> = {}) {
    return this.browser.send(method, params, this.session);
  }

  /** The value of a JavaScript expression in the page (promises awaited). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    const failed = r.exceptionDetails as { exception?: { description?: string }; text?: string } | undefined;
    if (failed) throw new Error(`${expression}\n→ ${failed.exception?.description ?? failed.text}`);
    return (r.result as { value: T }).value;
  }

  /**
   * Waits until `condition` (an expression) is truthy in the page; returns its value. A navigation
   * while waiting (a form submitted) starts the wait again in the new document.
   */
  async waitFor<T = unknown>(condition: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.poll<T>(condition, Math.max(0, deadline - Date.now()));
      } catch (e) {
        if (!/navigated or closed|context was destroyed/.test(String(e)) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async poll<T>(condition: string, timeoutMs: number): Promise<T> {
    return await this.eval<T>(`new Promise((resolve, reject) => {
      const start = Date.now();
      const tick = () => {
        let value;
        try { value = (${condition}); } catch (e) { value = undefined; }
        if (value) return resolve(value);
        if (Date.now() - start > ${timeoutMs}) return reject(new Error("timed out waiting for: " + ${
      JSON.stringify(condition)
    } + "\\n" + document.body.innerText.slice(0, 2000)));
        setTimeout(tick, 25);
      };
      tick();
    })`);
  }

  /** Clicks the element `selector` names (it must exist). */
  async click(selector: string): Promise<void> {
    await this.eval(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("nothing matches " + ${JSON.stringify(selector)});
      el.click();
    })()`);
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0)));
  }
}
