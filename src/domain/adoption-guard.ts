import type { ChangeBatch } from './model-change.js';

const REMEMBERED = 64;

/**
 * Decides whether a batch's version may be adopted. Only a complete batch (its `since` held here,
 * nothing rejected) that is the last part of its delta qualifies, and not if an earlier part of
 * the same delta (same `since` and `version`) had rejected changes: adopting then would claim
 * the rejected writes as seen, and they would never be sent again.
 */
export class AdoptionGuard {
  // Keys of deltas with a rejected part, oldest first; a few suffice, as parts arrive in order.
  readonly #tainted: string[] = [];

  /**
   * Records `batch` and says whether its version may be adopted now: `covered` if this replica
   * holds the batch's `since`, `rejected` if any of its changes (or its version) was refused.
   */
  mayAdopt(batch: ChangeBatch, covered: boolean, rejected: boolean): boolean {
    // The common case, a whole delta with no tainted part on record, needs no key.
    if (!batch.partial && !this.#tainted.length) return covered && !rejected;
    const key = JSON.stringify(batch.since) + JSON.stringify(batch.version);
    const tainted = this.#tainted.indexOf(key);
    if (batch.partial) {
      if (rejected && tainted < 0) {
        this.#tainted.push(key);
        if (this.#tainted.length > REMEMBERED) this.#tainted.shift();
      }
      return false;
    }
    if (tainted >= 0) {
      this.#tainted.splice(tainted, 1);
      return false;
    }
    return covered && !rejected;
  }
}
