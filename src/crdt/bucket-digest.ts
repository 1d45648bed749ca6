import { Hash64, hex64 } from './hash64.js';

/** How many buckets a `BucketDigest` has: the fan-out of its one level below the root. */
export const DIGEST_BUCKETS = 256;

/** The hash of an empty bucket, as `BucketDigest.buckets()` lists it. */
export const EMPTY_BUCKET = '0'.repeat(16);

const BUCKET_PATTERN = /^[0-9a-f]{16}$/;
const hasher = new Hash64();

/**
 * A Merkle-style summary of a set of keyed items, each with a 64-bit hash: the item goes to the
 * bucket named by a hash of its key (`bucketOf`), a bucket's hash is the sum of its items' hashes
 * (per 32-bit half, mod 2^32, so adding, removing or replacing an item is O(1) and the order items
 * came in does not matter), and the root hashes the sum of every bucket's own hash (of its number
 * and sum), kept alongside, so it too costs O(1) per change, and changes in two buckets cannot
 * cancel out however the items' hashes are made. Two holders of the same items have the same root; where roots
 * differ, the differing buckets (`differingBuckets`) say which keys to look at.
 */
export class BucketDigest {
  // Bucket i's halves at 2i (high) and 2i + 1 (low); the array keeps them mod 2^32.
  readonly #sums = new Uint32Array(DIGEST_BUCKETS * 2);
  // The sum of every bucket's `mixBucket`, high and low half.
  readonly #total = new Uint32Array(2);
  #root: string | undefined;

  constructor() {
    for (let i = 0; i < DIGEST_BUCKETS; i++) this.#mix(i, 1);
  }

  /**
   * Replaces one item's hash in `bucket`: `before` (0, 0 if it was absent) by `after` (0, 0 to
   * remove it).
   */
  replace(bucket: number, beforeHi: number, beforeLo: number, afterHi: number, afterLo: number): void {
    if (beforeHi === afterHi && beforeLo === afterLo) return;
    const sums = this.#sums;
    this.#mix(bucket, -1);
    sums[bucket * 2] = sums[bucket * 2]! - beforeHi + afterHi;
    sums[bucket * 2 + 1] = sums[bucket * 2 + 1]! - beforeLo + afterLo;
    this.#mix(bucket, 1);
    this.#root = undefined;
  }

  // Adds (sign 1) or subtracts (-1) the hash of one bucket's number and sum to the total.
  #mix(bucket: number, sign: 1 | -1): void {
    hasher.reset(0xb0c4e75).word(bucket).word(this.#sums[bucket * 2]!).word(this.#sums[bucket * 2 + 1]!).finish();
    this.#total[0] = this.#total[0]! + sign * hasher.hi;
    this.#total[1] = this.#total[1]! + sign * hasher.lo;
  }

  /** The root, 16 hex digits. */
  get root(): string {
    this.#root ??= hasher.reset(0x0d16e57).word(this.#total[0]!).word(this.#total[1]!).finish().hex();
    return this.#root;
  }

  /** Every bucket's hash in bucket order, 16 hex digits each (`EMPTY_BUCKET` for an empty one). */
  buckets(): string[] {
    const sums = this.#sums;
    const list: string[] = [];
    for (let i = 0; i < DIGEST_BUCKETS; i++) list.push(hex64(sums[i * 2]!, sums[i * 2 + 1]!));
    return list;
  }
}

/** The bucket of an item key: the top 8 bits of a 64-bit hash of the key. */
export function bucketOf(key: string): number {
  return hasher.reset(0xb0c4e7).string(key).finish().hi >>> 24;
}

/** The buckets whose hashes differ between two bucket lists (both from `buckets()`), ascending. */
export function differingBuckets(a: readonly string[], b: readonly string[]): number[] {
  const differing: number[] = [];
  for (let i = 0; i < DIGEST_BUCKETS; i++) if (a[i] !== b[i]) differing.push(i);
  return differing;
}

/**
 * What is wrong with a bucket list received from elsewhere (not an array of `DIGEST_BUCKETS`
 * strings of 16 lowercase hex digits), or undefined if nothing is.
 */
export function bucketListProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'digest buckets must be an array';
  if (value.length !== DIGEST_BUCKETS) return `digest buckets must number ${DIGEST_BUCKETS}, not ${value.length}`;
  for (let i = 0; i < value.length; i++) {
    const bucket: unknown = value[i];
    if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(bucket)) return `digest bucket ${i} is not 16 hex digits`;
  }
  return undefined;
}
