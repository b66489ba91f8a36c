/**
 * Per-slot traffic through the proxy (router and forwarders), for the idle check (issue 27):
 * `<home>/proxy/activity.json` = `{ slots: { "<slot id>": SlotActivity } }`, written atomically and
 * at most once per `flushMs` while something changed. The entry names the worktree and the claim
 * time, so a reader can tell a reused slot id from the sandbox it cares about.
 */
import { replaceFileAtomic } from "../io/atomic.ts";

export interface SlotActivity {
  worktree_path: string;
  claimed_at: string;
  /** ISO time of the last byte in either direction. */
  last_traffic: string;
  bytes: number;
  connections: number;
  /** HTTP requests seen by the router (the first of each connection). */
  requests: number;
}

export interface ActivityFile {
  slots: Record<string, SlotActivity>;
}

/** Who the traffic belongs to. */
export interface SlotKey {
  slot_id: number;
  worktree_path: string;
  claimed_at: string;
}

export class Activity {
  private slots: Record<string, SlotActivity> = {};
  private dirty = false;
  private timer?: ReturnType<typeof setTimeout>;

  /** `keep()` false (its home is being removed): nothing is written, so nothing is created again. */
  constructor(
    private readonly path: string,
    private readonly keep: () => boolean = () => true,
    private readonly flushMs = 2000,
  ) {}

  /** Loads what an earlier process recorded, so a restart does not make every sandbox look idle-new. */
  async load(): Promise<void> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.path)) as ActivityFile;
      if (data && typeof data.slots === "object") this.slots = data.slots;
    } catch { /* none yet, or unreadable: start empty */ }
  }

  /** Counts traffic for a slot: bytes moved, a new connection, a new request. */
  record(key: SlotKey, delta: { bytes?: number; connections?: number; requests?: number }): void {
    const id = String(key.slot_id);
    let entry = this.slots[id];
    if (!entry || entry.worktree_path !== key.worktree_path || entry.claimed_at !== key.claimed_at) {
      entry = this.slots[id] = {
        worktree_path: key.worktree_path,
        claimed_at: key.claimed_at,
        last_traffic: "",
        bytes: 0,
        connections: 0,
        requests: 0,
      };
    }
    entry.last_traffic = new Date().toISOString();
    entry.bytes += delta.bytes ?? 0;
    entry.connections += delta.connections ?? 0;
    entry.requests += delta.requests ?? 0;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => {});
    }, this.flushMs);
  }

  /** What is recorded now, by slot id. */
  read(): Record<string, SlotActivity> {
    return structuredClone(this.slots);
  }

  /** Drops slots the registry no longer has (called on reconcile). */
  keepOnly(live: SlotKey[]): void {
    const keep = new Set(live.map((k) => `${k.slot_id}\n${k.worktree_path}\n${k.claimed_at}`));
    for (const [id, e] of Object.entries(this.slots)) {
      if (!keep.has(`${id}\n${e.worktree_path}\n${e.claimed_at}`)) {
        delete this.slots[id];
        this.dirty = true;
      }
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    if (!this.keep()) return;
    await replaceFileAtomic(this.path, JSON.stringify({ slots: this.slots }, null, 2) + "\n");
  }
}

/** Reads activity.json (for the idle check and `kinfra proxy status`); empty when there is none. */
export async function readActivity(path: string): Promise<ActivityFile> {
  try {
    const data = JSON.parse(await Deno.readTextFile(path));
    return data && typeof data.slots === "object" ? data : { slots: {} };
  } catch {
    return { slots: {} };
  }
}
