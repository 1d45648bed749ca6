/**
 * A streaming 64-bit non-cryptographic hash: two 32-bit MurmurHash3-style lanes with their own
 * constants, fed the same 32-bit words and cross-mixed at the end (as MurmurHash3 x86_128 mixes
 * its lanes). Synchronous, allocation-free and cheap per word, for digests that must follow every
 * edit; WebCrypto is asynchronous and far slower for small inputs. Not collision resistant against
 * an adversary: use it only where each party hashes its own state.
 *
 * Reuse one instance: `reset(seed)`, feed `word`/`string`/`number`/`value`, then `finish()` and
 * read `hi` and `lo`.
 */
export class Hash64 {
  /** High 32 bits of the last `finish()`, unsigned. */
  hi = 0;
  /** Low 32 bits of the last `finish()`, unsigned. */
  lo = 0;
  // Plain fields, not `#private`: Chromium's V8 reads and writes private fields about twice as
  // slowly in this loop, and the digest of a 10,000-entity arrival feeds millions of words.
  /** @internal */ _a = 0;
  /** @internal */ _b = 0;
  /** @internal */ _words = 0;

  /** Starts a new hash. Different seeds give unrelated hashes of the same input (domain separation). */
  reset(seed = 0): this {
    this._a = seed ^ 0x9747b28c;
    this._b = Math.imul(seed, 0x5bd1e995) ^ 0x3c6ef372;
    this._words = 0;
    return this;
  }

  /** Feeds one 32-bit word (its low 32 bits). */
  word(w: number): this {
    this._a = laneA(this._a, w);
    this._b = laneB(this._b, w);
    this._words++;
    return this;
  }

  /** Feeds a string: its length, then its UTF-16 code units two per word. */
  string(s: string): this {
    // The lanes stay in locals for the whole string: one field read and write per string, not per word.
    const length = s.length;
    let a = laneA(this._a, length);
    let b = laneB(this._b, length);
    let i = 0;
    for (; i + 1 < length; i += 2) {
      const w = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
      a = laneA(a, w);
      b = laneB(b, w);
    }
    if (i < length) {
      const w = s.charCodeAt(i);
      a = laneA(a, w);
      b = laneB(b, w);
    }
    this._a = a;
    this._b = b;
    this._words += 1 + ((length + 1) >> 1);
    return this;
  }

  /**
   * Feeds a number so that equal numbers feed equal words: safe integers as two words (-0 as 0),
   * anything else as its shortest decimal text (which JSON would send, so replicas agree).
   */
  number(n: number): this {
    if (Number.isSafeInteger(n)) return this.word(0).word(n >>> 0).word(Math.floor(n / 4294967296));
    return this.word(1).string(String(n));
  }

  /** Feeds a safe integer as two words, without a tag: for fields that are always integers (dots, timestamps). */
  int(n: number): this {
    return this.word(n >>> 0).word(Math.floor(n / 4294967296));
  }

  /** Feeds a JSON scalar with a type tag, so `1`, `"1"` and `true` differ. */
  value(v: string | number | boolean | null): this {
    if (v === null) return this.word(1);
    if (typeof v === 'boolean') return this.word(v ? 3 : 2);
    if (typeof v === 'number') return this.word(4).number(v);
    return this.word(5).string(v);
  }

  /** Ends the hash; the result is in `hi` and `lo`. */
  finish(): this {
    let a = this._a ^ this._words;
    let b = this._b ^ this._words;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    this.hi = a >>> 0;
    this.lo = b >>> 0;
    return this;
  }

  /** The last result as 16 hex digits. */
  hex(): string {
    return hex64(this.hi, this.lo);
  }
}

// Two hex digits per byte, so a 64-bit value is 8 lookups (`toString(16)` is several times slower).
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A 64-bit value given as two unsigned 32-bit halves, as 16 hex digits. */
export function hex64(hi: number, lo: number): string {
  return (
    HEX[(hi >>> 24) & 255]! + HEX[(hi >>> 16) & 255]! + HEX[(hi >>> 8) & 255]! + HEX[hi & 255]! +
    HEX[(lo >>> 24) & 255]! + HEX[(lo >>> 16) & 255]! + HEX[(lo >>> 8) & 255]! + HEX[lo & 255]!
  );
}

// One MurmurHash3 round of each lane (with its own constants) for the word `w`.
function laneA(a: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  a ^= k;
  a = (a << 13) | (a >>> 19);
  return (Math.imul(a, 5) + 0xe6546b64) | 0;
}

function laneB(b: number, w: number): number {
  let j = Math.imul(w, 0x85ebca77);
  j = (j << 17) | (j >>> 15);
  j = Math.imul(j, 0xc2b2ae3d);
  b ^= j;
  b = (b << 15) | (b >>> 17);
  return (Math.imul(b, 5) + 0x561ccd1b) | 0;
}

// MurmurHash3's finalizer: every input bit affects every output bit.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
