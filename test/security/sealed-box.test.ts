import { expect } from 'chai';
import { fromBase64Url, toBase64Url } from '../../src/util/base64url.js';
import { deriveRoomKeys, generateRoomSecret } from '../../src/security/room-keys.js';
import { IV_BYTES, open, openBytes, seal, sealBytes } from '../../src/security/sealed-box.js';

const keysFor = (room = 'room-a', secret = generateRoomSecret()) => deriveRoomKeys(room, secret);

function flipByte(text: string, index: number): string {
  const bytes = fromBase64Url(text)!;
  bytes[index % bytes.length]! ^= 0x01;
  return toBase64Url(bytes);
}

describe('sealed box', () => {
  it('round-trips JSON values with the same aad', async () => {
    const keys = await keysFor();
    for (const value of [null, 0, 'text', [1, 'two', { three: 3 }], { sdp: 'v=0\r\n', nested: { ok: true } }]) {
      const sealed = await seal(keys, value, 'alice>bob');
      expect(await open(keys, sealed, 'alice>bob')).to.deep.equal({ value });
    }
  });

  it('is JSON itself and hides the plaintext', async () => {
    const keys = await keysFor();
    const sealed = await seal(keys, { sdp: 'secret-sdp-text' });
    const text = JSON.stringify(sealed);
    expect(text).not.to.contain('secret-sdp-text');
    expect(await open(keys, JSON.parse(text))).to.deep.equal({ value: { sdp: 'secret-sdp-text' } });
  });

  it('uses a fresh 96-bit IV for every message', async () => {
    const keys = await keysFor();
    const ivs = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const sealed = await seal(keys, 'same');
      expect(fromBase64Url(sealed.iv)).to.have.length(IV_BYTES);
      ivs.add(sealed.iv);
      cts.add(sealed.ct);
    }
    expect(ivs.size).to.equal(50);
    expect(cts.size).to.equal(50);
  });

  it('refuses a tampered ciphertext, iv or tag', async () => {
    const keys = await keysFor();
    const sealed = await seal(keys, { sdp: 'v=0' });
    const ctLength = fromBase64Url(sealed.ct)!.length;
    for (const index of [0, 3, ctLength - 1]) {
      expect(await open(keys, { ...sealed, ct: flipByte(sealed.ct, index) })).to.have.property('error', 'tampered');
    }
    expect(await open(keys, { ...sealed, iv: flipByte(sealed.iv, 5) })).to.have.property('error', 'tampered');
    // Cut at every length: whatever the base64 looks like then, it is tampering.
    for (let cut = 1; cut < 8; cut++) {
      expect(await open(keys, { ...sealed, ct: sealed.ct.slice(0, -cut) })).to.have.property('error', 'tampered');
    }
    expect(await open(keys, { ...sealed, ct: 'not base64!' })).to.have.property('error', 'tampered');
  });

  it('refuses a message opened with another aad (redirected or re-attributed)', async () => {
    const keys = await keysFor();
    const sealed = await seal(keys, 'offer', 'alice>bob');
    expect(await open(keys, sealed, 'alice>carol')).to.have.property('error', 'tampered');
    expect(await open(keys, sealed, 'mallory>bob')).to.have.property('error', 'tampered');
    expect(await open(keys, sealed)).to.have.property('error', 'tampered');
  });

  it('tells a wrong key from tampering', async () => {
    const keys = await keysFor();
    const other = await keysFor();
    const sealed = await seal(keys, 'x');
    expect(await open(other, sealed)).to.have.property('error', 'wrong-key');
    // A relay rewriting the key id only turns it into a failed check.
    expect(await open(other, { ...sealed, kid: other.keyId })).to.have.property('error', 'tampered');
  });

  it('refuses things that are not sealed messages without throwing', async () => {
    const keys = await keysFor();
    const sealed = await seal(keys, 'x');
    const junk: unknown[] = [
      null,
      undefined,
      'text',
      42,
      [],
      { type: 'offer', sdp: 'v=0' },
      { ...sealed, v: 2 },
      { ...sealed, kid: undefined },
      { ...sealed, iv: 7 },
      { ...sealed, ct: 'not base64!' },
      { ...sealed, iv: toBase64Url(new Uint8Array(16)) },
      { ...sealed, ct: 'A'.repeat(10_000) },
    ];
    for (const value of junk) {
      const result = await open(keys, value, '', 1024);
      expect(result, JSON.stringify(value)).to.have.property('error');
      expect(result).not.to.have.property('value');
    }
  });

  it('keeps a sealed value that looks like a failure apart from a failure', async () => {
    const keys = await keysFor();
    const value = { error: 'tampered', reason: 'I am data' };
    expect(await open(keys, await seal(keys, value))).to.deep.equal({ value });
  });

  it('seals and opens bytes', async () => {
    const keys = await keysFor();
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    const sealed = await sealBytes(keys, bytes, 'chan');
    expect(await openBytes(keys, sealed, 'chan')).to.deep.equal(bytes);
    expect(await openBytes(keys, sealed, 'other')).to.have.property('error', 'tampered');
    const tampered = sealed.ct.slice();
    tampered[10]! ^= 0x80;
    expect(await openBytes(keys, { ...sealed, ct: tampered }, 'chan')).to.have.property('error', 'tampered');
    expect(await openBytes(keys, { ...sealed, ct: 'text' }, 'chan')).to.have.property('error', 'tampered');
    expect(await openBytes(keys, sealed, 'chan', 999)).to.have.property('error', 'tampered');
  });

  it('refuses values JSON cannot carry', async () => {
    const keys = await keysFor();
    let thrown: unknown;
    try {
      await seal(keys, undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(TypeError);
  });
});
