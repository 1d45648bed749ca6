import type { CausalContext, Dot, Timestamp } from './dot.js';
import { compareTimestamps } from './hybrid-logical-clock.js';

/** One write to a register: the value, its hybrid-clock time, and its unique dot. */
export interface RegisterWrite<T> {
  readonly value: T;
  readonly ts: Timestamp;
  readonly dot: Dot;
}

/** What a join changed: writes that arrived and writes that were dropped as superseded. */
export interface RegisterJoin<T> {
  readonly added: readonly RegisterWrite<T>[];
  readonly removed: readonly RegisterWrite<T>[];
}

/** Orders writes by (timestamp, writer node); the last is the winner. The seq only breaks forged ties. */
export function compareWrites<T>(a: RegisterWrite<T>, b: RegisterWrite<T>): number {
  return compareTimestamps(a.ts, a.dot.node, b.ts, b.dot.node) || a.dot.seq - b.dot.seq;
}

/**
 * A last-writer-wins register that never loses a concurrent write.
 *
 * It holds a set of writes, normally one. The shown value is the winner, the last writer by
 * `(ts, node)`; the other writes are conflicts. Whether a remote write is *concurrent* with the
 * value it meets or *causally after* it is decided by the causal contexts in `join`: a write the
 * other replica had seen (its context covers the dot) but no longer holds was superseded there and
 * is dropped; a write it had never seen survives next to its value, and that is a conflict. No
 * per-write history is needed because the context records what each writer had seen.
 */
export class LWWRegister<T> {
  // Winner first, then the conflicts in descending order. Never mutated in place, so `writes`
  // can hand out the array itself.
  #writes: readonly RegisterWrite<T>[];

  /** A register holding `writes` (duplicates of a dot collapse to one). */
  constructor(writes: Iterable<RegisterWrite<T>> = []) {
    const unique: RegisterWrite<T>[] = [];
    for (const write of writes) {
      const at = indexOfDot(unique, write.dot);
      if (at < 0) unique.push(write);
      else unique[at] = pickSameDot(unique[at]!, write);
    }
    this.#writes = unique.sort(descending);
  }

  /** The write shown: the last writer by `(ts, node)`. */
  get winner(): RegisterWrite<T> | undefined {
    return this.#writes[0];
  }

  /** The winner's value. */
  get value(): T | undefined {
    return this.#writes[0]?.value;
  }

  /** Concurrent writes that lost, newest first. */
  get conflicts(): readonly RegisterWrite<T>[] {
    return this.#writes.slice(1);
  }

  /** Every write held, winner first. */
  get writes(): readonly RegisterWrite<T>[] {
    return this.#writes;
  }

  /** True while concurrent writes are unresolved. */
  get hasConflicts(): boolean {
    return this.#writes.length > 1;
  }

  /** True if nothing was ever written (or everything held was superseded elsewhere). */
  isEmpty(): boolean {
    return this.#writes.length === 0;
  }

  /** True if the write with this dot is held. */
  holds(dot: Dot): boolean {
    return indexOfDot(this.#writes, dot) >= 0;
  }

  /**
   * A local write. It replaces the winner; unresolved conflicting writes stay, so a conflict is
   * never dropped just because someone typed over it. `write.ts` must come from a clock that has
   * seen every write held here, which makes it the new winner. Returns the replaced write.
   */
  set(write: RegisterWrite<T>): readonly RegisterWrite<T>[] {
    const [replaced, ...rest] = this.#writes;
    // The usual register holds one write: an exact one-element array, as `push` onto an empty
    // array would reserve room for 17 and most registers are never written again.
    this.#writes = rest.length ? [...rest, write].sort(descending) : [write];
    return replaced ? [replaced] : [];
  }

  /** A local write that settles every conflict: it replaces all writes. Returns them. */
  resolve(write: RegisterWrite<T>): readonly RegisterWrite<T>[] {
    const replaced = this.#writes;
    this.#writes = [write];
    return replaced;
  }

  /**
   * Joins another replica's writes for this register in place (see `joinWrites`). `ownContext`
   * must cover every write held here and `otherContext` every write in `other`. Returns what
   * changed, or null if nothing did.
   */
  join(other: readonly RegisterWrite<T>[], ownContext: CausalContext, otherContext: CausalContext): RegisterJoin<T> | null {
    const mine = this.#writes;
    const joined = joinWrites(mine, ownContext, other, otherContext);
    if (joined.length === mine.length && joined.every((write, i) => write === mine[i])) return null;
    this.#writes = joined;
    return {
      added: joined.filter((write) => !mine.includes(write)),
      removed: mine.filter((write) => !joined.includes(write)),
    };
  }
}

/**
 * The dot-store join of two registers' writes, each with the causal context of its replica. A
 * write is kept if both sides hold it, or one side holds it and the other side has not seen it.
 * Commutative, associative and idempotent; the result is sorted winner first.
 */
export function joinWrites<T>(
  a: readonly RegisterWrite<T>[],
  contextA: CausalContext,
  b: readonly RegisterWrite<T>[],
  contextB: CausalContext,
): RegisterWrite<T>[] {
  const joined: RegisterWrite<T>[] = [];
  for (const write of a) {
    const twin = indexOfDot(b, write.dot);
    if (twin >= 0) joined.push(pickSameDot(write, b[twin]!));
    else if (!contextB.covers(write.dot)) joined.push(write);
  }
  for (const write of b) {
    if (indexOfDot(a, write.dot) < 0 && !contextA.covers(write.dot)) joined.push(write);
  }
  // Exact-size arrays: `joined` grew by `push`, which reserves spare room the register would keep.
  return joined.length > 1 ? joined.sort(descending).slice() : joined.length ? [joined[0]!] : [];
}

/** The pure join of two registers with their replicas' causal contexts, as a new register. */
export function mergeRegisters<T>(
  a: LWWRegister<T>,
  contextA: CausalContext,
  b: LWWRegister<T>,
  contextB: CausalContext,
): LWWRegister<T> {
  return new LWWRegister(joinWrites(a.writes, contextA, b.writes, contextB));
}

function descending<T>(a: RegisterWrite<T>, b: RegisterWrite<T>): number {
  return compareWrites(b, a);
}

function indexOfDot<T>(writes: readonly RegisterWrite<T>[], dot: Dot): number {
  for (let i = 0; i < writes.length; i++) {
    const d = writes[i]!.dot;
    if (d.seq === dot.seq && d.node === dot.node) return i;
  }
  return -1;
}

// Honest replicas never hold two different writes under one dot; a forged pair must still join
// to the same result on every replica, so pick by a total order on the content.
function pickSameDot<T>(a: RegisterWrite<T>, b: RegisterWrite<T>): RegisterWrite<T> {
  if (a === b) return a;
  const order = compareTimestamps(a.ts, '', b.ts, '');
  if (order !== 0) return order > 0 ? a : b;
  if (a.value === b.value) return a;
  return JSON.stringify(a.value) >= JSON.stringify(b.value) ? a : b;
}
