/**
 * All-or-nothing setup: each step that changes something registers how to undo it; on failure
 * the undo steps run in reverse order, and one failing undo does not stop the others.
 */
import { messageOf } from "../errors.ts";
import type { Logger } from "../io/output.ts";

export class Rollback {
  private steps: { label: string; undo: () => Promise<unknown> }[] = [];

  constructor(private readonly log: Logger) {}

  /** Registers an undo step; it runs only if `run()` is called later. */
  add(label: string, undo: () => Promise<unknown>): void {
    this.steps.push({ label, undo });
  }

  /** Undoes every registered step, newest first. Returns the labels of undo steps that failed. */
  async run(): Promise<string[]> {
    const failed: string[] = [];
    for (const { label, undo } of this.steps.toReversed()) {
      this.log.step(`Rolling back: ${label}`);
      try {
        await undo();
      } catch (e) {
        failed.push(label);
        this.log.warn(`Rollback step "${label}" failed: ${messageOf(e)}`);
      }
    }
    this.steps = [];
    return failed;
  }
}
