/** `<home>/proxy/state.json`: what the running proxy process is and does, for commands and `doctor`. */
import type { PartStatus } from "./part.ts";

export interface ProxyState {
  pid: number;
  started_at: string;
  updated_at: string;
  /** The router's port (`[proxy] port`), whether or not it could bind it (see `parts.router`). */
  router_port: number;
  version: string;
  /** `<version> <commit>` of the kinfra running it: a command of another build replaces it. */
  build: string;
  home: string;
  /** True while some part is needed; when false the process exits at `exits_at`. */
  needed: boolean;
  exits_at: string | null;
  parts: Record<string, PartStatus & { needed: boolean; error?: string }>;
}

/** The state file, or undefined when there is none (or it is unreadable). */
export async function readProxyState(path: string): Promise<ProxyState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as ProxyState;
  } catch {
    return undefined;
  }
}
