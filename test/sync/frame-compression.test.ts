import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { PeerConnection } from '../../src/net/transport.js';
import {
  COMPRESSED_FRAME_MARKER,
  COMPRESS_MIN_BYTES,
  compressFrame,
  decompressFrame,
  encodeSyncMessage,
  isCompressedFrame,
} from '../../src/sync/index.js';
import { canonical, eventsOf, link, registerVoters, syncPeer, throughHooks, until } from './sync-peers.js';
import { expectSome, expectNone } from '../expectations.js';

const decoder = new TextDecoder();

/** What crossed one link, in the order it was handed to the connection, from the wrapped engine's side. */
interface Wire {
  readonly sent: Uint8Array[];
  readonly received: Uint8Array[];
}

/** Records the link's frames; with `protocols`, the wrapped engine's hello offers only those. */
function recorded(wire: Wire, protocols?: number[]) {
  const rewrite = (bytes: Uint8Array): Uint8Array => {
    if (!protocols || isCompressedFrame(bytes)) return bytes;
    const frame = JSON.parse(decoder.decode(bytes));
    if (frame.t !== 'hello') return bytes;
    return new TextEncoder().encode(JSON.stringify({ ...frame, protocols }));
  };
  return (connection: PeerConnection): PeerConnection =>
    throughHooks(
      connection,
      (bytes) => {
        const out = rewrite(bytes);
        wire.sent.push(out);
        return out;
      },
      (bytes) => {
        wire.received.push(bytes);
        return rewrite(bytes);
      },
    );
}

const typeOf = (bytes: Uint8Array): string => (isCompressedFrame(bytes) ? 'compressed' : JSON.parse(decoder.decode(bytes)).t);

describe('compressed frames (sync protocol 3)', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('round-trip, and a real whole-model delta shrinks several times', async () => {
    const alice = syncPeer(network, 'alice');
    registerVoters(alice, 2_000);
    const bytes = encodeSyncMessage({ t: 'delta', seq: 1, part: 1, parts: 1, batch: alice.model.getDelta(new VersionVector()) }, 'compact');
    const frame = await compressFrame(bytes);
    expect(frame[0]).to.equal(COMPRESSED_FRAME_MARKER);
    expect(frame.length).to.be.lessThan(bytes.length / 3);
    expect(await decompressFrame(frame, bytes.length)).to.deep.equal(bytes);
  });

  it('refuses a frame that inflates past the limit, or does not inflate, without throwing', async () => {
    const bomb = await compressFrame(new Uint8Array(8 * 1024 * 1024));
    expect(bomb.length).to.be.lessThan(64 * 1024);
    expect(await decompressFrame(bomb, 1024 * 1024)).to.deep.equal({ error: `compressed frame inflates past ${1024 * 1024} bytes` });
    expect(await decompressFrame(new Uint8Array([COMPRESSED_FRAME_MARKER, 1, 2, 3, 4, 5]), 1024)).to.deep.equal({ error: 'compressed frame does not inflate' });
  });

  it('two engines compress large frames only, keep every message in order, and converge', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    registerVoters(alice, 3_000);
    const wire: Wire = { sent: [], received: [] };
    await link(alice, bob, recorded(wire));
    // Sent while the large delta is still being compressed: it must not overtake it.
    alice.engine.setDisplayName('Alice');
    alice.model.registerVoter({ name: 'Late', voterNumber: 'LATE-1' });
    await until(() => canonical(bob) === canonical(alice));
    const types = wire.sent.map(typeOf);
    expect(types).to.include('compressed');
    const first = types.indexOf('compressed');
    expect(types.indexOf('info')).to.be.greaterThan(first);
    for (const bytes of wire.sent) if (!isCompressedFrame(bytes)) expect(bytes.length).to.be.lessThan(COMPRESS_MIN_BYTES);
    expect(eventsOf(bob, 'peer-info').map((event) => event.name)).to.deep.equal(['Alice']);
    expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
    expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
  });

  it('a peer that speaks only protocol 2 gets plain frames', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    registerVoters(alice, 3_000);
    const wire: Wire = { sent: [], received: [] };
    // Bob's side is the old one: its hello offers 1 and 2, and alice must not compress to it.
    await link(bob, alice, recorded(wire, [1, 2]));
    await until(() => canonical(bob) === canonical(alice));
    expectNone(wire.received, isCompressedFrame);
    expectSome(wire.received, (bytes) => bytes.length >= COMPRESS_MIN_BYTES);
  });

  it('a compressed frame where protocol 3 was not agreed is an offence and changes nothing', async () => {
    const alice = syncPeer(network, 'alice', { maxMessageBytes: 256 * 1024 });
    const bob = syncPeer(network, 'bob');
    const wire: Wire = { sent: [], received: [] };
    await link(bob, alice, recorded(wire, [1, 2]));
    await until(() => eventsOf(alice, 'peer-ready').length === 1);
    const before = canonical(alice);
    const connection = (bob.engine as unknown as { peers: Map<string, { connection: PeerConnection }> }).peers.get(alice.id)!.connection;
    await connection.send(await compressFrame(new TextEncoder().encode(JSON.stringify({ t: 'info', name: 'x' }))));
    await until(() => eventsOf(alice, 'peer-offence').length === 1);
    expect(eventsOf(alice, 'peer-offence')[0]!.reason).to.equal('a compressed frame, but protocol 3 was not agreed');
    expect(canonical(alice)).to.equal(before);
  });

  it('a frame inflating past the size limit is refused between protocol-3 peers', async () => {
    const alice = syncPeer(network, 'alice', { maxMessageBytes: 256 * 1024 });
    const bob = syncPeer(network, 'bob');
    await link(bob, alice);
    await until(() => eventsOf(alice, 'peer-ready').length === 1);
    const before = canonical(alice);
    const connection = (bob.engine as unknown as { peers: Map<string, { connection: PeerConnection }> }).peers.get(alice.id)!.connection;
    await connection.send(await compressFrame(new Uint8Array(4 * 1024 * 1024).fill(0x20)));
    await until(() => eventsOf(alice, 'peer-offence').length === 1);
    expect(eventsOf(alice, 'peer-offence')[0]!.reason).to.equal(`compressed frame inflates past ${256 * 1024} bytes`);
    expect(canonical(alice)).to.equal(before);
  });
});
