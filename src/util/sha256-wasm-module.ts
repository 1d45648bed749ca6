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

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

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

const get = (local: number) => [LOCAL_GET, local];
const set = (local: number) => [LOCAL_SET, local];
const i32 = (value: number) => [I32_CONST, ...sleb(value)];
const v = (opcode: number) => [SIMD, ...uleb(opcode)];
// A vector with `word` in every lane.
const splatConst = (word: number) => [...v(simd.const), ...[0, 1, 2, 3].flatMap(() => [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24])];
// Reverses the bytes of each lane: little-endian loads to SHA-256's big-endian words, and back.
const byteSwap = () => [...v(simd.const), 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, ...v(simd.swizzle)];
// Lanes rotated right by `bits`: SIMD has shifts, not rotations.
const rotr = (local: number, bits: number) => [...get(local), ...i32(bits), ...v(simd.shrU), ...get(local), ...i32(32 - bits), ...v(simd.shl), ...v(simd.or)];

function hash4Body(): number[] {
  const code: number[] = [];
  INITIAL.forEach((word, i) => code.push(...splatConst(word), ...set(STATE[i]!)));
  code.push(LOOP, VOID);
  STATE.forEach((state, i) => code.push(...get(state), ...set([A, B, C, D, E, F, G, H][i]!)));
  const names = [A, B, C, D, E, F, G, H];
  for (let round = 0; round < 64; round++) {
    // The variables of a..h in this round: each round shifts them by one instead of moving values.
    const [a, b, c, d, e, f, g, h] = names.map((_, k) => names[(k - round + 64) % 8]!);
    const w = W0 + (round % 16);
    if (round < 16) {
      // Word `round` of each message's block, one message per lane.
      code.push(...get(AT[0]!), I32_LOAD, 2, ...uleb(round * 4), ...v(simd.splat));
      for (let lane = 1; lane < 4; lane++) code.push(...get(AT[lane]!), I32_LOAD, 2, ...uleb(round * 4), ...v(simd.replaceLane), lane);
      code.push(...byteSwap(), ...set(w));
    } else {
      // W[i] = W[i-16] + σ0(W[i-15]) + W[i-7] + σ1(W[i-2]); W[i-16] is the slot being replaced.
      const x = W0 + ((round - 15) % 16);
      const y = W0 + ((round - 2) % 16);
      code.push(...get(w), ...rotr(x, 7), ...rotr(x, 18), ...v(simd.xor), ...get(x), ...i32(3), ...v(simd.shrU), ...v(simd.xor), ...v(simd.add));
      code.push(...get(W0 + ((round - 7) % 16)), ...v(simd.add));
      code.push(...rotr(y, 17), ...rotr(y, 19), ...v(simd.xor), ...get(y), ...i32(10), ...v(simd.shrU), ...v(simd.xor), ...v(simd.add), ...set(w));
    }
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + W[i], with Ch = g ^ (e & (f ^ g)).
    code.push(...get(h), ...rotr(e, 6), ...rotr(e, 11), ...v(simd.xor), ...rotr(e, 25), ...v(simd.xor), ...v(simd.add));
    code.push(...get(g), ...get(e), ...get(f), ...get(g), ...v(simd.xor), ...v(simd.and), ...v(simd.xor), ...v(simd.add));
    code.push(...splatConst(SHA256_ROUND_CONSTANTS[round]!), ...v(simd.add), ...get(w), ...v(simd.add), ...set(T1));
    // d += T1; h = T1 + Σ0(a) + Maj(a, b, c), with Maj = (a & b) | (c & (a | b)).
    code.push(...get(d), ...get(T1), ...v(simd.add), ...set(d));
    code.push(...get(T1), ...rotr(a, 2), ...rotr(a, 13), ...v(simd.xor), ...rotr(a, 22), ...v(simd.xor), ...v(simd.add));
    code.push(...get(a), ...get(b), ...v(simd.and), ...get(c), ...get(a), ...get(b), ...v(simd.or), ...v(simd.and), ...v(simd.or), ...v(simd.add), ...set(h));
  }
  // 64 rounds are eight whole turns of the names: A..H hold a..h again.
  names.forEach((work, i) => code.push(...get(STATE[i]!), ...get(work), ...v(simd.add), ...set(STATE[i]!)));
  for (const at of AT) code.push(...get(at), ...i32(64), I32_ADD, ...set(at));
  code.push(...get(BLOCKS), ...i32(1), I32_SUB, LOCAL_TEE, BLOCKS, BR_IF, 0, END);
  STATE.forEach((state, j) => code.push(...get(OUT), ...get(state), ...byteSwap(), ...v(simd.store), 4, ...uleb(16 * j)));
  return [...vector([[VECTOR_LOCALS, V128]]), ...code, END];
}

/** The module's bytes. */
export function sha256WasmModule(): Uint8Array<ArrayBuffer> {
  const body = hash4Body();
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), 0]])), // type: (i32 × 6) -> ()
    ...section(3, vector([[0]])), // function 0 has type 0
    ...section(5, vector([[0x00, 1]])), // one memory, at least one page
    ...section(7, vector([[...name('memory'), 0x02, 0], [...name('hash4'), 0x00, 0]])),
    ...section(10, vector([[...uleb(body.length), ...body]])),
  ]);
}
