/**
 * The checkout part: for each project's checked-out worktree whose sandbox is live, its canonical
 * ports (checkouts.ts) listen on 127.0.0.1 and lead to the sandbox's ports. A switch retargets the
 * same listeners (no container is touched, no port closes), a released checkout or a sandbox
 * going down closes them. A port another process holds is reported per project in `status()`.
 */
import { messageOf } from "../errors.ts";
import { existsSync } from "../io/home.ts";
import { type CanonicalPort, canonicalPorts, checkoutsOf } from "./checkouts.ts";
import { type Target, TcpForward } from "./forward_tcp.ts";
import { UdpForward } from "./forward_udp.ts";
import { describeHolder, portHolder } from "./holder.ts";
import type { PartEnv, ProxyPart, ProxyWorld } from "./part.ts";

type Forward = TcpForward | UdpForward;

interface Wanted extends CanonicalPort {
  project: string;
  worktree: string;
  forwardTo: Target;
}

export function checkoutPart(env: PartEnv): ProxyPart {
  const forwards = new Map<string, { forward: Forward; project: string }>();
  let problems: Record<string, string[]> = {};
  interface Shown {
    worktree: string;
    live: boolean;
    ports: { variable: string; port: number; target: number; protocol: string; open: boolean }[];
    problems: string[];
  }
  let shown: Record<string, Shown> = {};

  const wantedOf = (world: ProxyWorld): Map<string, Wanted> => {
    const wanted = new Map<string, Wanted>();
    for (const { project, worktree, slot } of checkoutsOf(world.registry)) {
      if (!slot) continue;
      const sandbox = `${slot.slot_id}:${slot.claimed_at}`;
      const traffic = (delta: { bytes?: number; connections?: number }) => env.activity.record(slot, delta);
      for (const c of canonicalPorts(slot)) {
        const key = `${c.protocol}:${c.port}`;
        if (wanted.has(key)) continue; // two projects with one canonical port: the checkout command refuses that
        wanted.set(key, {
          ...c,
          project,
          worktree: worktree.path,
          forwardTo: { port: c.target, sandbox, traffic },
        });
      }
    }
    return wanted;
  };

  const open = async (w: Wanted): Promise<Forward> =>
    w.protocol === "udp" ? await UdpForward.open(w.port, w.forwardTo) : new TcpForward(w.port, w.forwardTo);

  const whyNot = async (w: Wanted, e: unknown): Promise<string> => {
    const code = (e as { code?: string }).code;
    if (e instanceof Deno.errors.AddrInUse || code === "EADDRINUSE") {
      return `port ${w.port}/${w.protocol} (${w.variable}) is held by ${
        describeHolder(await portHolder(w.port, w.protocol), w.port, w.protocol)
      }`;
    }
    if (e instanceof Deno.errors.PermissionDenied || code === "EACCES") {
      return `port ${w.port}/${w.protocol} (${w.variable}): the OS does not let this process bind a port below 1024`;
    }
    return `port ${w.port}/${w.protocol} (${w.variable}): ${messageOf(e)}`;
  };

  return {
    name: "checkout",
    needed: (world) => checkoutsOf(world.registry).some((c) => c.slot && existsSync(c.worktree.path)),
    async reconcile(world) {
      const wanted = wantedOf(world);
      for (const [key, { forward }] of forwards) {
        if (wanted.has(key)) continue;
        forward.close();
        forwards.delete(key);
        env.log(`checkout: released ${key}`);
      }
      const next: Record<string, string[]> = {};
      for (const [key, w] of wanted) {
        const have = forwards.get(key);
        if (have) {
          const cut = have.forward.retarget(w.forwardTo);
          have.project = w.project;
          if (cut) {
            env.log(`checkout: ${key} → ${w.target}: closed ${cut} connection(s) to the previous sandbox`);
          }
          continue;
        }
        try {
          forwards.set(key, { forward: await open(w), project: w.project });
          env.log(`checkout: ${key} → ${w.target} (${w.project}, ${w.worktree})`);
        } catch (e) {
          (next[w.project] ??= []).push(await whyNot(w, e));
        }
      }
      problems = next;
      shown = Object.fromEntries(
        checkoutsOf(world.registry).map((c) => [c.project, {
          worktree: c.worktree.path,
          live: Boolean(c.slot),
          ports: [...wanted.values()].filter((w) => w.project === c.project).map((w) => ({
            variable: w.variable,
            port: w.port,
            target: w.target,
            protocol: w.protocol,
            open: forwards.has(`${w.protocol}:${w.port}`),
          })),
          problems: problems[c.project] ?? [],
        }]),
      );
    },
    status: () => ({
      checkouts: shown,
      summary: [
        `${Object.keys(shown).length} checkout(s)`,
        ...Object.entries(shown).map(([project, { worktree, ports }]) => {
          const list = ports.map((p) => `${p.port}${p.protocol === "udp" ? "/udp" : ""} → ${p.target}`).join(
            ", ",
          );
          return `${project} → ${worktree.split("/").pop()}: ${list || "released while its sandbox is down"}`;
        }),
      ],
      ...(Object.keys(problems).length ? { problems: Object.values(problems).flat() } : {}),
    }),
    close() {
      for (const { forward } of forwards.values()) forward.close();
      forwards.clear();
      return Promise.resolve();
    },
  };
}
