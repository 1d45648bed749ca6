/**
 * A token bucket: `burst` tokens to start with, refilled at `perSecond`, never above `burst`.
 * Time comes from an injected clock so tests need not wait.
 */
export class RateLimiter {
  /**
   * @param {{ perSecond: number, burst: number, now: () => number }} options `now` in milliseconds
   */
  constructor({ perSecond, burst, now }) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`RateLimiter perSecond must be a positive number, got ${perSecond}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`RateLimiter burst must be a positive integer, got ${burst}`);
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token; false when none is left (the caller refuses the action). */
  take() {
    const now = this.now();
    // A clock that steps back must not mint tokens, nor freeze the bucket forever.
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
