/** `readSlotCompose`, for plugins (exported by the plugin API): the slot's resolved compose model. */
import { KinfraError } from "../errors.ts";
import { slotFiles } from "../slots/slot_files.ts";

/**
 * The slot's resolved compose model — what Compose makes of the project's file with `.env`, merge
 * keys, `extends` and `include` applied and the slot's variables set — with its service names.
 * From the event's input while a sandbox starts, else from the slot directory's copy.
 */
export async function readSlotCompose(
  ctx: { event: string; slot: { dir: string } | null; model?: Record<string, unknown> },
): Promise<{ doc: Record<string, unknown>; services: string[] }> {
  let doc = ctx.model;
  if (!doc) {
    if (!ctx.slot) throw new KinfraError(`${ctx.event} has no slot to read a compose file from.`);
    const [{ parseYaml }, { MAX_ALIASES }] = await Promise.all([
      import("../compose/yaml_parse.ts"),
      import("../compose/sources.ts"),
    ]);
    doc =
      parseYaml(await Deno.readTextFile(slotFiles(ctx.slot.dir).compose), { maxAliasCount: MAX_ALIASES }) ??
        {};
  }
  return { doc: doc!, services: Object.keys((doc!.services ?? {}) as Record<string, unknown>) };
}
