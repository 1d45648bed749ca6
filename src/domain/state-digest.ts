import { BucketDigest, type Dot, Hash64, type RemovalMark, bucketOf, hex64 } from '../crdt/index.js';
import type { EntityRecord } from './entity-record.js';
import type { AttributeWrite, EntityState } from './model-change.js';

/** A model's digest: the root over its buckets, and how many entities hold state. */
export interface ModelDigest {
  /** 16 hex digits; equal on two replicas exactly when their entity states are equal (up to hash collisions). */
  readonly root: string;
  /** Entities holding any state (the ones `getEntityStates` lists). */
  readonly entities: number;
}

// Seeds separating the kinds of parts, so a write can never hash like a child or a mark.
const WRITE = 1;
const ITEM = 2;
const MARK = 3;
const ENTITY = 4;

const part = new Hash64();
const whole = new Hash64();

/**
 * The digest of a model's state, kept up to date incrementally. Each entity's hash is computed
 * from its state alone: the state is a set of parts (every register write with its attribute,
 * value, timestamp and dot; every child with each dot that added it; every removal mark), each
 * part is hashed on its own and the hashes summed, so the result does not depend on the order
 * anything arrived in, and no sorting is needed. Entities go into a `BucketDigest` by their oid.
 *
 * `markStale` costs one set insertion per changed entity; the entities marked are rehashed (each
 * in time proportional to its own state) and their buckets adjusted when a digest is next asked.
 */
export class StateDigest {
  readonly #summary = new BucketDigest();
  readonly #stale = new Set<EntityRecord>();
  #entities = 0;

  /** Notes that `record`'s state may have changed. */
  markStale(record: EntityRecord): void {
    this.#stale.add(record);
  }

  /** The current digest. */
  digest(): ModelDigest {
    this.#refresh();
    return { root: this.#summary.root, entities: this.#entities };
  }

  /** Every bucket's hash in bucket order (see `BucketDigest.buckets`). */
  buckets(): string[] {
    this.#refresh();
    return this.#summary.buckets();
  }

  /** The current hash of one entity (16 hex digits; all zeros if it holds nothing). */
  entityHash(record: EntityRecord): string {
    this.#refresh();
    return hex64(record.digestHi, record.digestLo);
  }

  /**
   * Rehashes at most `limit` of the entities marked stale; true once none is left. Lets a caller
   * spread the rehashing of a large arrival over several tasks instead of the next `digest()`.
   */
  refreshSome(limit: number): boolean {
    if (this.#stale.size <= limit) {
      this.#refresh();
      return true;
    }
    let left = limit;
    for (const record of this.#stale) {
      if (left-- <= 0) break;
      this.#rehash(record);
      this.#stale.delete(record);
    }
    return false;
  }

  #refresh(): void {
    if (!this.#stale.size) return;
    for (const record of this.#stale) this.#rehash(record);
    this.#stale.clear();
  }

  #rehash(record: EntityRecord): void {
    hashRecord(record);
    const { hi, lo } = whole;
    const before = record.digestHi !== 0 || record.digestLo !== 0;
    const after = hi !== 0 || lo !== 0;
    this.#summary.replace(bucketOf(record.oid), record.digestHi, record.digestLo, hi, lo);
    record.digestHi = hi;
    record.digestLo = lo;
    this.#entities += Number(after) - Number(before);
  }
}

/**
 * The hash of one entity state (16 hex digits; all zeros for a state holding nothing), as the
 * model's digest counts it. Any order of writes, children, dots and marks gives the same hash.
 */
export function entityStateHash(state: EntityState): string {
  let sumHi = 0;
  let sumLo = 0;
  let parts = 0;
  for (const [attribute, writes] of Object.entries(state.attributes))
    for (const write of writes) {
      hashWrite(attribute, write);
      sumHi = (sumHi + part.hi) >>> 0;
      sumLo = (sumLo + part.lo) >>> 0;
      parts++;
    }
  for (const [relation, items] of Object.entries(state.children))
    for (const [child, dots] of items)
      for (const dot of dots) {
        hashItem(relation, child, dot);
        sumHi = (sumHi + part.hi) >>> 0;
        sumLo = (sumLo + part.lo) >>> 0;
        parts++;
      }
  for (const [relation, marks] of Object.entries(state.removals ?? {}))
    for (const mark of marks) {
      hashMark(relation, mark);
      sumHi = (sumHi + part.hi) >>> 0;
      sumLo = (sumLo + part.lo) >>> 0;
      parts++;
    }
  hashEntity(state.entityType, state.oid, sumHi, sumLo, parts);
  return hex64(whole.hi, whole.lo);
}

// The hash of a record's state into `whole` (the same as `entityStateHash` of its `toState()`).
function hashRecord(record: EntityRecord): void {
  let sumHi = 0;
  let sumLo = 0;
  let parts = 0;
  for (const [attribute, register] of record.registers)
    for (const write of register.writes) {
      hashWrite(attribute, write);
      sumHi = (sumHi + part.hi) >>> 0;
      sumLo = (sumLo + part.lo) >>> 0;
      parts++;
    }
  for (const [relation, set] of record.relations) {
    for (const [child, dots] of set.entries())
      for (const dot of dots) {
        hashItem(relation, child, dot);
        sumHi = (sumHi + part.hi) >>> 0;
        sumLo = (sumLo + part.lo) >>> 0;
        parts++;
      }
    for (const mark of set.removals()) {
      hashMark(relation, mark);
      sumHi = (sumHi + part.hi) >>> 0;
      sumLo = (sumLo + part.lo) >>> 0;
      parts++;
    }
  }
  hashEntity(record.concept.name, record.oid, sumHi, sumLo, parts);
}

function hashWrite(attribute: string, write: AttributeWrite): void {
  part.reset(WRITE).string(attribute).value(write.value).int(write.ts.ms).int(write.ts.c).string(write.dot.node).int(write.dot.seq).finish();
}

function hashItem(relation: string, child: string, dot: Dot): void {
  part.reset(ITEM).string(relation).string(child).string(dot.node).int(dot.seq).finish();
}

// A mark with what it names: replicas holding one mark with different lists must differ here.
function hashMark(relation: string, mark: RemovalMark): void {
  part.reset(MARK).string(relation).string(mark.node).int(mark.seq);
  // 0 for a legacy mark, else the list's length plus one, then its dots.
  part.int(mark.removed ? mark.removed.length + 1 : 0);
  for (const dot of mark.removed ?? []) part.string(dot.node).int(dot.seq);
  part.finish();
}

// The parts' hashes are summed mod 2^32 per half. An entity holding nothing hashes to zero, which
// its bucket does not count.
function hashEntity(concept: string, oid: string, sumHi: number, sumLo: number, parts: number): void {
  if (!parts) {
    whole.hi = 0;
    whole.lo = 0;
    return;
  }
  whole.reset(ENTITY).string(concept).string(oid).word(sumHi).word(sumLo).finish();
  if (whole.hi === 0 && whole.lo === 0) whole.lo = 1;
}
