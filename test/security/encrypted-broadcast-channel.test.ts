import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { BroadcastChannelTransport } from '../../src/net/broadcast-channel-transport.js';
import { LocalNetworkDiscovery } from '../../src/net/local-network-discovery.js';
import type { DiscoveryEvent } from '../../src/net/peer-discovery.js';
import { decodeBinaryJson, encodeBinaryJson } from '../../src/security/binary-json.js';
import {
  EncryptedBroadcastChannel,
  encryptedBroadcastChannel,
  type BroadcastRejection,
} from '../../src/security/encrypted-broadcast-channel.js';
import { deriveRoomKeys, generateRoomSecret, type RoomKeys } from '../../src/security/room-keys.js';
import { eventually as until } from '../eventually.js';

const alice = asNodeId('alice');
const bob = asNodeId('bob');
const quiet = { warn: () => undefined };
let rooms = 0;
const freshRoom = () => `enc-${Date.now().toString(36)}-${++rooms}-${Math.random().toString(36).slice(2, 8)}`;

describe('binary JSON', () => {
  it('round-trips JSON values with byte arrays anywhere', () => {
    const value = {
      t: 'data',
      seq: 3,
      data: new Uint8Array([1, 2, 3, 255]),
      list: [new Uint8Array(0), 'x', null, { deep: new Uint8Array([9]) }],
      $u8: 'an application key that looks like the tag',
      $$x: 1,
      __proto__x: true,
    };
    const decoded = decodeBinaryJson(encodeBinaryJson(value));
    expect(decoded).to.deep.equal({ value });
  });

  it('copies byte arrays (a subarray too) so the caller may reuse them', () => {
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const encoded = encodeBinaryJson({ data: buffer.subarray(2, 4) });
    buffer.fill(9);
    expect(decodeBinaryJson(encoded)).to.deep.equal({ value: { data: new Uint8Array([2, 3]) } });
  });

  it('refuses values it cannot carry', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [new Map(), new ArrayBuffer(2), () => 1, new Date(0), cyclic]) {
      expect(() => encodeBinaryJson(value)).to.throw(TypeError);
    }
  });

  it('returns errors for malformed input and never throws', () => {
    const json = (text: string, tail: number[] = []) => {
      const body = new TextEncoder().encode(text);
      const bytes = new Uint8Array(4 + body.length + tail.length);
      new DataView(bytes.buffer).setUint32(0, body.length);
      bytes.set(body, 4);
      bytes.set(tail, 4 + body.length);
      return bytes;
    };
    const cases = [
      new Uint8Array([0, 0]),
      new Uint8Array([0, 0, 1, 0, 1]),
      json('{'),
      json('{"$u8":[0,5]}', [1, 2]),
      json('{"$u8":[-1,1]}', [1, 2]),
      json('{"$u8":"x"}'),
      json('{"$other":1}'),
      json('['.repeat(100) + ']'.repeat(100)),
    ];
    for (const bytes of cases) expect(decodeBinaryJson(bytes)).to.have.property('error');
    expect(decodeBinaryJson(json('{"__proto__":{"polluted":1}}'))).to.satisfy(
      (result: { value: object }) => Object.getPrototypeOf(result.value) === Object.prototype && !('polluted' in {}),
    );
  });
});

describe('encryptedBroadcastChannel', () => {
  let keys: RoomKeys;
  const cleanups: Array<() => void | Promise<void>> = [];

  beforeEach(async () => {
    keys = await deriveRoomKeys(freshRoom(), generateRoomSecret());
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  function channel(name: string, roomKeys: RoomKeys, rejected: BroadcastRejection[] = []) {
    const Impl = encryptedBroadcastChannel(roomKeys, { onRejected: (r) => rejected.push(r), logger: quiet });
    const made = new Impl(name) as EncryptedBroadcastChannel;
    cleanups.push(() => made.close());
    return made;
  }

  it('carries messages between two channels in order, sealed on the wire', async () => {
    const name = `chan-${keys.topic}`;
    const sender = channel(name, keys);
    const receiver = channel(name, keys);
    const spy = new BroadcastChannel(name);
    cleanups.push(() => spy.close());
    const raw: unknown[] = [];
    spy.onmessage = (event) => raw.push(event.data);
    const got: unknown[] = [];
    receiver.onmessage = (event) => got.push(event.data);
    const sent = Array.from({ length: 40 }, (_, i) => ({ i, text: 'secret text', data: new Uint8Array([i, i + 1]) }));
    for (const message of sent) sender.postMessage(message);
    await until(() => got.length === sent.length);
    expect(got).to.deep.equal(sent);
    expect(raw).to.have.length(sent.length);
    const rawBytes = (raw[0] as { ct: Uint8Array }).ct;
    expect(new TextDecoder().decode(rawBytes)).not.to.contain('secret text');
  });

  it('drops and reports messages sealed with another key, plain ones, and tampered ones', async () => {
    const name = `chan-${keys.topic}`;
    const rejected: BroadcastRejection[] = [];
    const receiver = channel(name, keys, rejected);
    const got: unknown[] = [];
    receiver.onmessage = (event) => got.push(event.data);
    const wrong = channel(name, await deriveRoomKeys('other-room', generateRoomSecret()));
    wrong.postMessage({ t: 'hello', from: 'mallory' });
    await wrong.flushed();
    const plain = new BroadcastChannel(name);
    cleanups.push(() => plain.close());
    plain.postMessage({ v: 1, t: 'hello', from: 'mallory' });
    const spy = new BroadcastChannel(name);
    cleanups.push(() => spy.close());
    const captured: Array<{ iv: Uint8Array; ct: Uint8Array; kid: string; v: 1 }> = [];
    spy.onmessage = (event) => captured.push(event.data);
    const honest = channel(name, keys);
    honest.postMessage({ t: 'hello', from: 'alice' });
    await until(() => got.length === 1 && captured.length === 1);
    const ct = captured[0]!.ct.slice();
    ct[ct.length - 1]! ^= 1;
    plain.postMessage({ ...captured[0], ct });
    await until(() => rejected.length === 3);
    expect(got).to.deep.equal([{ t: 'hello', from: 'alice' }]);
    expect(rejected.map((r) => r.kind)).to.deep.equal(['wrong-key', 'not-sealed', 'tampered']);
    expect(rejected[0]!.channel).to.equal(name);
  });

  it('binds messages to their channel name', async () => {
    const spy = new BroadcastChannel(`a-${keys.topic}`);
    const relay = new BroadcastChannel(`b-${keys.topic}`);
    cleanups.push(() => spy.close(), () => relay.close());
    const rejected: BroadcastRejection[] = [];
    const receiver = channel(`b-${keys.topic}`, keys, rejected);
    const got: unknown[] = [];
    receiver.onmessage = (event) => got.push(event.data);
    spy.onmessage = (event) => relay.postMessage(event.data);
    channel(`a-${keys.topic}`, keys).postMessage({ t: 'hello' });
    await until(() => rejected.length === 1);
    expect(rejected[0]!.kind).to.equal('tampered');
    expect(got).to.deep.equal([]);
  });

  it('behaves like BroadcastChannel when closed or given an uncloneable value', async () => {
    const made = channel(`c-${keys.topic}`, keys);
    expect(() => made.postMessage(new Map())).to.throw(DOMException).with.property('name', 'DataCloneError');
    made.close();
    expect(() => made.postMessage({})).to.throw(DOMException).with.property('name', 'InvalidStateError');
  });

  it('lets two LocalNetworkDiscovery instances holding the room key find each other', async () => {
    const Impl = encryptedBroadcastChannel(keys, { logger: quiet });
    const events: DiscoveryEvent[] = [];
    const a = new LocalNetworkDiscovery({ room: keys.topic, nodeId: alice, BroadcastChannelImpl: Impl, logger: quiet });
    const b = new LocalNetworkDiscovery({ room: keys.topic, nodeId: bob, BroadcastChannelImpl: Impl, logger: quiet });
    cleanups.push(() => a.stop(), () => b.stop());
    b.onEvent((event) => events.push(event));
    await a.start();
    await b.start();
    await until(async () => (await a.discoverPeers()).length === 1 && events.length === 1);
    expect(events[0]).to.deep.include({ type: 'peer-discovered' });
    expect((await a.discoverPeers()).map((p) => p.nodeId)).to.deep.equal([bob]);
    // Signals ride the sealed channel too.
    const signals: unknown[] = [];
    b.onSignal((from, data) => signals.push([from, data]));
    a.sendSignal(bob, { kind: 'request' });
    await until(() => signals.length === 1);
    expect(signals).to.deep.equal([[alice, { kind: 'request' }]]);
  });

  it('keeps tabs with another room key apart and reports the mismatch', async () => {
    const rejectedByA: BroadcastRejection[] = [];
    const rejectedByB: BroadcastRejection[] = [];
    const outdated = await deriveRoomKeys('x', generateRoomSecret());
    const a = new LocalNetworkDiscovery({
      room: keys.topic,
      nodeId: alice,
      BroadcastChannelImpl: encryptedBroadcastChannel(keys, { onRejected: (r) => rejectedByA.push(r), logger: quiet }),
      logger: quiet,
    });
    const b = new LocalNetworkDiscovery({
      room: keys.topic,
      nodeId: bob,
      BroadcastChannelImpl: encryptedBroadcastChannel(outdated, { onRejected: (r) => rejectedByB.push(r), logger: quiet }),
      logger: quiet,
    });
    cleanups.push(() => a.stop(), () => b.stop());
    await a.start();
    await b.start();
    await until(() => rejectedByA.length >= 1 && rejectedByB.length >= 1);
    expect(rejectedByA[0]!.kind).to.equal('wrong-key');
    expect(rejectedByB[0]!.kind).to.equal('wrong-key');
    expect(await a.discoverPeers()).to.deep.equal([]);
    expect(await b.discoverPeers()).to.deep.equal([]);
  });

  it('carries a BroadcastChannelTransport connection with binary messages', async () => {
    const Impl = encryptedBroadcastChannel(keys, { logger: quiet });
    const a = new BroadcastChannelTransport({ localId: alice, room: keys.topic, BroadcastChannelImpl: Impl, logger: quiet });
    const b = new BroadcastChannelTransport({ localId: bob, room: keys.topic, BroadcastChannelImpl: Impl, logger: quiet });
    cleanups.push(() => a.close(), () => b.close());
    const received: Uint8Array[] = [];
    b.onConnection((connection) => connection.onMessage((message) => received.push(message)));
    const connection = await a.connect(bob);
    const messages = Array.from({ length: 20 }, (_, i) => crypto.getRandomValues(new Uint8Array(100 + i * 1000)));
    for (const message of messages) await connection.send(message);
    await until(() => received.length === messages.length);
    expect(received).to.deep.equal(messages);
  });
});
