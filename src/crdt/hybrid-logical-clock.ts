import type { NodeId, Timestamp } from './dot.js';

/** How far ahead of the local wall clock a remote timestamp may be before it is refused. */
export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000;

/** Thrown by `HybridLogicalClock.receive` for a remote timestamp too far in the future. */
export class ClockDriftError extends Error {
  override readonly name = 'ClockDriftError';
  constructor(
    readonly remote: Timestamp,
    readonly localMs: number,
    readonly maxDriftMs: number,
  ) {
    super(`remote timestamp ${remote.ms} is ${remote.ms - localMs} ms ahead of the local clock (limit ${maxDriftMs} ms)`);
  }
}

/** Options of a `HybridLogicalClock`. */
export interface HybridLogicalClockOptions {
  /** Wall clock in milliseconds; injected so tests are deterministic. Default `Date.now`. */
  readonly getNow?: () => number;
  /** Remote stamps further ahead than this are refused. Default 5 minutes. */
  readonly maxDriftMs?: number;
}

/**
 * A hybrid logical clock (Kulkarni et al.): readings follow the wall clock but never go backwards
 * and are always ahead of every timestamp seen, so a write made after seeing another write has a
 * larger timestamp even when the wall clocks disagree.
 */
export class HybridLogicalClock {
  readonly maxDriftMs: number;
  readonly #getNow: () => number;
  #ms = 0;
  #c = 0;

  constructor(options: HybridLogicalClockOptions = {}) {
    this.#getNow = options.getNow ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!(this.maxDriftMs >= 0)) throw new RangeError('maxDriftMs must be a non-negative number');
  }

  /** The latest reading given out or seen. */
  get last(): Timestamp {
    return { ms: this.#ms, c: this.#c };
  }

  /** The wall clock now, in whole milliseconds. */
  wallClock(): number {
    return Math.floor(this.#getNow());
  }

  /** A new reading for a local event: larger than every reading before it. */
  now(): Timestamp {
    const wall = this.wallClock();
    if (wall > this.#ms) {
      this.#ms = wall;
      this.#c = 0;
    } else {
      this.#c += 1;
    }
    return { ms: this.#ms, c: this.#c };
  }

  /** True if `remote` is not too far ahead of the local wall clock to be accepted. */
  accepts(remote: Timestamp): boolean {
    return remote.ms - this.wallClock() <= this.maxDriftMs;
  }

  /**
   * Takes in a remote timestamp and returns a reading after both it and every local reading.
   * Throws `ClockDriftError` (and changes nothing) if `remote` is more than `maxDriftMs` ahead.
   */
  receive(remote: Timestamp): Timestamp {
    const wall = this.wallClock();
    if (remote.ms - wall > this.maxDriftMs) throw new ClockDriftError(remote, wall, this.maxDriftMs);
    this.witness(remote);
    return this.now();
  }

  /**
   * Moves the clock past `ts` without a drift check. Only for trusted timestamps, such as this
   * replica's own stored state, whose writes were accepted when they arrived.
   */
  witness(ts: Timestamp): void {
    if (ts.ms > this.#ms || (ts.ms === this.#ms && ts.c > this.#c)) {
      this.#ms = ts.ms;
      this.#c = ts.c;
    }
  }
}

/** Total order on writes: by timestamp (ms, then counter), then by the writer's node id. */
export function compareTimestamps(a: Timestamp, aNode: NodeId | string, b: Timestamp, bNode: NodeId | string): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  return aNode < bNode ? -1 : aNode > bNode ? 1 : 0;
}
