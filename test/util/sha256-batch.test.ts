import { expect } from 'chai';
import { sha256 } from '../../src/util/sha256.js';
import { Sha256Batch } from '../../src/util/sha256-batch.js';

// Messages of every padding case (empty, 55/56/63/64 bytes at block edges), two-block items, the
// longest message hashed four at a time (503 bytes) and longer ones hashed one at a time.
const LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 100, 119, 120, 127, 128, 200, 503, 504, 1000, 4600];

function message(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 3)) & 0xff;
  return bytes;
}

async function webCryptoDigest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

describe('Sha256Batch (SHA-256 of many messages, four at a time in WebAssembly)', () => {
  for (const wasm of [true, false])
    it(`gives WebCrypto's digests for messages of every length, interleaved, ${wasm ? 'in WebAssembly' : 'in JavaScript'}`, async () => {
      const batch = new Sha256Batch(32, { wasm });
      expect(batch.wasm).to.equal(wasm);
      const messages: Uint8Array[] = [];
      // Lengths mixed so that groups of one block count fill while others wait, and some stay partial.
      for (let seed = 0; seed < 7; seed++) for (const length of LENGTHS) messages.push(message(length + (seed % 2), seed));
      const out = new Uint8Array(messages.length * 32 + 5);
      // One scratch buffer reused for every message, as the item encoder does: `add` must copy it.
      const scratch = new Uint8Array(5000);
      messages.forEach((bytes, i) => {
        scratch.set(bytes);
        batch.add(scratch, bytes.length, out, 5 + i * 32);
        scratch.fill(0xee);
      });
      batch.flush();
      for (const [i, bytes] of messages.entries()) {
        const want = await webCryptoDigest(bytes);
        expect([...out.subarray(5 + i * 32, 5 + (i + 1) * 32)], `message ${i} of ${bytes.length} bytes`).to.deep.equal([...want]);
      }
      expect([...out.subarray(0, 5)]).to.deep.equal([0, 0, 0, 0, 0]);
    });

  it('writes only the first digestBytes bytes, and the JavaScript hash agrees', async () => {
    const batch = new Sha256Batch(16);
    const out = new Uint8Array(48).fill(0xaa);
    const bytes = message(100, 3);
    batch.add(bytes, bytes.length, out, 16);
    batch.flush();
    const want = await webCryptoDigest(bytes);
    expect([...out.subarray(16, 32)]).to.deep.equal([...want.subarray(0, 16)]);
    expect([...out.subarray(0, 16)].every((byte) => byte === 0xaa)).to.equal(true);
    expect([...out.subarray(32)].every((byte) => byte === 0xaa)).to.equal(true);
    expect([...sha256(bytes)]).to.deep.equal([...want]);
  });

  it('refuses a digest length it cannot give', () => {
    expect(() => new Sha256Batch(0)).to.throw(RangeError);
    expect(() => new Sha256Batch(33)).to.throw(RangeError);
  });
});
