/** core/io/timers.ts: sleep keeps a process alive until it wakes; a cancelled timer neither fires nor does. */
import assert from "node:assert/strict";
import { after, sleep } from "../../../core/io/timers.ts";

const TIMERS = new URL("../../../core/io/timers.ts", import.meta.url).href;

/** Runs `code` (a module importing `after` and `sleep`) in a fresh Deno; its stdout and run time. */
async function child(code: string): Promise<{ out: string; ms: number }> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { after, sleep } from "${TIMERS}";\n${code}`],
    stdout: "piped",
  }).output();
  assert.ok(out.success);
  return { out: new TextDecoder().decode(out.stdout).trim(), ms: performance.now() - start };
}

Deno.test("sleep() waits at least its time, and keeps a process with nothing else to do alive", async () => {
  const start = performance.now();
  await sleep(30);
  assert.ok(performance.now() - start >= 29);
  assert.equal((await child(`await sleep(50); console.log("woke");`)).out, "woke");
});

Deno.test("after() fires once; cancelled, it never fires and does not hold the process", async () => {
  let fired = 0;
  after(10, () => fired++);
  const cancel = after(10, () => fired += 100);
  cancel();
  await sleep(40);
  assert.equal(fired, 1);
  const { out, ms } = await child(`after(20_000, () => console.log("fired"))(); console.log("end");`);
  assert.equal(out, "end");
  assert.ok(ms < 15_000, "the cancelled 20 s timer did not keep the process");
});
