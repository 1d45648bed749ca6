import type { Timers } from '../src/util/index.js';

/** Timers that run only when the test says so: what is scheduled can be counted, and run. */
export class ManualTimers implements Timers {
  readonly #scheduled = new Map<number, { readonly callback: () => void; readonly ms: number }>();
  #next = 0;

  /** How many timers wait. */
  get scheduled(): number {
    return this.#scheduled.size;
  }

  /** The delays of the timers waiting, in the order they were set. */
  get delays(): number[] {
    return [...this.#scheduled.values()].map((timer) => timer.ms);
  }

  setTimeout(callback: () => void, ms: number): unknown {
    this.#scheduled.set(++this.#next, { callback, ms });
    return this.#next;
  }

  clearTimeout(handle: unknown): void {
    this.#scheduled.delete(handle as number);
  }

  /** Runs every timer waiting now ("a while has passed"). */
  runAll(): void {
    const due = [...this.#scheduled.values()];
    this.#scheduled.clear();
    for (const timer of due) timer.callback();
  }
}
