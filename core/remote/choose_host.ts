/**
 * Which host a new sandbox goes to, apart from the rest of the remote code (remote_slot.ts): a local
 * sandbox, the usual case, loads none of it.
 */
import type { Context } from "../context.ts";
import { getHost, type Host, LOCAL } from "./hosts.ts";

/**
 * The host a new sandbox goes to: the flag, else the worktree's last host, else `[sandbox] host`;
 * "local" (or nothing) is this machine. "auto" takes the host with the most room — among `engines`
 * when given (those holding the snapshot or the sandbox its data comes from).
 */
export async function chooseHost(
  ctx: Context,
  flag?: string,
  last?: string,
  engines?: string[],
): Promise<Host | undefined> {
  const name = flag ?? last ?? (await ctx.globalConfig()).sandbox.host;
  if (!name || name === LOCAL) return undefined;
  if (name === "auto") return await (await import("./room.ts")).mostRoom(ctx, engines);
  const host = await getHost(ctx.home, name);
  if (!host.ssh) await (await import("./tcp_host.ts")).checkEngineApi(host);
  return host;
}
