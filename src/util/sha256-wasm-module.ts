// The bytes of a small WebAssembly module computing SHA-256 (FIPS 180-4) of four messages at once,
// one per 32-bit lane of 128-bit SIMD vectors, written out here instruction by instruction rather
// than shipped as a binary, so what runs can be read and reviewed. Certificates hash every item
// of every delta (tens of thousands in a bootstrap, almost all two blocks long); SHA-256 of one
// message at a time is close to what a core can do in JavaScript already (WebAssembly without
// SIMD measured only about 1.4× faster), four at a time does it in about a third of the time.
//
// Export `hash4(at0, at1, at2, at3, blocks, out)`: hashes the four messages at `at0`…`at3`, each
// already padded to `blocks` whole 64-byte blocks, and writes word j of lane k's digest at
// `out + 16 j + 4 k`, big-endian. Export `memory`: its first page is free for the caller.

import { SHA256_ROUND_CONSTANTS } from './sha256.js';

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// Opcodes used (WebAssembly 2.0; SIMD ones follow the 0xfd prefix).
const LOOP = 0x03;
const END = 0x0b;
const BR_IF = 0x0d;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_LOAD = 0x28;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const SIMD = 0xfd;
const simd = {
  store: 0x0b,
  const: 0x0c,
  swizzle: 0x0e,
  splat: 0x11,
  replaceLane: 0x1c,
  and: 0x4e,
  or: 0x50,
  xor: 0x51,
  shl: 0xab,
  shrU: 0xad,
  add: 0xae,
} as const;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;

/**
 * Bytes written one at a time into a growing buffer. The module is built once per page on the
 * main thread, in the task that hashes the first signed delta: built from arrays spread into
 * arrays, it took 30–70 ms there, far more than compiling it (1 ms).
 */
class Writer {
  #bytes = new Uint8Array(1 << 15);
  length = 0;

  byte(byte: number): void {
    if (this.length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.length++] = byte;
  }

  bytes(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]!);
  }

  uleb(value: number): void {
    do {
      let byte = value & 0x7f;
      value >>>= 7;
      if (value) byte |= 0x80;
      this.byte(byte);
    } while (value);
  }

  sleb(value: number): void {
    value |= 0;
    for (;;) {
      const byte = value & 0x7f;
      value >>= 7;
      if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return this.byte(byte);
      this.byte(byte | 0x80);
    }
  }

  /** `length`-prefixed: what `write` writes, after its byte count. */
  sized(write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.uleb(inner.length);
    this.bytes(inner.written());
  }

  written(): Uint8Array<ArrayBuffer> {
    return this.#bytes.slice(0, this.length);
  }
}

const section = (w: Writer, id: number, write: (w: Writer) => void): void => {
  w.byte(id);
  w.sized(write);
};
const name = (w: Writer, text: string): void => {
  w.uleb(text.length);
  for (let i = 0; i < text.length; i++) w.byte(text.charCodeAt(i));
};

// Locals: the parameters, then vectors (lane k of each belongs to message k).
const AT = [0, 1, 2, 3];
const BLOCKS = 4;
const OUT = 5;
const [A, B, C, D, E, F, G, H] = [6, 7, 8, 9, 10, 11, 12, 13];
const STATE = [14, 15, 16, 17, 18, 19, 20, 21];
const T1 = 22;
// The schedule keeps its last 16 words.
const W0 = 23;
const VECTOR_LOCALS = 33;

// An opcode and its unsigned immediate (a local's index; a SIMD opcode after its prefix).
const instr = (w: Writer, opcode: number, immediate: number): void => {
  w.byte(opcode);
  w.uleb(immediate);
};
const get = (w: Writer, local: number): void => instr(w, LOCAL_GET, local);
const set = (w: Writer, local: number): void => instr(w, LOCAL_SET, local);
const v = (w: Writer, opcode: number): void => instr(w, SIMD, opcode);
const i32 = (w: Writer, value: number): void => {
  w.byte(I32_CONST);
  w.sleb(value);
};
// A vector with `word` in every lane.
const splatConst = (w: Writer, word: number): void => {
  v(w, simd.const);
  for (let lane = 0; lane < 4; lane++) w.bytes([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24]);
};
// Reverses the bytes of each lane: little-endian loads to SHA-256's big-endian words, and back.
const BYTE_SWAP = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
const byteSwap = (w: Writer): void => {
  v(w, simd.const);
  w.bytes(BYTE_SWAP);
  v(w, simd.swizzle);
};
// Lanes rotated right by `bits`: SIMD has shifts, not rotations.
const rotr = (w: Writer, local: number, bits: number): void => {
  get(w, local);
  i32(w, bits);
  v(w, simd.shrU);
  get(w, local);
  i32(w, 32 - bits);
  v(w, simd.shl);
  v(w, simd.or);
};
// Σ / σ of SHA-256: the xor of `local` rotated by each of `rotations`, and (σ) shifted by `shift`.
const sigma = (w: Writer, local: number, rotations: readonly number[], shift?: number): void => {
  rotations.forEach((bits, i) => {
    rotr(w, local, bits);
    if (i > 0) v(w, simd.xor);
  });
  if (shift === undefined) return;
  get(w, local);
  i32(w, shift);
  v(w, simd.shrU);
  v(w, simd.xor);
};

function hash4Body(w: Writer): void {
  // One group of 33 vector locals.
  w.uleb(1);
  w.uleb(VECTOR_LOCALS);
  w.byte(V128);
  INITIAL.forEach((word, i) => {
    splatConst(w, word);
    set(w, STATE[i]!);
  });
  w.bytes([LOOP, VOID]);
  const names = [A, B, C, D, E, F, G, H];
  STATE.forEach((state, i) => {
    get(w, state);
    set(w, names[i]!);
  });
  for (let round = 0; round < 64; round++) {
    // The variables of a..h in this round: each round shifts them by one instead of moving values.
    const [a, b, c, d, e, f, g, h] = names.map((_, k) => names[(k - round + 64) % 8]!) as [number, number, number, number, number, number, number, number];
    const word = W0 + (round % 16);
    if (round < 16) {
      // Word `round` of each message's block, one message per lane.
      for (let lane = 0; lane < 4; lane++) {
        get(w, AT[lane]!);
        w.bytes([I32_LOAD, 2]);
        w.uleb(round * 4);
        if (lane === 0) v(w, simd.splat);
        else {
          v(w, simd.replaceLane);
          w.byte(lane);
        }
      }
      byteSwap(w);
      set(w, word);
    } else {
      // W[i] = W[i-16] + σ0(W[i-15]) + W[i-7] + σ1(W[i-2]); W[i-16] is the slot being replaced.
      get(w, word);
      sigma(w, W0 + ((round - 15) % 16), [7, 18], 3);
      v(w, simd.add);
      get(w, W0 + ((round - 7) % 16));
      v(w, simd.add);
      sigma(w, W0 + ((round - 2) % 16), [17, 19], 10);
      v(w, simd.add);
      set(w, word);
    }
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + W[i], with Ch = g ^ (e & (f ^ g)).
    get(w, h);
    sigma(w, e, [6, 11, 25]);
    v(w, simd.add);
    get(w, g);
    get(w, e);
    get(w, f);
    get(w, g);
    v(w, simd.xor);
    v(w, simd.and);
    v(w, simd.xor);
    v(w, simd.add);
    splatConst(w, SHA256_ROUND_CONSTANTS[round]!);
    v(w, simd.add);
    get(w, word);
    v(w, simd.add);
    set(w, T1);
    // d += T1; h = T1 + Σ0(a) + Maj(a, b, c), with Maj = (a & b) | (c & (a | b)).
    get(w, d);
    get(w, T1);
    v(w, simd.add);
    set(w, d);
    get(w, T1);
    sigma(w, a, [2, 13, 22]);
    v(w, simd.add);
    get(w, a);
    get(w, b);
    v(w, simd.and);
    get(w, c);
    get(w, a);
    get(w, b);
    v(w, simd.or);
    v(w, simd.and);
    v(w, simd.or);
    v(w, simd.add);
    set(w, h);
  }
  // 64 rounds are eight whole turns of the names: A..H hold a..h again.
  names.forEach((work, i) => {
    get(w, STATE[i]!);
    get(w, work);
    v(w, simd.add);
    set(w, STATE[i]!);
  });
  for (const at of AT) {
    get(w, at);
    i32(w, 64);
    w.byte(I32_ADD);
    set(w, at);
  }
  get(w, BLOCKS);
  i32(w, 1);
  w.bytes([I32_SUB, LOCAL_TEE, BLOCKS, BR_IF, 0, END]);
  STATE.forEach((state, j) => {
    get(w, OUT);
    get(w, state);
    byteSwap(w);
    v(w, simd.store);
    w.byte(4);
    w.uleb(16 * j);
  });
  w.byte(END);
}

/** The module's bytes. */
export function sha256WasmModule(): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  w.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  // type 0: (i32 × 6) -> ()
  section(w, 1, (s) => s.bytes([1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]));
  // function 0 has type 0
  section(w, 3, (s) => s.bytes([1, 0]));
  // one memory, at least one page
  section(w, 5, (s) => s.bytes([1, 0x00, 1]));
  section(w, 7, (s) => {
    s.uleb(2);
    name(s, 'memory');
    s.bytes([0x02, 0]);
    name(s, 'hash4');
    s.bytes([0x00, 0]);
  });
  section(w, 10, (s) => {
    s.uleb(1);
    s.sized(hash4Body);
  });
  return w.written();
}
