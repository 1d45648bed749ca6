import { expect } from 'chai';
import { isRoom } from '../../src/net/wire-guards.js';
import { fromBase64Url, toBase64Url } from '../../src/util/base64url.js';
import {
  RoomKeyError,
  deriveRoomKeys,
  generateRoomSecret,
  isRoomSecret,
} from '../../src/security/room-keys.js';
import { open, seal } from '../../src/security/sealed-box.js';

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};

describe('room keys', () => {
  it('makes secrets of 256 random bits as base64url', () => {
    const a = generateRoomSecret();
    const b = generateRoomSecret();
    expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(fromBase64Url(a)).to.have.length(32);
    expect(a).not.to.equal(b);
    expect(isRoomSecret(a), `${a} is a room secret`).to.equal(true);
  });

  it('derives the same topic and key id from the same room and secret', async () => {
    const secret = generateRoomSecret();
    const first = await deriveRoomKeys('board-2024', secret);
    const second = await deriveRoomKeys('board-2024', secret);
    expect(first.topic).to.equal(second.topic);
    expect(first.keyId).to.equal(second.keyId);
    const sealed = await seal(first, { hello: 'bob' });
    expect(await open(second, sealed)).to.deep.equal({ value: { hello: 'bob' } });
  });

  it('gives a topic that is a valid room name and hides the room id', async () => {
    const keys = await deriveRoomKeys('board-2024', generateRoomSecret());
    expect(isRoom(keys.topic), `the topic ${keys.topic} is a room`).to.equal(true);
    expect(keys.topic).not.to.contain('board');
    expect(keys.topic).to.have.length(32);
  });

  it('derives the topic from the secret too: the room id alone, or another key, names another topic', async () => {
    const secret = generateRoomSecret();
    const room = await deriveRoomKeys('board-2024', secret);
    const rotated = await deriveRoomKeys('board-2024', generateRoomSecret());
    const otherRoom = await deriveRoomKeys('board-2025', secret);
    expect(new Set([room.topic, rotated.topic, otherRoom.topic]).size).to.equal(3);
    expect(rotated.keyId).not.to.equal(room.keyId);
  });

  it('derives unrelated keys for different secrets and for one secret in different rooms', async () => {
    const secret = generateRoomSecret();
    const a = await deriveRoomKeys('room-a', secret);
    const b = await deriveRoomKeys('room-b', secret);
    const c = await deriveRoomKeys('room-a', generateRoomSecret());
    expect(new Set([a.keyId, b.keyId, c.keyId]).size).to.equal(3);
    const sealed = await seal(a, 'x');
    expect(await open(b, { ...sealed, kid: b.keyId })).to.have.property('error', 'tampered');
    expect(await open(c, { ...sealed, kid: c.keyId })).to.have.property('error', 'tampered');
  });

  it('separates topic, key id and key material', async () => {
    const keys = await deriveRoomKeys('room-a', generateRoomSecret());
    expect(keys.sealKey.extractable, 'the seal key is extractable').to.equal(false);
    expect(keys.sealKey.algorithm).to.deep.include({ name: 'AES-GCM', length: 256 });
    expect(keys.sealKey.usages.slice().sort()).to.deep.equal(['decrypt', 'encrypt']);
    expect(keys.keyId).not.to.equal(keys.topic.slice(0, keys.keyId.length));
    expect(await rejection(crypto.subtle.exportKey('raw', keys.sealKey))).to.be.instanceOf(DOMException);
  });

  it('refuses missing, short, long and non-base64url secrets with a clear error', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['', /missing room key/],
      [undefined, /missing room key/],
      ['not base64!', /not base64url/],
      [toBase64Url(new Uint8Array(15)), /15 bytes/],
      [toBase64Url(new Uint8Array(65)), /65 bytes/],
    ];
    for (const [secret, message] of cases) {
      const error = await rejection(deriveRoomKeys('room-a', secret as string));
      expect(error).to.be.instanceOf(RoomKeyError);
      expect(error.message).to.match(message);
      if (typeof secret === 'string') expect(isRoomSecret(secret), `${secret} is a room secret`).to.equal(false);
    }
    expect(isRoomSecret(toBase64Url(new Uint8Array(16))), '16 zero bytes make a room secret').to.equal(true);
  });

  it('refuses invalid room ids', async () => {
    for (const roomId of ['', 'has space', 'a/b', 'x'.repeat(129), 42]) {
      const error = await rejection(deriveRoomKeys(roomId as string, generateRoomSecret()));
      expect(error).to.be.instanceOf(RoomKeyError);
      expect(error.message).to.match(/invalid room id/);
    }
  });
});

describe('base64url', () => {
  it('round-trips every length and refuses non-canonical text', () => {
    for (let length = 0; length < 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(fromBase64Url(toBase64Url(bytes))).to.deep.equal(bytes);
    }
    expect(fromBase64Url('AB')).to.equal(undefined); // stray low bits
    expect(fromBase64Url('AA==')).to.equal(undefined);
    expect(fromBase64Url('A')).to.equal(undefined);
    expect(fromBase64Url('a+b/')).to.equal(undefined);
  });
});
