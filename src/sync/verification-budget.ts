/** How many certificate checks one peer may cause: a sustained rate and a burst. */
export interface VerificationBudgetOptions {
  /** Checks per second, sustained. Default 5,000 (a signature check costs about 0.1 ms here). */
  readonly perSecond?: number;
  /** Checks allowed at once, e.g. a bootstrap's. Default 50,000. */
  readonly burst?: number;
  readonly now?: () => number;
}

/**
 * The certificate checks one peer may cause, as a token bucket. A delta costs one token per
 * certificate it carries; past the budget, the peer's next message waits until the budget has
 * refilled instead of being checked at once, so a peer flooding valid but needless certificates
 * slows only its own stream, and never takes more than the rate from the page. Honest peers stay
 * far below it: a room's whole state carries a few hundred certificates.
 */
export class VerificationBudget {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(options: VerificationBudgetOptions = {}) {
    this.#perSecond = options.perSecond ?? 5_000;
    this.#burst = options.burst ?? 50_000;
    this.#now = options.now ?? (() => (typeof performance === 'undefined' ? Date.now() : performance.now()));
    if (!(this.#perSecond > 0) || !(this.#burst >= 0)) throw new RangeError('verification budget: perSecond must be positive, burst 0 or more');
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Spends `cost` checks; returns how many ms the caller must wait before doing them (0: none). */
  spend(cost: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#perSecond) / 1000);
    this.#at = now;
    this.#tokens -= cost;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#perSecond;
  }
}
