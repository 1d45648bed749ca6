import type { Timers } from '../../../src/util/index.js';
import type { SeededRandom } from './random.js';

/**
 * Timers for one node's `ModelPersistence` (or its engine's epidemic broadcast) that fire only
 * when the simulation says so: a save armed by a local edit (delay 0), or a broadcast's
 * announcement round or graft, runs at a step the seed picks, before or after whatever the
 * network delivers meanwhile, and a seed replays the same way on any machine. Timers of a long
 * delay (the simulation sets every save delay far away) never fire; saves then start when the
 * simulation asks (`whenSaved`).
 */
export class SimTimers implements Timers {
  readonly #pending = new Map<number, { readonly callback: () => void; readonly delayMs: number }>();
  #next = 0;

  /** `longMs`: the delay the simulation sets for saves; timers of half of it or more never fire. */
  constructor(private readonly longMs: number) {}

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = ++this.#next;
    this.#pending.set(id, { callback, delayMs });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Timers that may fire (shorter than half the long delay: a re-armed save waits a bit less). */
  get due(): number {
    let count = 0;
    for (const timer of this.#pending.values()) if (timer.delayMs < this.longMs / 2) count++;
    return count;
  }

  /** Fires one timer that may fire, picked by `random`; false if there is none. */
  fireOne(random: SeededRandom): boolean {
    const ids = [...this.#pending].filter(([, timer]) => timer.delayMs < this.longMs / 2).map(([id]) => id);
    const id = random.pick(ids);
    if (id === undefined) return false;
    const timer = this.#pending.get(id)!;
    this.#pending.delete(id);
    timer.callback();
    return true;
  }
}
