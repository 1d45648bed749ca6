import { assertPositive } from './wire-guards.js';

/** Capped exponential backoff: the first retry waits about `initialMs`, none waits more than `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Checks a backoff configuration (throws for nonsense, which is a programmer error). */
export function checkBackoff(options: BackoffOptions, where: string): BackoffOptions {
  assertPositive(options.initialMs, `${where}.initialMs`);
  assertPositive(options.maxMs, `${where}.maxMs`);
  if (options.maxMs < options.initialMs) throw new RangeError(`${where}.maxMs must be at least initialMs`);
  return options;
}

/**
 * Delay before retry number `attempt` (0 for the first): `min(maxMs, initialMs · 2^attempt)`,
 * scaled by a random factor in [0.5, 1] so that peers which lost the same server or peer at the
 * same moment do not all come back at the same moment.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponential = options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30);
  const capped = Math.min(options.maxMs, exponential);
  return Math.round(capped * (0.5 + random() / 2));
}
