/**
 * `kinfra ui` in a real headless Chromium against real sandboxes: rows appear live, react to the CLI
 * and to the engine, actions from the page have the CLI's guarantees, and nothing acts without the
 * run's token. Also the server's own edges (Ctrl-C, --host, a busy port) and `status --watch`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Browser, chromiumPath, type Page } from "./browser.ts";
import { inCI, KINFRA, pathExists, type Sandbox, withSandbox, writeFiles } from "./helpers.ts";
import { containersOf, docker, dockerTest, IMAGE, makeProject, randomBase } from "./sandbox_helpers.ts";

/** Starts `kinfra ui` and returns its URL, its process, and its stderr so far. */
/** Starts kinfra without the board's periodic rebuild: what changes must come from the events. */
const spawnLive = (sb: Sandbox, args: string[], env: Record<string, string> = {}) =>
  new Deno.Command(KINFRA[0], {
    args: [...KINFRA.slice(1), ...args],
    cwd: sb.dir,
    env: { KINFRA_HOME: sb.home, NO_COLOR: "1", KINFRA_UI_REFRESH: "3600", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();

export async function startUi(sb: Sandbox, args: string[] = [], env: Record<string, string> = {}) {
  const child = spawnLive(sb, ["ui", "--port", "0", ...args], env);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`kinfra ui ended: ${out}\n${await new Response(child.stderr).text()}`);
    out += value;
  }
  const url = out.match(/http:\/\/\S+/)![0];
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    child.kill("SIGINT");
    const status = await child.status;
    lines.cancel().catch(() => {});
    return { code: status.code, stderr: await stderr };
  };
  return { url, out, stop, child };
}

async function withBrowser(fn: (browser: Browser) => Promise<void>) {
  if (!chromiumPath) throw new Error("These tests need Chromium (scripts/setup.sh installs it).");
  const browser = await Browser.launch();
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

const browserIgnore = !chromiumPath && !inCI;
const row = (name: string) => `document.querySelector('tr.wt[data-name="${name}"]')`;
const cell = (name: string, column: number) => `${row(name)}?.children[${column}]?.innerText`;

const TICKER = `  ticker:
    image: ${IMAGE}
    init: true
    command: ["sh", "-c", "while true; do echo tick-from-ticker; sleep 1; done"]
`;

dockerTest("kinfra ui shows every project's sandboxes live and acts like the CLI", async (sb, stem) => {
  if (browserIgnore) return;
  const a = await makeProject(sb, `${stem}a`, { base: randomBase(), extraServices: TICKER });
  const b = await makeProject(sb, `${stem}b`, { base: randomBase(), extraServices: TICKER });
  const ui = await startUi(sb);
  try {
    await withBrowser(async (browser) => {
      const page = await browser.open(ui.url);
      await page.waitFor("document.getElementById('live').textContent === 'live'");
      assert.match(await page.eval<string>("document.body.innerText"), /No kinfra worktrees/);
      await page.eval("window.sameDocument = true");

      // Two sandboxes of two projects, made with the CLI, appear without a reload.
      for (const [repo, target] of [[a, "left/M1"], [b, "right/M1"]]) {
        const r = await sb.kinfra(["impl", target], { cwd: repo });
        assert.equal(r.code, 0, r.stderr);
      }
      const left = `${stem}a-impl-left-M1`, right = `${stem}b-impl-right-M1`;
      await page.waitFor(`${cell(left, 1)}?.includes("up") && ${cell(right, 1)}?.includes("up")`);
      assert.deepEqual(
        await page.eval(
          "[...document.querySelectorAll('section.project h2')].map((h) => h.firstChild.textContent)",
        ),
        [`${stem}a`, `${stem}b`],
      );
      const ports = await page.eval<string[]>(
        `[...${row(left)}.querySelectorAll('.ports a')].map((l) => l.href)`,
      );
      const slot = (await sb.kinfra(["--json", "status", left], { cwd: a })).json<
        { ports: Record<string, number>; url: string }
      >();
      // The stable name first (kinfra proxy's router), then each port.
      assert.deepEqual(ports, [slot.url, `http://127.0.0.1:${Object.values(slot.ports)[0]}/`]);
      await page.waitFor(`${cell(left, 2)} === "healthy"`);

      // A container dying behind kinfra's back shows (the engine's events: the health endpoint, on
      // another service, still answers), then a done elsewhere.
      const ticker = (await containersOf(`${stem}b-slot-2`)).find((c) => c.includes("ticker"))!;
      await docker("kill", ticker);
      await page.waitFor(`${cell(right, 1)}?.includes("degraded")`);
      assert.equal(await page.eval(cell(right, 2)), "healthy");
      assert.equal((await sb.kinfra(["done", "right-M1"], { cwd: b })).code, 0);
      await page.waitFor(`!${row(right)}`);
      assert.equal(await page.eval("window.sameDocument"), true, "the page was not reloaded");

      // Logs of one service, a restart, down and up: from the page, through the CLI's code.
      await page.eval(`(() => { const s = ${row(left)}.querySelector('select.service');
        s.value = 'ticker'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`);
      await page.click(`tr.wt[data-name="${left}"] button[data-act="logs"]`);
      await page.waitFor("!document.getElementById('logs').hidden");
      const logs = await page.eval<string>("document.getElementById('logs-text').textContent");
      assert.match(logs, /tick-from-ticker/);
      assert.doesNotMatch(logs, /^web/m, "only the ticker's lines");
      await page.click("#logs-close");
      await page.click(`tr.wt[data-name="${left}"] button[data-act="restart"]`);
      await page.waitFor(
        `document.querySelector('tr.note .message.ok')?.innerText.includes("restarted ticker")`,
      );

      await page.click(`tr.wt[data-name="${left}"] button[data-act="down"]`);
      await page.waitFor(`${cell(left, 1)}?.includes("stopped")`);
      assert.deepEqual(
        await containersOf(`${stem}a-slot-1`),
        [],
        "down from the page stopped the containers",
      );
      await page.click(`tr.wt[data-name="${left}"] button[data-act="up"]`);
      await page.waitFor(`${cell(left, 1)}?.includes("up") && ${cell(left, 2)} === "healthy"`, 30_000);

      const unknown = await sb.kinfra(["restart", left, "--service", "nope"], { cwd: a });
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, new RegExp(`${stem}a-slot-1 has no service "nope"`));

      // A dirty done is refused with the CLI's own message; --force needs the name typed back.
      const leftPath = join(sb.dir, left);
      await writeFiles(leftPath, { "notes.txt": "unsaved work\n" });
      const cli = await sb.kinfra(["--json", "done", left], { cwd: a });
      assert.equal(cli.code, 3);
      const refusal = cli.json<{ error: { message: string } }>().error.message;
      await page.click(`tr.wt[data-name="${left}"] button[data-act="done"]`);
      await page.waitFor(`document.querySelector('tr.note .message.bad')`);
      assert.equal(
        await page.eval("document.querySelector('tr.note .message.bad .text').textContent"),
        refusal,
      );
      assert.ok(await pathExists(join(leftPath, "notes.txt")), "the work is still there");
      await page.click(`tr.note button[data-act="force"]`);
      await page.waitFor("!document.getElementById('confirm').hidden");
      assert.equal(await page.eval("document.getElementById('confirm-go').disabled"), true);
      await typeInto(page, "#confirm-input", left);
      await page.click("#confirm-go");
      await page.waitFor(`!${row(left)}`, 30_000);
      assert.equal(await pathExists(leftPath), false);
      assert.deepEqual(await containersOf(`${stem}a-slot-1`), []);
    });
  } finally {
    const stopped = await ui.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

async function typeInto(page: Page, selector: string, text: string) {
  await page.eval(`(() => { const el = document.querySelector(${JSON.stringify(selector)});
    el.value = ${JSON.stringify(text)}; el.dispatchEvent(new Event('input', { bubbles: true })); })()`);
}

dockerTest(
  "kinfra ui refuses every action without the run's token (403), from another page too",
  async (sb, stem) => {
    if (browserIgnore) return;
    const repo = await makeProject(sb, stem, { base: randomBase() });
    assert.equal((await sb.kinfra(["impl", "keep/M1"], { cwd: repo })).code, 0);
    const path = join(sb.dir, `${stem}-impl-keep-M1`);
    const ui = await startUi(sb);
    const origin = new URL(ui.url).origin;
    const token = new URL(ui.url).searchParams.get("token")!;
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/api/actions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ action: "down", path }),
      });
    try {
      for (const headers of [{}, { "x-kinfra-token": "0".repeat(32) }] as Record<string, string>[]) {
        const r = await post(headers);
        assert.equal(r.status, 403);
        assert.match((await r.json()).error.message, /token/);
      }
      // The token in the query string is for reading; acting needs it in the header no form can set.
      const inQuery = await fetch(`${origin}/api/actions?token=${token}`, {
        method: "POST",
        body: JSON.stringify({ action: "down", path }),
      });
      assert.equal(inQuery.status, 403);
      assert.equal((await fetch(`${origin}/`)).status, 403);
      assert.equal((await fetch(`${origin}/api/board`)).status, 403);

      // Another site's page in the same browser posts a form at the dashboard: refused too.
      await withBrowser(async (browser) => {
        const evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () =>
          new Response(
            `<form method="post" action="${origin}/api/actions" enctype="text/plain">
             <input name='{"action":"down","path":"${path}","x":"' value='"}'></form>`,
            { headers: { "content-type": "text/html" } },
          ));
        try {
          const page = await browser.open(`http://localhost:${evil.addr.port}/`);
          await page.eval("document.forms[0].submit()");
          await page.waitFor("location.href.includes('/api/actions')");
          assert.match(await page.eval<string>("document.body.innerText"), /token/);
        } finally {
          await evil.shutdown();
        }
      });
      // done --force without the name typed back is refused by the server, not only by the page.
      const forced = await fetch(`${origin}/api/actions`, {
        method: "POST",
        headers: { "x-kinfra-token": token },
        body: JSON.stringify({ action: "done", path, force: true, confirm: "yes" }),
      });
      assert.equal(forced.status, 400);
      assert.match((await forced.json()).error.message, /confirm by typing the worktree's name/);
      assert.ok(await pathExists(path));
      const status = await sb.kinfra(["--json", "status", path], { cwd: repo });
      assert.equal(status.json<{ status: string }>().status, "running", "the sandbox was not touched");
      const ok = await post({ "x-kinfra-token": token, "content-type": "application/json" });
      assert.equal(ok.status, 200, "the same request with the token works");
    } finally {
      await ui.stop();
    }
  },
);

Deno.test({
  name:
    "kinfra ui shows each worktree's agent-deck session state, a waiting agent as a marked badge, and a stale entry",
  ignore: browserIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSandbox(async (sb) => {
      // agent-deck through the stand-in the agent-deck tests use (it behaves like v1.14.0).
      const env = {
        PATH: `${new URL("./fixtures/bin", import.meta.url).pathname}:${Deno.env.get("PATH")}`,
        FAKE_AGENT_DECK_DIR: join(sb.dir, "deck"),
      };
      const repo = await sb.repo("shop", { ".devops-ai/infra.toml": '[project]\nname = "shop"\n' });
      assert.equal((await sb.kinfra(["spec", "talk", "--session"], { cwd: repo, env })).code, 0);
      const waiting = { ...env, FAKE_AFTER_SEND: "waiting" };
      assert.equal((await sb.kinfra(["spec", "ask", "--session"], { cwd: repo, env: waiting })).code, 0);
      assert.equal((await sb.kinfra(["spec", "gone"], { cwd: repo })).code, 0);
      await Deno.remove(join(sb.dir, "shop-spec-gone"), { recursive: true }); // behind kinfra's back
      const ui = await startUi(sb, [], env);
      try {
        await withBrowser(async (browser) => {
          const page = await browser.open(ui.url);
          await page.waitFor(`${row("shop-spec-talk")}`);
          assert.equal(await page.eval(cell("shop-spec-talk", 5)), "running");
          assert.match(
            await page.eval<string>(`${row("shop-spec-talk")}.querySelector('td:nth-child(6) .badge').title`),
            /^agent-deck session [0-9a-f]{8}-\d+$/,
          );
          // The agent that needs its user: a warning badge with a marker, its row flagged, the way in as title.
          assert.equal(await page.eval(cell("shop-spec-ask", 5)), "▲ waiting");
          assert.match(
            await page.eval<string>(
              `${row("shop-spec-ask")}.querySelector('td:nth-child(6) .badge.warn').title`,
            ),
            /needs your input: agent-deck session attach [0-9a-f]{8}-\d+/,
          );
          assert.equal(await page.eval(`${row("shop-spec-ask")}.classList.contains("needs-input")`), true);
          assert.equal(await page.eval(`${row("shop-spec-talk")}.classList.contains("needs-input")`), false);
          const stale = await page.eval<string>(
            `${row("shop-spec-gone")}.querySelector('.badge.warn').title`,
          );
          assert.match(stale, /shop-spec-gone is gone — kinfra gc cleans it up/);
          assert.equal(await page.eval(`${row("shop-spec-talk")}.querySelector('.badge.warn')`), null);
        });
      } finally {
        await ui.stop();
      }
    }),
});

Deno.test("kinfra logs/restart of a stopped sandbox is blocked (3); a bad --tail is a usage error (2)", () =>
  withSandbox(async (sb) => {
    const repo = await sb.repo("plain", {
      ".devops-ai/infra.toml": '[project]\nname = "plain"\n[sandbox.ports]\nPLAIN_PORT = 8000\n',
      "docker-compose.yml": "services:\n  web:\n    image: x\n",
    });
    assert.equal((await sb.kinfra(["impl", "cold/M1", "--no-sandbox"], { cwd: repo })).code, 0);
    for (const command of ["logs", "restart"]) {
      const r = await sb.kinfra([command, "cold-M1"], { cwd: repo });
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /is stopped, so it has no .*\nhint: Start it with `kinfra up plain-impl-cold-M1`/,
      );
    }
    const tail = await sb.kinfra(["logs", "cold-M1", "--tail", "lots"], { cwd: repo });
    assert.equal(tail.code, 2);
    assert.match(tail.stderr, /--tail "lots" is not a number of lines/);
  }));

Deno.test({
  name: "kinfra ui: 127.0.0.1 unless --host, a warning for others, a busy port is exit 4, Ctrl-C stops it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSandbox(async (sb) => {
      const ui = await startUi(sb);
      const { hostname, port } = new URL(ui.url);
      assert.equal(hostname, "127.0.0.1");
      const busy = await sb.kinfra(["ui", "--port", port]);
      assert.equal(busy.code, 4);
      assert.match(busy.stderr, new RegExp(`Port ${port} on 127.0.0.1 is in use`));
      assert.equal((await sb.kinfra(["ui", "--port", "99999"])).code, 2);
      const stopped = await ui.stop();
      assert.equal(stopped.code, 0);
      assert.match(stopped.stderr, /kinfra ui stopped/);
      assert.equal(await fetch(ui.url).then(() => "answers", () => "closed"), "closed");

      // Reachable from another address of this machine only with --host.
      const lan = new TextDecoder().decode(
        new Deno.Command("hostname", { args: ["-I"], stdout: "piped" })
          .outputSync().stdout,
      ).trim().split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith("127."));
      const viaLan = (url: string) =>
        fetch(url.replace("127.0.0.1", lan!)).then((r) => r.status, () => "refused");
      const local = await startUi(sb);
      if (lan) assert.equal(await viaLan(local.url), "refused");
      await local.stop();
      const open = await startUi(sb, ["--host", "0.0.0.0"]);
      try {
        assert.match(open.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
        if (lan) assert.equal(await viaLan(open.url), 200);
        const r = await fetch(open.url);
        assert.equal(r.status, 200);
        await r.body?.cancel();
        assert.equal(r.headers.get("x-frame-options"), "DENY");
        assert.equal(r.headers.get("referrer-policy"), "no-referrer");
      } finally {
        const { stderr } = await open.stop();
        assert.match(stderr, /Serving on 0\.0\.0\.0: anyone who can reach it/);
      }
    }),
});

Deno.test({
  name: "status --watch --json writes the board again when a worktree comes and goes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSandbox(async (sb) => {
      const repo = await sb.repo("plain", {
        ".devops-ai/infra.toml": '[project]\nname = "plain"\n',
      });
      const child = spawnLive(sb, ["status", "--watch", "--json"]);
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      const nextBoard = async () => {
        const deadline = Date.now() + 30_000; // a board that never comes fails instead of hanging
        while (!buffer.includes("\n")) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise<never>((_, reject) =>
            timer = setTimeout(() => reject(new Error("no new board within 30 s")), deadline - Date.now())
          );
          buffer += (await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer))).value ??
            "";
        }
        const line = buffer.slice(0, buffer.indexOf("\n"));
        buffer = buffer.slice(line.length + 1);
        return JSON.parse(line) as { projects: { worktrees: { name: string }[] }[] };
      };
      const names = (b: Awaited<ReturnType<typeof nextBoard>>) =>
        b.projects.flatMap((p) => p.worktrees.map((w) => w.name));
      assert.deepEqual(names(await nextBoard()), []);
      assert.equal((await sb.kinfra(["spec", "idea"], { cwd: repo })).code, 0);
      assert.deepEqual(names(await nextBoard()), ["plain-spec-idea"]);
      assert.equal((await sb.kinfra(["done", "idea"], { cwd: repo })).code, 0);
      assert.deepEqual(names(await nextBoard()), []);
      child.kill("SIGINT");
      assert.equal((await child.status).code, 0);
      await reader.cancel();
      await child.stderr.cancel();

      // As text (not a terminal: each board appended), for one worktree.
      assert.equal((await sb.kinfra(["spec", "other"], { cwd: repo })).code, 0);
      assert.equal((await sb.kinfra(["spec", "idea"], { cwd: repo })).code, 0);
      const text = spawnLive(sb, ["status", "--watch", "other"]);
      const lines = text.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("plain-spec-other")) seen += (await lines.read()).value ?? "";
      text.kill("SIGINT");
      assert.equal((await text.status).code, 0);
      await lines.cancel();
      await text.stderr.cancel();
      assert.match(seen, /kinfra status --watch · .* · Ctrl-C stops\nobservability (stopped|unknown)/);
      assert.match(seen, /\nplain {2}\S+plain\n {2}plain-spec-other spec {2}no sandbox/);
      assert.doesNotMatch(seen, /plain-spec-idea/);
    }),
});
