/**
 * `--host auto`: the engine with the most room — its memory (the engine's MemTotal, asked of it)
 * less what this home's sandboxes there are known to need (each project's sandbox as measured once
 * healthy, the capacity budget's estimate; a project never measured counts as the median of those
 * that were). Among this machine and the hosts that run sandboxes (ssh and tcp://); a host that does not answer is left out and
 * said; without any memory figure the fewest sandboxes win. Ties go to this machine, then by name.
 */
import type { Context } from "../context.ts";
import { Exit, KinfraError, messageOf } from "../errors.ts";
import { execOnEngine } from "../io/engine.ts";
import { engineEndpointOf } from "../io/engine_api.ts";
import { formatBytes } from "../text/bytes.ts";
import { readRegistry } from "../slots/registry.ts";
import { type Host, LOCAL, readHosts } from "./hosts.ts";
import { compareText } from "../text/compare.ts";

interface Engine {
  name: string;
  host?: Host;
  total?: number;
  used: number;
  sandboxes: number;
}

/** Hosts that run sandboxes: ssh ones, and tcp:// ones (plain or TLS) kinfra's engine client speaks to. */
const runsSandboxes = (h: Host) => {
  const endpoint = engineEndpointOf(h.docker_host);
  return Boolean(h.ssh) || (endpoint !== undefined && "hostname" in endpoint);
};

/**
 * The engines `auto` may choose: this machine and the hosts that can run sandboxes, only `among`
 * when given; an error naming them when none of those can.
 */
export function autoCandidates(hosts: Record<string, Host>, among?: string[]) {
  const candidates = [
    { name: LOCAL, host: undefined as Host | undefined },
    ...Object.values(hosts).filter(runsSandboxes).sort((a, b) => compareText(a.name, b.name)).map((h) => ({
      name: h.name,
      host: h,
    })),
  ].filter((c) => !among || among.includes(c.name));
  if (among && !candidates.length) {
    throw noEngine(among, "cannot run sandboxes (the docker context is this machine's socket)");
  }
  return candidates;
}

/**
 * The chosen host, or undefined for this machine. `among`: only these engines may be chosen (the
 * ones holding the new sandbox's data); none of them able to take it is an error naming them.
 */
export async function mostRoom(ctx: Context, among?: string[]): Promise<Host | undefined> {
  const [{ hosts }, registry] = await Promise.all([readHosts(ctx.home), readRegistry(ctx.home)]);
  const known = Object.values(registry.usage ?? {}).map((u) => u.memory).sort((a, b) => a - b);
  const fallback = known.length ? known[Math.floor(known.length / 2)] : 0;
  const slots = Object.values(registry.slots);
  const candidates = autoCandidates(hosts, among);
  const engines = (await Promise.all(candidates.map(async ({ name, host }): Promise<Engine | undefined> => {
    const here = slots.filter((s) => (s.remote?.host ?? LOCAL) === name);
    const exec = host ? execOnEngine(ctx.exec, host.docker_host, host.name) : ctx.exec;
    try {
      const info = await exec("docker", ["info", "--format", "{{.MemTotal}}"]);
      if (!info.success) throw new Error(info.stderr.trim().split("\n").pop());
      return {
        name,
        host,
        total: Number(info.stdout.trim()) || undefined,
        used: here.reduce((sum, s) => sum + (registry.usage?.[s.project]?.memory ?? fallback), 0),
        sandboxes: here.length,
      };
    } catch (e) {
      ctx.log.warn(`--host auto leaves out ${name}: ${messageOf(e)}`);
      return undefined;
    }
  }))).filter((e): e is Engine => e !== undefined);
  if (among && !engines.length) throw noEngine(among, "does not answer");
  if (!engines.length) return undefined;
  const room = (e: Engine) => (e.total ?? 0) - e.used;
  const byMemory = engines.every((e) => e.total);
  const best = engines.reduce((a, b) => (byMemory ? room(b) > room(a) : b.sandboxes < a.sandboxes) ? b : a);
  ctx.log.info(
    `--host auto: ${best.name} (${
      engines.map((e) =>
        `${e.name}: ${e.sandboxes} sandbox(es)${
          byMemory ? `, ${formatBytes(room(e))} of ${formatBytes(e.total!)} free` : ""
        }`
      ).join("; ")
    })`,
  );
  return best.host;
}

/** `auto` with nowhere to go: the data is only on engines that cannot take the sandbox. */
function noEngine(among: string[], why: string): KinfraError {
  return new KinfraError(
    `--host auto: the sandbox's data is only on ${among.join(", ")}, which ${why}.`,
    {
      code: Exit.usage,
      hint: `Check \`kinfra hosts test ${among[0]}\`, or start from data on another engine.`,
    },
  );
}
