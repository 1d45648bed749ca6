import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { type SyncMessage, encodeSyncMessage } from '../../src/sync/index.js';
import { MODEL, type SyncPeer, canonical, eventsOf, link, settle, statusOf, syncPeer } from './sync-peers.js';
import { expectSameVersion, expectEvery } from '../expectations.js';

/** A peer that speaks raw frames: what it sends is not checked, what it gets is kept. */
async function mallory(network: MemoryNetwork, target: SyncPeer, name = 'mallory') {
  const transport = new MemoryTransport(network, asNodeId(name), { logger: { warn: () => {} } });
  const connection: PeerConnection = await transport.connect(target.id);
  const received: SyncMessage[] = [];
  connection.onMessage((bytes) => received.push(JSON.parse(new TextDecoder().decode(bytes)) as SyncMessage));
  const send = async (frame: unknown) => {
    const bytes = frame instanceof Uint8Array ? frame : new TextEncoder().encode(typeof frame === 'string' ? frame : JSON.stringify(frame));
    await connection.send(bytes);
    await settle();
  };
  return { id: asNodeId(name), connection, received, send };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A write as a peer would send it. */
const write = (value: unknown, node: string, seq: number, ms = Date.now()) => ({ value, ts: { ms, c: 0 }, dot: { node, seq } });

/** A delta from `node` with one attribute change. */
function delta(node: string, change: Record<string, unknown>, version: Record<string, number> = { [node]: 1 }, seq = 1) {
  return {
    t: 'delta',
    seq,
    part: 1,
    parts: 1,
    batch: { format: 1, modelId: MODEL, since: {}, version, changes: [{ kind: 'attribute', entityType: 'Election', oid: 'e1', attribute: 'title', ...change }] },
  };
}

describe('SynchronizationEngine: hostile and broken peers', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('bad frames change nothing, each counts as an offence, and too many close the connection', async () => {
    const alice = syncPeer(network, 'alice', { maxOffences: 9, maxMessageBytes: 4_096 });
    alice.model.createElection({ title: 'Mayor' });
    const state = canonical(alice);
    const m = await mallory(network, alice);
    await settle();
    expect(m.received.map((message) => message.t)).to.deep.equal(['hello']);
    const frames: unknown[] = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
      '[1, 2, 3]',
      '{"t": "nope"}',
      { t: 'hello', protocols: '1', node: 'mallory', models: {} },
      { t: 'ack', model: MODEL, version: { mallory: -1 }, complete: true, seen: 0 },
      { t: 'hello', protocols: [1], node: 'mallory', models: {}, auth: 'x'.repeat(5_000) },
      delta('mallory', { writes: [write('Evil', 'mallory', 1)] }),
      { t: 'hello', protocols: [1], node: 'alice', models: { [MODEL]: {} } },
    ];
    for (const frame of frames) {
      await m.send(frame);
      expect(canonical(alice)).to.equal(state);
      expect(statusOf(alice, m)).to.include({ ready: false });
    }
    const reasons = eventsOf(alice, 'peer-offence').map((event) => event.reason);
    expect(reasons).to.have.length(frames.length);
    expect(reasons[0]).to.match(/not UTF-8 JSON/);
    expect(reasons[1]).to.match(/not a JSON object/);
    expect(reasons[2]).to.match(/unknown message type/);
    expect(reasons[3]).to.match(/protocols/);
    expect(reasons[4]).to.match(/version/);
    expect(reasons[5]).to.match(/exceeds 4096/);
    expect(reasons[6]).to.match(/delta before hello/);
    expect(reasons[7]).to.match(/hello names node alice/);
    expect(statusOf(alice, m).offences).to.equal(frames.length);
    expect(m.connection.state).to.equal('open');
    await m.send('not json at all');
    expect(m.received.at(-1)).to.deep.equal({ t: 'error', reason: 'too many invalid messages' });
    expect(m.connection.state).to.equal('closed');
    expect(eventsOf(alice, 'peer-removed').map((e) => e.peerId)).to.deep.equal(['mallory']);
    expect(canonical(alice)).to.equal(state);
  });

  it('a delta with invalid changes changes nothing, counts an offence, and is answered as incomplete', async () => {
    const alice = syncPeer(network, 'alice', { maxOffences: 5 });
    alice.model.createElection({ title: 'Mayor' });
    const state = canonical(alice);
    const version = alice.model.version;
    const m = await mallory(network, alice);
    await m.send({ t: 'hello', protocols: [1], node: 'mallory', models: { [MODEL]: {} } });
    expect(statusOf(alice, m)).to.include({ ready: true });
    const received = m.received.length;
    const bad = [
      delta('mallory', { entityType: 'Nope', writes: [write('x', 'mallory', 1)] }, undefined, 1),
      delta('mallory', { attribute: 'colour', writes: [write('x', 'mallory', 1)] }, undefined, 2),
      delta('mallory', { writes: [write(42, 'mallory', 1)] }, undefined, 3),
      delta('mallory', { writes: [write('Late', 'mallory', 9)] }, undefined, 4),
      delta('mallory', { writes: [write('Forged', 'alice', 999)] }, { alice: 999 }, 5),
    ];
    for (const frame of bad.slice(0, 4)) {
      await m.send(frame);
      expect(canonical(alice)).to.equal(state);
      expectSameVersion(alice.model.version, version);
    }
    const acks = m.received.slice(received).filter((message) => message.t === 'ack');
    expect(acks).to.have.length(4);
    for (const ack of acks) expect(ack).to.include({ complete: false });
    expect(eventsOf(alice, 'peer-offence').map((e) => e.reason).join('\n')).to.match(/unknown concept Nope[^]*unknown attribute[^]*Election.title[^]*not covered/);
    expectEvery(eventsOf(alice, 'changes-applied'), (e) => e.result.applied === 0 && e.result.rejected.length === 1);
    await m.send(bad[4]);
    expect(canonical(alice)).to.equal(state);
    expect(m.connection.state).to.equal('closed');
    expect(m.received.at(-1)).to.deep.equal({ t: 'error', reason: 'too many invalid messages' });
  });

  it('a hello with no common protocol gets an error and the connection closes, with no offence', async () => {
    const alice = syncPeer(network, 'alice');
    const m = await mallory(network, alice, 'future');
    await m.send({ t: 'hello', protocols: [7, 8], node: 'future', models: {} });
    expect(m.received.at(-1)).to.deep.include({ t: 'error' });
    expect((m.received.at(-1) as { reason: string }).reason).to.match(/no common sync protocol \(ours 1,2,3,4,5,6, theirs 7,8\)/);
    expect(m.connection.state).to.equal('closed');
    expect(eventsOf(alice, 'peer-removed')).to.have.length(1);
    expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
    expect(alice.engine.peerStatus()).to.deep.equal([]);
  });

  it('an error message from the peer closes the connection', async () => {
    const alice = syncPeer(network, 'alice');
    const m = await mallory(network, alice);
    await m.send({ t: 'error', reason: 'shutting down' });
    expect(m.connection.state).to.equal('closed');
    expect(eventsOf(alice, 'peer-removed')[0]?.reason).to.match(/shutting down/);
  });

  it('a second hello and messages for unknown models are handled without changing state', async () => {
    const alice = syncPeer(network, 'alice');
    const m = await mallory(network, alice);
    await m.send({ t: 'hello', protocols: [1], node: 'mallory', models: { other: { mallory: 3 } } });
    expect(statusOf(alice, m).models).to.deep.equal([]);
    await m.send({ t: 'hello', protocols: [1], node: 'mallory', models: {} });
    expect(eventsOf(alice, 'peer-offence').map((e) => e.reason)).to.deep.equal(['second hello']);
    // Another model's delta, ack and version: the peer may not know we lack it.
    await m.send({ ...delta('mallory', { writes: [write('x', 'mallory', 1)] }), batch: { format: 1, modelId: 'other', since: {}, version: {}, changes: [] } });
    await m.send({ t: 'ack', model: 'other', version: {}, complete: true, seen: 0 });
    await m.send({ t: 'version', model: 'other', version: {}, request: true, sent: 1, seen: 0 });
    expect(eventsOf(alice, 'peer-offence')).to.have.length(1);
    expect(statusOf(alice, m).models).to.deep.equal([]);
  });

  it('changes a peer keeps refusing (a clock too far ahead) are resent once, not in a loop', async () => {
    const alice = syncPeer(network, 'alice', {}, () => Date.now() + 60 * 60 * 1000);
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    await settle();
    alice.model.createElection({ title: 'From the future' });
    await settle();
    expect(eventsOf(bob, 'peer-offence').map((e) => e.reason)).to.have.length(2);
    expect(eventsOf(bob, 'peer-offence')[0]!.reason).to.match(/ahead of this clock/);
    expect(bob.model.entities('Election').count).to.equal(0);
    expect(statusOf(bob, alice)).to.include({ ready: true });
    bob.model.createElection({ title: 'From now' });
    await settle();
    expect(alice.model.entities('Election').count).to.equal(2);
  });

  it('refuses to be configured wrongly or connected to itself', () => {
    const alice = syncPeer(network, 'alice');
    expect(() => syncPeer(network, 'x', { maxChangesPerMessage: 0 })).to.throw(RangeError);
    expect(() => alice.engine.registerModel(MODEL, alice.model)).to.throw(/already registered/);
    expect(() => alice.engine.addConnection({ peerId: alice.id } as PeerConnection)).to.throw(/itself/);
    expect(encodeSyncMessage({ t: 'info', name: null })).to.deep.equal(json({ t: 'info', name: null }));
  });
});
