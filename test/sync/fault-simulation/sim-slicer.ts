import type { WorkSlicer } from '../../../src/domain/work-slicer.js';
import type { SeededRandom } from './random.js';

/**
 * A `WorkSlicer` whose pauses end only when the simulation says so: sliced work (a large delta
 * applied, a batch hashed for verification, a save reading many entities) stops between slices
 * until a later step the seed picks, with whatever the network delivered or the user edited
 * meanwhile, and a seed replays the same way on any machine. `parked` / `resumed` hear a pause
 * begin and end (the simulation counts verification waiting here as idle). A crash simply drops
 * the slicer: its pauses never end, as nothing of the tab is left to run them.
 */
export class SimSlicer implements WorkSlicer {
  readonly #parked: Array<() => void> = [];

  constructor(
    readonly itemsPerSlice: number,
    private readonly hooks: { readonly parked?: () => void; readonly resumed?: () => void } = {},
  ) {
    if (!Number.isSafeInteger(itemsPerSlice) || itemsPerSlice < 1) throw new RangeError('itemsPerSlice must be a positive integer');
  }

  pause(): Promise<void> {
    return new Promise((resolve) => {
      this.#parked.push(resolve);
      this.hooks.parked?.();
    });
  }

  /** Pauses waiting to be ended. */
  get parked(): number {
    return this.#parked.length;
  }

  /** Ends one waiting pause, picked by `random`; false if none waits. */
  resumeOne(random: SeededRandom): boolean {
    if (!this.#parked.length) return false;
    const [resolve] = this.#parked.splice(Math.floor(random.next() * this.#parked.length), 1);
    this.hooks.resumed?.();
    resolve!();
    return true;
  }
}
