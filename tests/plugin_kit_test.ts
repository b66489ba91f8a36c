/**
 * The TypeScript plugin kit (`kinfra plugins new --lang ts`) copies kinfra's types so it has no
 * dependencies; this checks the copy against the real API: the same events, exactly the stdin
 * document kinfra writes, and a result type that accepts every field some event may return.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const API = new URL("../core/hooks/plugin_api.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const KIT = new URL("../templates/plugin/ts/kinfra_plugin.ts.tmpl", import.meta.url).pathname;

Deno.test("the TypeScript plugin kit's types are kinfra's plugin API types", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(KIT, join(dir, "kinfra_plugin.ts"));
    await Deno.writeTextFile(
      join(dir, "check.ts"),
      `import type * as kit from "./kinfra_plugin.ts";
import type { EventMap, EventName, ExternalInput } from "${API}";
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type AnyResult = { [E in EventName]: EventMap[E] }[EventName];
type Fields<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
export const events: Equal<kit.EventName, EventName> = true;
export const input: Equal<kit.HookInput, ExternalInput> = true;
export const result: Equal<Required<kit.HookResult>, Required<Fields<AnyResult>>> = true;
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", CONFIG, join(dir, "check.ts")],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
