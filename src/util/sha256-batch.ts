import { sha256Into } from './sha256.js';
import { sha256WasmModule } from './sha256-wasm-module.js';

interface Hash4 {
  readonly memory: WebAssembly.Memory;
  hash4(at0: number, at1: number, at2: number, at3: number, blocks: number, out: number): void;
}

// Messages up to this many blocks (503 bytes) are hashed four at a time; longer ones (rare: an
// item with a long text value) one at a time in JavaScript.
const MAX_BLOCKS = 8;
// Memory layout of the module's first page: the four digests at 0, then per block count b a
// region of four slots of b blocks.
const DIGESTS_AT = 0;
const REGIONS_AT = 1024;
// Then (from 10,240) a scratch area the caller may encode a message into (`scratch`).
const SCRATCH_AT = 16384;
const SCRATCH_BYTES = 16384;

let compiled: WebAssembly.Module | null | undefined;

// An instance (with a memory of its own) of the module compiled once per page, or null where
// WebAssembly with SIMD cannot run: the Content-Security-Policy of an old cached page without
// 'wasm-unsafe-eval', or an engine without SIMD. The module is small (about 18 KB), so compiling
// it synchronously is allowed on a page's main thread.
function hash4Instance(): Hash4 | null {
  if (compiled === undefined)
    try {
      compiled = new WebAssembly.Module(sha256WasmModule());
    } catch {
      compiled = null;
    }
  return compiled && (new WebAssembly.Instance(compiled).exports as unknown as Hash4);
}

/**
 * SHA-256 of many short messages, four at a time in WebAssembly SIMD lanes: certificates hash
 * every item of a delta (tens of thousands in a bootstrap), and one message at a time costs about
 * three times as much. `add` queues a message (copied, so its buffer may be reused at once); its
 * digest's first `digestBytes` bytes are written to `out` at `offset` by the next `flush` at the
 * latest. Without WebAssembly it hashes each message in `add`, in JavaScript: same digests.
 */
export class Sha256Batch {
  readonly #module: Hash4 | null;
  readonly #memory: Uint8Array;
  // Per block count (index b - 1): where the digests of the messages waiting in that region's
  // slots go (arrays, not an object per message: a bootstrap queues tens of thousands).
  readonly #waiting: Uint8Array[][] = Array.from({ length: MAX_BLOCKS }, () => []);
  readonly #offsets: number[][] = Array.from({ length: MAX_BLOCKS }, () => [0, 0, 0, 0]);
  readonly #digest = new Uint8Array(32);

  /** `wasm: false` hashes in JavaScript only (tests compare both). */
  constructor(
    readonly digestBytes: number,
    options: { readonly wasm?: boolean } = {},
  ) {
    if (!(digestBytes > 0 && digestBytes <= 32)) throw new RangeError('digestBytes must be 1 to 32');
    this.#module = options.wasm === false ? null : hash4Instance();
    this.#memory = this.#module ? new Uint8Array(this.#module.memory.buffer) : new Uint8Array(0);
  }

  /**
   * A buffer to write a message into before `addScratch`, which copies it with one `copyWithin`
   * (inside the module's memory) instead of byte by byte.
   */
  get scratch(): Uint8Array {
    return (this.#scratch ??= this.#module ? this.#memory.subarray(SCRATCH_AT, SCRATCH_AT + SCRATCH_BYTES) : new Uint8Array(SCRATCH_BYTES));
  }

  #scratch: Uint8Array | undefined;

  /** `add(scratch, length, out, offset)`. */
  addScratch(length: number, out: Uint8Array, offset: number): void {
    const blocks = (length + 72) >>> 6;
    if (!this.#module || blocks > MAX_BLOCKS) return this.add(this.scratch, length, out, offset);
    const k = this.#waiting[blocks - 1]!.length;
    this.#memory.copyWithin(slotAt(blocks, k), SCRATCH_AT, SCRATCH_AT + length);
    this.#queue(blocks, length, out, offset);
  }

  /** True if messages are hashed in WebAssembly. */
  get wasm(): boolean {
    return this.#module !== null;
  }

  /** Queues the SHA-256 of `data[0, length)`; its first `digestBytes` bytes go to `out` at `offset`. */
  add(data: Uint8Array, length: number, out: Uint8Array, offset: number): void {
    // The padding takes at least 9 bytes (0x80 and the 64-bit length).
    const blocks = (length + 72) >>> 6;
    if (!this.#module || blocks > MAX_BLOCKS) {
      sha256Into(data, length, this.#digest, 0);
      out.set(this.#digest.subarray(0, this.digestBytes), offset);
      return;
    }
    const at = slotAt(blocks, this.#waiting[blocks - 1]!.length);
    const memory = this.#memory;
    // A byte loop: these messages are short, where `subarray` + `set` costs more.
    for (let i = 0; i < length; i++) memory[at + i] = data[i]!;
    this.#queue(blocks, length, out, offset);
  }

  // Pads the message just written to the next slot of its region and queues it.
  #queue(blocks: number, length: number, out: Uint8Array, offset: number): void {
    const waiting = this.#waiting[blocks - 1]!;
    const k = waiting.length;
    const at = slotAt(blocks, k);
    const memory = this.#memory;
    const end = at + blocks * 64;
    // The bytes between are zero: a region is cleared whenever its slots were hashed (`#run`).
    memory[at + length] = 0x80;
    const bits = length * 8;
    memory[end - 5] = Math.floor(bits / 0x1_0000_0000);
    memory[end - 4] = bits >>> 24;
    memory[end - 3] = bits >>> 16;
    memory[end - 2] = bits >>> 8;
    memory[end - 1] = bits;
    waiting.push(out);
    this.#offsets[blocks - 1]![k] = offset;
    if (k === 3) this.#run(blocks);
  }

  /** Writes every queued digest. */
  flush(): void {
    for (let blocks = 1; blocks <= MAX_BLOCKS; blocks++) if (this.#waiting[blocks - 1]!.length) this.#run(blocks);
  }

  // Hashes the waiting messages of `blocks` blocks (lanes left over hash slot 0 again, unread).
  #run(blocks: number): void {
    const waiting = this.#waiting[blocks - 1]!;
    const offsets = this.#offsets[blocks - 1]!;
    const lane = (k: number) => slotAt(blocks, k < waiting.length ? k : 0);
    this.#module!.hash4(lane(0), lane(1), lane(2), lane(3), blocks, DIGESTS_AT);
    const memory = this.#memory;
    for (let k = 0; k < waiting.length; k++) {
      const out = waiting[k]!;
      const offset = offsets[k]!;
      // Word j of lane k is at 16 j + 4 k, big-endian.
      for (let i = 0; i < this.digestBytes; i++) out[offset + i] = memory[DIGESTS_AT + 16 * (i >>> 2) + 4 * k + (i & 3)]!;
    }
    waiting.length = 0;
    // Cleared for the next messages, whose padding then sets only its two ends: one `fill` per
    // four messages instead of a loop per message (12.6 ms of a 10,000-entity arrival's main thread).
    memory.fill(0, slotAt(blocks, 0), slotAt(blocks, 4));
  }
}

// Slot `k` (0-3) of the region of messages of `blocks` blocks.
function slotAt(blocks: number, k: number): number {
  // Regions of smaller block counts come first: 4 × 64 × (1 + … + (blocks - 1)) bytes.
  return REGIONS_AT + 4 * 64 * ((blocks * (blocks - 1)) / 2) + k * blocks * 64;
}
