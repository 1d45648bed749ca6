import { expect } from 'chai';
import { decodeAscii, decodeUtf8, decodeUtf8Lenient, encodeUtf8 } from '../../src/util/utf8.js';

describe('UTF-8 (the one encoder and decoders)', () => {
  it('round-trips text beyond ASCII and the basic plane', () => {
    const text = 'Zoë votes 🗳 at ½ past';
    expect([...encodeUtf8('é')]).to.deep.equal([0xc3, 0xa9]);
    expect(decodeUtf8(encodeUtf8(text))).to.equal(text);
    expect(decodeUtf8Lenient(encodeUtf8(text))).to.equal(text);
  });

  it('refuses bytes that are not UTF-8 when decoding strictly, and replaces them when decoding leniently', () => {
    const broken = Uint8Array.of(0x61, 0xc3, 0x28, 0x62);
    expect(() => decodeUtf8(broken)).to.throw(TypeError);
    expect(decodeUtf8Lenient(broken)).to.equal('a\ufffd(b');
  });

  it('reads ASCII ids byte by byte: anything past 0x7f is no id, and a BOM is kept, not dropped', () => {
    expect(decodeAscii(encodeUtf8('node-1_A'))).to.equal('node-1_A');
    expect(decodeAscii(Uint8Array.of(0x61, 0x80))).to.equal(undefined);
    expect(decodeAscii(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).to.equal(undefined);
    expect(decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).to.equal('a');
  });
});
