import { type CausalContext, type Dot, type NodeId, isNodeId } from './dot.js';

/** A version vector in its compact JSON form: `node → max` or `node → [max, ...seqs past max]`. */
export type VersionVectorJSON = Record<string, number | number[]>;

/** Size limits `VersionVector.fromJSON` enforces on untrusted input. */
export interface VersionVectorLimits {
  readonly maxNodes: number;
  /** Seqs past a gap, summed over all nodes. */
  readonly maxExtras: number;
}

/** Defaults for `VersionVector.fromJSON`. */
export const VERSION_VECTOR_LIMITS: VersionVectorLimits = { maxNodes: 10_000, maxExtras: 100_000 };

/** Thrown by `VersionVector.fromJSON` for malformed input; the message says what is wrong. */
export class InvalidVersionVectorError extends Error {
  override readonly name = 'InvalidVersionVectorError';
}

/** How two version vectors relate. */
export const Ordering = {
  before: 'before',
  after: 'after',
  equal: 'equal',
  concurrent: 'concurrent',
} as const;
export type Ordering = (typeof Ordering)[keyof typeof Ordering];

const NO_EXTRAS: readonly number[] = [];

/**
 * The exact causal context of a replica: the set of dots it has seen. Per node, a contiguous max
 * (every seq 1..max seen) plus a sorted list of seqs seen past a gap; when a gap fills, the seqs
 * after it fold into the max, so a replica that receives everything in order stores one number
 * per node.
 */
export class VersionVector implements CausalContext {
  // Invariant: every node with extras has a `#max` entry, and its extras are sorted, unique and
  // all greater than max + 1.
  readonly #max = new Map<NodeId, number>();
  readonly #extras = new Map<NodeId, number[]>();

  /** Highest seq of `node` below which every seq has been seen (0 if none). */
  get(node: NodeId): number {
    return this.#max.get(node) ?? 0;
  }

  /** Highest seq of `node` seen at all, gaps or not. */
  maxSeen(node: NodeId): number {
    const extras = this.#extras.get(node);
    return extras ? extras[extras.length - 1]! : this.get(node);
  }

  /** Seqs of `node` seen past its first gap, ascending. Do not mutate. */
  extrasOf(node: NodeId): readonly number[] {
    return this.#extras.get(node) ?? NO_EXTRAS;
  }

  /** Records the next operation of `node` and returns its dot. */
  increment(node: NodeId): Dot {
    const dot = { node, seq: this.maxSeen(node) + 1 };
    this.add(dot);
    return dot;
  }

  /** Marks one dot as seen. Returns false if it already was. */
  add(dot: Dot): boolean {
    const { node, seq } = dot;
    const max = this.get(node);
    if (seq <= max) return false;
    const extras = this.#extras.get(node);
    if (seq === max + 1) {
      this.#setMax(node, seq, extras);
      return true;
    }
    if (!extras) {
      this.#max.set(node, max);
      this.#extras.set(node, [seq]);
      return true;
    }
    const at = lowerBound(extras, seq);
    if (extras[at] === seq) return false;
    extras.splice(at, 0, seq);
    return true;
  }

  /** Marks every seq 1..`seq` of `node` as seen (the seed's `update`). */
  update(node: NodeId, seq: number): void {
    if (seq <= this.get(node)) return;
    const extras = this.#extras.get(node);
    if (!extras) {
      this.#max.set(node, seq);
      return;
    }
    const keep = extras.slice(upperBound(extras, seq));
    this.#extras.delete(node);
    this.#setMax(node, seq, keep.length ? keep : undefined);
  }

  /**
   * Forgets every dot of `node` past `seq` (in place) and returns this. Erring low is always safe
   * for a context that is sent: the receiver may get something twice, never miss it.
   */
  forgetAfter(node: NodeId, seq: number): this {
    if (this.maxSeen(node) <= seq) return this;
    const extras = this.#extras.get(node)?.filter((s) => s <= seq);
    this.#extras.delete(node);
    if (Math.min(this.get(node), seq) === 0 && !extras?.length) this.#max.delete(node);
    else this.#setMax(node, Math.min(this.get(node), seq), extras?.length ? extras : undefined);
    return this;
  }

  /** True if `dot` has been seen. */
  covers(dot: Dot): boolean {
    const max = this.#max.get(dot.node);
    if (max === undefined) return false;
    if (dot.seq <= max) return true;
    const extras = this.#extras.get(dot.node);
    if (!extras) return false;
    const at = lowerBound(extras, dot.seq);
    return extras[at] === dot.seq;
  }

  /** True if this has seen every dot `other` has seen. */
  includes(other: VersionVector): boolean {
    for (const [node, max] of other.#max) {
      if (max > this.get(node)) return false;
      const extras = other.#extras.get(node);
      if (extras) for (const seq of extras) if (!this.covers({ node, seq })) return false;
    }
    return true;
  }

  /** Whether this replica's history is before, after, equal to or concurrent with `other`'s. */
  compare(other: VersionVector): Ordering {
    const mine = this.includes(other);
    const theirs = other.includes(this);
    if (mine && theirs) return Ordering.equal;
    if (mine) return Ordering.after;
    if (theirs) return Ordering.before;
    return Ordering.concurrent;
  }

  /** True if both have seen exactly the same dots. */
  equals(other: VersionVector): boolean {
    return this.#max.size === other.#max.size && this.includes(other) && other.includes(this);
  }

  /** Adds every dot `other` has seen (in place) and returns this. */
  mergeWith(other: VersionVector): this {
    for (const [node, otherMax] of other.#max) {
      const max = this.get(node);
      const otherExtras = other.#extras.get(node);
      const extras = this.#extras.get(node);
      if (!otherExtras && !extras) {
        if (otherMax > max) this.#max.set(node, otherMax);
        continue;
      }
      const top = Math.max(max, otherMax);
      const merged = mergeSorted(extras ?? NO_EXTRAS, otherExtras ?? NO_EXTRAS, top);
      this.#extras.delete(node);
      this.#setMax(node, top, merged.length ? merged : undefined);
    }
    return this;
  }

  /** An independent copy. */
  clone(): VersionVector {
    const copy = new VersionVector();
    for (const [node, max] of this.#max) copy.#max.set(node, max);
    for (const [node, extras] of this.#extras) copy.#extras.set(node, extras.slice());
    return copy;
  }

  /** Nodes with at least one dot seen. */
  nodes(): IterableIterator<NodeId> {
    return this.#max.keys();
  }

  /** True if no dot has been seen. */
  isEmpty(): boolean {
    return this.#max.size === 0;
  }

  /** The compact JSON form, nodes in sorted order so equal vectors serialize equally. */
  toJSON(): VersionVectorJSON {
    const json: VersionVectorJSON = {};
    for (const node of [...this.#max.keys()].sort()) {
      const extras = this.#extras.get(node);
      json[node] = extras ? [this.#max.get(node)!, ...extras] : this.#max.get(node)!;
    }
    return json;
  }

  /**
   * Parses the compact JSON form of untrusted input. Throws `InvalidVersionVectorError` naming the
   * problem for anything but an object of valid node ids mapping to non-negative safe integers (or
   * `[max, ...ascending seqs past max]`) within `limits`.
   */
  static fromJSON(json: unknown, limits: VersionVectorLimits = VERSION_VECTOR_LIMITS): VersionVector {
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new InvalidVersionVectorError('version vector must be a JSON object');
    const entries = Object.entries(json);
    if (entries.length > limits.maxNodes)
      throw new InvalidVersionVectorError(`version vector has more than ${limits.maxNodes} nodes`);
    const vector = new VersionVector();
    let extrasTotal = 0;
    for (const [node, value] of entries) {
      if (!isNodeId(node)) throw new InvalidVersionVectorError(`version vector has a malformed node id`);
      if (isCount(value)) {
        if (value > 0) vector.#max.set(node, value);
        continue;
      }
      if (!Array.isArray(value) || value.length < 2 || !isCount(value[0]))
        throw new InvalidVersionVectorError(`version vector entry for ${node} must be a count or [max, ...seqs]`);
      extrasTotal += value.length - 1;
      if (extrasTotal > limits.maxExtras)
        throw new InvalidVersionVectorError(`version vector has more than ${limits.maxExtras} seqs past gaps`);
      let previous = value[0] as number;
      for (let i = 1; i < value.length; i++) {
        const seq: unknown = value[i];
        if (!isCount(seq) || seq <= previous)
          throw new InvalidVersionVectorError(`version vector entry for ${node} must list ascending seqs above its max`);
        previous = seq;
      }
      vector.#max.set(node, value[0] as number);
      for (let i = 1; i < value.length; i++) vector.add({ node, seq: value[i] as number });
    }
    return vector;
  }

  // Sets max and folds extras that became contiguous; `extras` (if any) must all be > max.
  #setMax(node: NodeId, max: number, extras: number[] | undefined): void {
    let top = max;
    if (extras) {
      let fold = 0;
      while (fold < extras.length && extras[fold] === top + 1) top = extras[fold++]!;
      if (fold === extras.length) this.#extras.delete(node);
      else {
        if (fold) extras.splice(0, fold);
        this.#extras.set(node, extras);
      }
    }
    this.#max.set(node, top);
  }
}

/** The union of two version vectors, as a new vector. */
export function mergeVersionVectors(a: VersionVector, b: VersionVector): VersionVector {
  return a.clone().mergeWith(b);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** First index whose value is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > `value`. */
function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted union of two ascending lists, keeping only values above `floor`. */
function mergeSorted(a: readonly number[], b: readonly number[], floor: number): number[] {
  const out: number[] = [];
  let i = upperBound(a, floor);
  let j = upperBound(b, floor);
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    const next = x <= y ? x : y;
    if (x === next) i++;
    if (y === next) j++;
    out.push(next);
  }
  return out;
}
