/**
 * The memory budget (`[slots] memory`), as pure arithmetic: does one more sandbox of a project fit
 * beside the ones running, and which of those would make room if stopped.
 */

/** A running sandbox as the budget sees it. */
export interface BudgetSandbox {
  /** How the user names it (a worktree's directory name, or "warm slot 3"). */
  name: string;
  slot: number;
  memory: number;
  /** How long it has been unused (ms), when kinfra has observed it. */
  unusedMs?: number;
  /** The command that frees its memory (`kinfra down <name>`). */
  free: string;
}

export interface BudgetVerdict {
  fits: boolean;
  used: number;
  left: number;
  /** How much is missing (0 when it fits). */
  shortfall: number;
  /** Sandboxes whose stopping would make room: the longest unused first, as many as needed. */
  freeable: BudgetSandbox[];
}

const MiB = 1024 * 1024;

/** The default budget: the engine's memory less a reserve for everything else (20%, at least 512 MiB). */
export const defaultBudget = (memoryTotal: number) =>
  memoryTotal - Math.max(512 * MiB, Math.round(memoryTotal * 0.2));

/**
 * Whether a sandbox needing `need` bytes fits in `budget` beside `running`. An unknown need (the
 * first sandbox of a project: nothing measured, no limits declared) always fits.
 *
 * @example
 * fitBudget(8 * GiB, 1 * GiB, [{ name: "shop-impl-a-M1", slot: 1, memory: 7.5 * GiB, free: "kinfra down a-M1" }]);
 * // { fits: false, shortfall: 0.5 GiB, freeable: [that one], … }
 */
export function fitBudget(budget: number, need: number | undefined, running: BudgetSandbox[]): BudgetVerdict {
  const used = running.reduce((sum, s) => sum + s.memory, 0);
  const left = budget - used;
  const shortfall = need === undefined ? 0 : Math.max(0, need - left);
  const freeable: BudgetSandbox[] = [];
  if (shortfall > 0) {
    const order = [...running].filter((s) => s.memory > 0).sort((a, b) =>
      (b.unusedMs ?? -1) - (a.unusedMs ?? -1) || b.memory - a.memory
    );
    let freed = 0;
    for (const s of order) {
      if (freed >= shortfall) break;
      freeable.push(s);
      freed += s.memory;
    }
  }
  return { fits: shortfall === 0, used, left, shortfall, freeable };
}
