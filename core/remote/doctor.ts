/**
 * `doctor`'s view of the remote hosts: each one answers (its sshd's banner, or the tcp:// engine's
 * port, within 3 s), which sandboxes run there, and which slots wait for a host that stopped
 * answering during their teardown. A host running sandboxes that does not answer is an error.
 */
import type { Context } from "../context.ts";
import type { Check } from "../hooks/results.ts";
import { probeTarget, reachable } from "../io/engine.ts";
import { readRegistry } from "../slots/registry.ts";
import { readHosts } from "./hosts.ts";

export async function hostChecks(ctx: Context): Promise<Check[]> {
  const [{ hosts }, registry] = await Promise.all([readHosts(ctx.home), readRegistry(ctx.home)]);
  const slots = Object.values(registry.slots);
  return await Promise.all(
    Object.values(hosts).map(async (host): Promise<Check> => {
      const here = slots.filter((s) => s.remote?.host === host.name);
      const waiting = here.filter((s) => s.remote?.unreachable).map((s) => s.slot_id);
      const target = probeTarget(host.docker_host);
      const answers = target ? await reachable(target) : true;
      const sandboxes = `${here.length} sandbox(es)${
        here.length ? ` (slot ${here.map((s) => s.slot_id).join(", ")})` : ""
      }`;
      return {
        name: `host ${host.name}`,
        ok: answers && waiting.length === 0,
        severity: here.length ? "error" : "warning",
        detail: `${host.endpoint}: ${answers ? "answers" : "does not answer"}, ${sandboxes}${
          waiting.length ? `; slot ${waiting.join(", ")} waits for it to finish its cleanup` : ""
        }`,
        hint: answers
          ? "Run any kinfra command (or `kinfra gc`): the cleanup finishes now that the host answers."
          : `Check the machine and \`kinfra hosts test ${host.name}\`.`,
      };
    }),
  );
}
