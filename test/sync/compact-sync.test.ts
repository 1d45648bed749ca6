import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { PACK_MIN_CHANGES, packBatch } from '../../src/sync/index.js';
import { MODEL, canonical, eventsOf, inSyncWith, link, registerVoters, settle, statusOf, syncPeer, throughHooks } from './sync-peers.js';
import { expectSome, expectEvery } from '../expectations.js';

type Frame = Record<string, unknown>;
const encoder = new TextEncoder();
const parse = (bytes: Uint8Array): Frame => JSON.parse(new TextDecoder().decode(bytes)) as Frame;

/** Frames seen on one link, from the wrapped engine's side. */
interface Tap {
  readonly sent: Frame[];
  readonly received: Frame[];
}

/**
 * Stands between an engine and its end of a link, recording every frame both ways. With
 * `protocol1` it makes that engine an old peer: its hello offers only protocol 1, it sees the
 * other side offering only what it knows, and a packed delta reaching it is recorded as one it
 * could not have read.
 */
function tapped(tap: Tap, options: { protocol1?: boolean; unreadable?: Frame[] } = {}) {
  const asOld = (bytes: Uint8Array): Uint8Array => {
    const frame = parse(bytes);
    if (!options.protocol1 || frame.t !== 'hello') return bytes;
    return encoder.encode(JSON.stringify({ ...frame, protocols: (frame.protocols as number[]).filter((p) => p === 1) }));
  };
  return (connection: PeerConnection): PeerConnection =>
    throughHooks(
      connection,
      (bytes) => {
        const out = asOld(bytes);
        tap.sent.push(parse(out));
        return out;
      },
      (bytes) => {
        const frame = asOld(bytes);
        tap.received.push(parse(frame));
        if (options.protocol1 && 'packed' in parse(frame)) options.unreadable?.push(parse(frame));
        return frame;
      },
    );
}

const deltas = (frames: Frame[]) => frames.filter((frame) => frame.t === 'delta');
const tap = (): Tap => ({ sent: [], received: [] });

/** Between protocol-2 peers a delta is packed, unless it is too small for packing to pay. */
function packedUnlessSmall(frame: Frame): boolean {
  // A last part may also carry the sender's digest.
  if ('packed' in frame) return Object.keys(frame).filter((key) => key !== 'digest').join() === 't,seq,part,parts,packed';
  const batch = frame.batch as { changes: unknown[] } | undefined;
  return batch !== undefined && batch.changes.length < PACK_MIN_CHANGES;
}

describe('SynchronizationEngine: compact deltas (protocol 2) and older peers', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('two engines agree on protocol 2 and send every delta packed, also in parts', async () => {
    const alice = syncPeer(network, 'alice', { maxChangesPerMessage: PACK_MIN_CHANGES + 2 });
    const bob = syncPeer(network, 'bob');
    registerVoters(alice, 40);
    registerVoters(bob, 3, 'B');
    const frames = tap();
    await link(alice, bob, tapped(frames));
    await settle();
    expect(canonical(bob)).to.equal(canonical(alice));
    alice.model.createElection({ title: 'Mayor ünïcødé 🗳️' });
    bob.model.registerVoter({ name: 'Late "quoted" \\ voter', voterNumber: 'B-late' });
    await settle();
    expect(canonical(bob)).to.equal(canonical(alice));
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
    const sent = deltas(frames.sent);
    const received = deltas(frames.received);
    expect(sent.length).to.be.greaterThan(3);
    expect(received.length).to.be.greaterThanOrEqual(2);
    expectEvery([...sent, ...received], packedUnlessSmall);
    expect(sent.filter((frame) => 'packed' in frame).length).to.be.greaterThan(2);
    expectSome(sent, (frame) => (frame.parts as number) > 1);
    expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
    expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
  });

  it('an old-protocol peer still syncs both ways, in JSON', async () => {
    const alice = syncPeer(network, 'alice', { maxChangesPerMessage: 7 });
    const bob = syncPeer(network, 'bob');
    registerVoters(alice, 10);
    registerVoters(bob, 10, 'B');
    const frames = tap();
    const unreadable: Frame[] = [];
    await link(alice, bob, tapped(frames, { protocol1: true, unreadable }));
    await settle();
    alice.model.createElection({ title: 'Old' });
    bob.model.createElection({ title: 'New' });
    await settle();
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(alice.model.entities('Election').count).to.equal(2);
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
    expect(frames.sent.find((frame) => frame.t === 'hello')).to.deep.include({ protocols: [1] });
    expect(unreadable).to.deep.equal([]);
    const all = [...deltas(frames.sent), ...deltas(frames.received)];
    expect(all.length).to.be.greaterThan(3);
    for (const frame of all) expect(Object.keys(frame).filter((key) => key !== 'digest')).to.deep.equal(['t', 'seq', 'part', 'parts', 'batch']);
    expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
  });

  it('in a mixed mesh each link speaks what both ends know, and changes cross both', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    const carol = syncPeer(network, 'carol');
    const old = tap();
    const unreadable: Frame[] = [];
    const modern = tap();
    await link(alice, bob, tapped(old, { protocol1: true, unreadable }));
    await link(carol, bob, tapped(modern));
    await settle();
    alice.model.createElection({ title: 'From the old peer' });
    carol.model.registerVoter({ name: 'Carol', voterNumber: 'C-1' });
    await settle();
    expect(canonical(carol)).to.equal(canonical(alice));
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(carol.model.entities('Election').count).to.equal(1);
    expect(alice.model.entities('Voter').count).to.equal(1);
    expect(unreadable).to.deep.equal([]);
    expectEvery([...deltas(old.sent), ...deltas(old.received)], (frame) => 'batch' in frame);
    expectEvery([...deltas(modern.sent), ...deltas(modern.received)], packedUnlessSmall);
    expect(deltas(modern.received).length).to.be.greaterThan(0);
  });

  it('hostile packed deltas change nothing and count as offences; a valid one applies', async () => {
    const alice = syncPeer(network, 'alice', { maxOffences: 100 });
    alice.model.createElection({ title: 'Mayor' });
    const state = canonical(alice);
    const transport = new MemoryTransport(network, asNodeId('mallory'), { logger: { warn: () => {} } });
    const connection = await transport.connect(alice.id);
    const received: Frame[] = [];
    connection.onMessage((bytes) => received.push(parse(bytes)));
    const send = async (frame: unknown) => {
      await connection.send(encoder.encode(JSON.stringify(frame)));
      await settle();
    };
    await send({ t: 'hello', protocols: [1, 2], node: 'mallory', models: { [MODEL]: {} } });
    expect(statusOf(alice, { id: asNodeId('mallory') })).to.include({ ready: true });
    expectEvery(deltas(received), packedUnlessSmall);

    const source = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('mallory'), roles: 'open' });
    source.registerVoter({ name: 'Mal', voterNumber: 'M-1' });
    const valid = packBatch(source.getDelta(new VersionVector()));
    const edit = (change: (packed: any[]) => void) => {
      const packed = structuredClone(valid) as any[];
      change(packed);
      return packed;
    };
    const hostile: unknown[] = [
      'packed',
      [],
      edit((p) => (p[7] = [[0, 0]])),
      edit((p) => (p[7][0][0] = 1_000)),
      edit((p) => (p[7][0][1] = -1)),
      edit((p) => (p[7][0][2] = [0, 0, 'x'])),
      edit((p) => (p[7][0][2][0] = 9)),
      edit((p) => (p[4] = Array.from({ length: 20_000 }, (_, i) => `n${i}`))),
      edit((p) => (p[7][0][2][5] = 3)),
      edit((p) => (p[7][0][2][6] = Number.MAX_SAFE_INTEGER + 2)),
      edit((p) => (p[5][0] = 'Nope')),
    ];
    let seq = 0;
    for (const packed of hostile) {
      await send({ t: 'delta', seq: ++seq, part: 1, parts: 1, packed });
      expect(canonical(alice)).to.equal(state);
    }
    const reasons = eventsOf(alice, 'peer-offence').map((event) => event.reason);
    expect(reasons).to.have.length(hostile.length);
    expectEvery(reasons.slice(0, -1), (reason) => /packed batch/.test(reason));
    expect(reasons.at(-1)).to.match(/unknown concept Nope/);

    await send({ t: 'delta', seq: ++seq, part: 1, parts: 1, packed: valid });
    expect(alice.model.findBy('Voter', 'voterNumber', 'M-1').first()).not.to.equal(undefined);
    expect(reasons.length).to.equal(eventsOf(alice, 'peer-offence').length);
  });
});

