import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { type SyncMessage, decodeSyncMessage } from '../../src/sync/index.js';
import { MODEL, type SyncPeer, canonical, eventsOf, link, settle, syncPeer, until } from './sync-peers.js';

/** A peer written by hand: it speaks the given protocols and keeps what it gets. */
async function handPeer(network: MemoryNetwork, target: SyncPeer, protocols: number[], name = 'dora') {
  const transport = new MemoryTransport(network, asNodeId(name), { logger: { warn: () => {} } });
  const connection: PeerConnection = await transport.connect(target.id);
  const received: SyncMessage[] = [];
  connection.onMessage((bytes) => received.push(JSON.parse(new TextDecoder().decode(bytes)) as SyncMessage));
  const send = async (message: unknown) => {
    await connection.send(new TextEncoder().encode(JSON.stringify(message)));
    await settle();
  };
  await send({ t: 'hello', protocols, node: name, models: { [MODEL]: {} } });
  return { id: asNodeId(name), received, send, types: () => received.map((message) => message.t) };
}

/** Timers fired by hand: `fire(delayMs)` runs the oldest one armed with that delay. */
function handTimers() {
  const pending = new Map<number, { callback: () => void; delayMs: number }>();
  let next = 0;
  const timers = {
    setTimeout: (callback: () => void, delayMs: number) => (pending.set(++next, { callback, delayMs }), next),
    clearTimeout: (handle: unknown) => void pending.delete(handle as number),
  };
  const fire = (delayMs: number) => {
    const [id, timer] = [...pending].find(([, entry]) => entry.delayMs === delayMs)!;
    pending.delete(id);
    timer.callback();
  };
  return { pending, timers, fire };
}

const fast = { broadcast: { lazyIntervalMs: 0, lazyFanout: 1, graftTimeoutMs: 20 } };

describe('SynchronizationEngine: epidemic broadcast (protocol 4)', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it("a triangle prunes the duplicate of a writer's first edit in that writer's tree, and its later edits cross each tree link once", async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => syncPeer(network, name, fast)) as [SyncPeer, SyncPeer, SyncPeer];
    await link(alice, bob);
    await link(bob, carol);
    await link(carol, alice);
    await settle();
    const election = alice.model.createElection({ title: 'Board' });
    await until(() => canonical(bob) === canonical(alice) && canonical(carol) === canonical(alice));
    await settle();
    const lazy = [alice, bob, carol].flatMap((peer) => peer.engine.broadcastStatus(alice.id).lazy.map((other) => `${peer.id}-${other}`));
    // bob and carol each got the edit from alice and then from each other: their link is lazy, both ways.
    expect(lazy.sort()).to.deep.equal(['bob-carol', 'carol-bob']);

    const deltasBefore = [alice, bob, carol].reduce((sum, peer) => sum + peer.engine.totals.messagesSent, 0);
    alice.model.update(election.oid, { title: 'Board of trustees' });
    await until(() => canonical(bob) === canonical(alice) && canonical(carol) === canonical(alice));
    await until(() => [alice, bob, carol].every((peer) => peer.engine.broadcastStatus().scheduled === 0));
    await settle();
    const sent = [alice, bob, carol].reduce((sum, peer) => sum + peer.engine.totals.messagesSent, 0) - deltasBefore;
    // alice → bob and alice → carol: two deltas, two acks; bob or carol may announce on the lazy link.
    expect(sent).to.be.at.most(5);
    expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
  });

  // Plumtree's duplicate means "arrived first by another path". A sender that takes its delta as
  // lost sends it again over the same link; taking that for a duplicate pruned the only link of a
  // two-device room, and its live edits then waited for announcements.
  it('a delta sent again over the link that brought it does not prune the link', async () => {
    const alice = syncPeer(network, 'alice', fast);
    const dora = await handPeer(network, alice, [4]);
    const doraModel = new ElectoralSystemModel({ modelId: MODEL, nodeId: dora.id, roles: 'open' });
    doraModel.createElection({ title: 'Board' });
    const batch = doraModel.getDelta(new VersionVector());
    for (const seq of [1, 2]) await dora.send({ t: 'delta', seq, part: 1, parts: 1, batch });
    await until(() => dora.received.filter((message) => message.t === 'ack').length === 2);
    await settle();
    const answers = dora.received.filter((message) => message.t === 'ack' || message.t === 'prune');
    expect(answers.map((message) => `${message.t}${'prune' in message ? ' prune' : ''}`)).to.deep.equal(['ack', 'ack']);
    expect(alice.engine.broadcastStatus()).to.deep.include({ eager: ['dora'], lazy: [] });
  });

  it('a change announced and then brought by the tree leaves no graft timer waiting', async () => {
    const alice = syncPeer(network, 'alice', { broadcast: { lazyIntervalMs: 0, lazyFanout: 1, graftTimeoutMs: 600_000 } });
    const dora = await handPeer(network, alice, [4], 'dora');
    const erin = await handPeer(network, alice, [4], 'erin');
    const frank = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('frank'), roles: 'open' });
    frank.createElection({ title: 'Board' });
    const batch = frank.getDelta(new VersionVector());
    await dora.send({ t: 'ihave', model: MODEL, have: batch.version });
    await until(() => alice.engine.broadcastStatus().scheduled > 0);
    await erin.send({ t: 'delta', seq: 1, part: 1, parts: 1, batch });
    await until(() => alice.model.entities('Election').count === 1);
    await settle();
    expect(alice.engine.broadcastStatus().scheduled, 'timers left').to.equal(0);
  });

  it('on a pruned link an edit is announced with only the entries that changed; a graft brings the delta and makes the link eager', async () => {
    const alice = syncPeer(network, 'alice', fast);
    alice.model.createElection({ title: 'Board' });
    const dora = await handPeer(network, alice, [1, 2, 3, 4]);
    await settle();
    expect(dora.types()).to.deep.equal(['hello', 'delta']);
    await dora.send({ t: 'ack', model: MODEL, version: alice.model.version.toJSON(), complete: true, seen: 1, prune: true });
    expect(alice.engine.broadcastStatus().lazy).to.deep.equal(['dora']);

    dora.received.length = 0;
    alice.model.createElection({ title: 'Treasurer' });
    await until(() => dora.received.length > 0);
    expect(dora.received).to.deep.equal([{ t: 'ihave', model: MODEL, have: { alice: alice.model.version.get(alice.id) }, digest: (dora.received[0] as { digest: string }).digest }]);

    await dora.send({ t: 'graft', model: MODEL, have: {} });
    expect(dora.types()).to.deep.equal(['ihave', 'delta']);
    expect(alice.engine.broadcastStatus().eager).to.deep.equal(['dora']);
  });

  it('an announced change that does not arrive by the tree is asked for with a graft', async () => {
    const alice = syncPeer(network, 'alice', fast);
    const dora = await handPeer(network, alice, [4]);
    await dora.send({ t: 'prune' });
    expect(alice.engine.broadcastStatus().lazy).to.deep.equal(['dora']);
    dora.received.length = 0;
    await dora.send({ t: 'ihave', model: MODEL, have: { dora: 1 } });
    expect(alice.engine.broadcastStatus().scheduled).to.equal(1);
    await until(() => dora.received.length > 0);
    expect(dora.types()).to.deep.equal(['graft']);
    expect(alice.engine.broadcastStatus()).to.deep.include({ eager: ['dora'], lazy: [], scheduled: 0 });
  });

  it('announcement rounds and grafts wait on the injected timers, and stopping clears them there', async () => {
    const { pending, timers, fire } = handTimers();
    const alice = syncPeer(network, 'alice', { broadcast: { lazyIntervalMs: 700, lazyFanout: 1, graftTimeoutMs: 900, timers } });
    const dora = await handPeer(network, alice, [4]);
    await dora.send({ t: 'prune' });
    dora.received.length = 0;
    await dora.send({ t: 'ihave', model: MODEL, have: { dora: 1 } });
    alice.model.createElection({ title: 'Board' });
    await settle();
    // A graft timer and an announcement round, both on the injected timers: nothing goes before they fire.
    expect([...pending.values()].map((timer) => timer.delayMs).sort()).to.deep.equal([700, 900]);
    expect(dora.types()).to.deep.equal([]);
    fire(900);
    await settle();
    expect(dora.types()).to.deep.equal(['graft']);
    alice.engine.stop();
    expect(pending.size).to.equal(0);
    expect(alice.engine.broadcastStatus().scheduled).to.equal(0);
  });

  // Seen in a signed three-device room with no anti-entropy: every link had been pruned to lazy,
  // the one round after an edit drew no peer (a fanout of 0.5 is one peer every other round), and
  // the edit reached nobody, ever.
  it('a device whose every link is lazy announces its edit whatever the fanout draws, one peer per round, each once', async () => {
    const { pending, timers, fire } = handTimers();
    // Every draw says "no peer this round".
    const alice = syncPeer(network, 'alice', { broadcast: { lazyIntervalMs: 700, lazyFanout: 0.5, timers, random: () => 0.9 } });
    const dora = await handPeer(network, alice, [4], 'dora');
    const erin = await handPeer(network, alice, [4], 'erin');
    for (const peer of [dora, erin]) await peer.send({ t: 'prune' });
    expect(alice.engine.broadcastStatus().eager).to.deep.equal([]);
    for (const peer of [dora, erin]) peer.received.length = 0;
    alice.model.createElection({ title: 'Board' });
    await settle();
    fire(700);
    await settle();
    expect([...dora.types(), ...erin.types()]).to.deep.equal(['ihave']);
    expect([...pending.values()].map((timer) => timer.delayMs)).to.deep.equal([700]);
    fire(700);
    await settle();
    expect([dora.types(), erin.types()]).to.deep.equal([['ihave'], ['ihave']]);
    // Each told once: no round is left.
    expect(pending.size).to.equal(0);
  });

  it('an edit the eager peer did not take is announced to the lazy ones whatever the fanout draws', async () => {
    const { timers, fire } = handTimers();
    const alice = syncPeer(network, 'alice', { broadcast: { lazyIntervalMs: 700, lazyFanout: 0.5, timers, random: () => 0.9 } });
    const dora = await handPeer(network, alice, [4], 'dora');
    const erin = await handPeer(network, alice, [4], 'erin');
    await erin.send({ t: 'prune' });
    expect(alice.engine.broadcastStatus()).to.deep.include({ eager: ['dora'], lazy: ['erin'] });
    for (const peer of [dora, erin]) peer.received.length = 0;
    alice.model.createElection({ title: 'Board' });
    await settle();
    // dora, the tree, refuses it (as an honest relay refuses a batch breaking the rules), also when
    // it is sent again: she cannot pass it on.
    for (let refusal = 0; refusal < 2; refusal++) {
      const deltas = dora.received.filter((message) => message.t === 'delta') as unknown as Array<{ seq: number }>;
      expect(deltas).to.have.lengthOf(refusal + 1);
      await dora.send({ t: 'ack', model: MODEL, version: {}, complete: false, seen: deltas[refusal]!.seq });
    }
    fire(700);
    await settle();
    expect(erin.types()).to.deep.equal(['ihave']);
  });

  it('an announcement already held costs no graft, and tells the engine what the peer holds', async () => {
    const alice = syncPeer(network, 'alice', fast);
    alice.model.createElection({ title: 'Board' });
    const dora = await handPeer(network, alice, [4]);
    await dora.send({ t: 'ack', model: MODEL, version: {}, complete: true, seen: 1, prune: true });
    dora.received.length = 0;
    await dora.send({ t: 'ihave', model: MODEL, have: alice.model.version.toJSON() });
    expect(alice.engine.broadcastStatus().scheduled).to.equal(0);
    expect(alice.engine.peerStatus()[0]!.models[0]!.confirmed?.toJSON()).to.deep.equal(alice.model.version.toJSON());
    expect(dora.received).to.deep.equal([]);
  });

  // One tree carries every device's edits: swapping links toward whoever announced a shorter path
  // made the tree deeper for the other writers, at a graft, a graft back and a prune per swap.
  it('an announcement of a shorter path (hops, as earlier versions sent) moves no link of the tree', async () => {
    const alice = syncPeer(network, 'alice', fast);
    const dora = await handPeer(network, alice, [4], 'dora');
    const erin = await handPeer(network, alice, [4], 'erin');
    await erin.send({ t: 'prune' });
    const frank = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('frank'), roles: 'open' });
    frank.createElection({ title: 'Board' });
    const batch = frank.getDelta(new VersionVector());
    await dora.send({ t: 'delta', seq: 1, part: 1, parts: 1, batch, hops: 6 });
    await until(() => alice.model.entities('Election').count === 1);
    for (const peer of [dora, erin]) peer.received.length = 0;
    await erin.send({ t: 'ihave', model: MODEL, have: batch.version, hops: 1 });
    await settle();
    expect([dora.types(), erin.types()]).to.deep.equal([[], []]);
    expect(alice.engine.broadcastStatus()).to.deep.include({ eager: ['dora'], lazy: ['erin'], scheduled: 0 });
  });

  // The peer announced a change before the tree brought it here: it takes us for behind until we
  // say otherwise, and nothing else on a lazy link would.
  it('a lazy peer that announced what the tree then brought is told we hold it, at the next round', async () => {
    const { pending, timers, fire } = handTimers();
    const alice = syncPeer(network, 'alice', { broadcast: { lazyIntervalMs: 700, lazyFanout: 1, graftTimeoutMs: 900, timers } });
    const dora = await handPeer(network, alice, [4], 'dora');
    const erin = await handPeer(network, alice, [4], 'erin');
    await dora.send({ t: 'prune' });
    const frank = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('frank'), roles: 'open' });
    frank.createElection({ title: 'Board' });
    const batch = frank.getDelta(new VersionVector());
    await dora.send({ t: 'ihave', model: MODEL, have: batch.version });
    await erin.send({ t: 'delta', seq: 1, part: 1, parts: 1, batch });
    await until(() => alice.model.entities('Election').count === 1);
    await settle();
    dora.received.length = 0;
    expect([...pending.values()].map((timer) => timer.delayMs), 'an announcement round').to.deep.equal([700]);
    fire(700);
    await settle();
    expect(dora.received).to.deep.equal([{ t: 'ihave', model: MODEL, have: batch.version, digest: (dora.received[0] as { digest: string }).digest }]);
    expect(alice.engine.broadcastStatus().scheduled).to.equal(0);
  });

  it('broadcast messages from a peer that did not agree on protocol 4 are offences and change nothing', async () => {
    const alice = syncPeer(network, 'alice', fast);
    const dora = await handPeer(network, alice, [1, 2, 3]);
    await dora.send({ t: 'prune' });
    await dora.send({ t: 'ihave', model: MODEL, have: { dora: 1 } });
    expect(eventsOf(alice, 'peer-offence').map((event) => event.reason)).to.deep.equal(['prune without protocol 4', 'ihave without protocol 4']);
    expect(alice.engine.broadcastStatus()).to.deep.include({ eager: ['dora'], lazy: [], scheduled: 0 });
  });

  it('malformed broadcast messages are refused by the decoder', () => {
    const decode = (message: unknown) => decodeSyncMessage(new TextEncoder().encode(JSON.stringify(message)), 1_000_000);
    expect(decode({ t: 'ihave', model: 'bad model!', have: {} })).to.deep.equal({ error: 'ihave: bad model id' });
    expect(decode({ t: 'ihave', model: MODEL, have: { a: -1 } })).to.have.property('error').that.matches(/^ihave: have: /);
    expect(decode({ t: 'ihave', model: MODEL, have: {}, digest: 'xyz' })).to.deep.equal({ error: 'ihave: bad digest' });
    expect(decode({ t: 'graft', model: MODEL })).to.have.property('error').that.matches(/^graft: have: /);
    // Hop counts, sent by earlier versions of protocol 4, are ignored.
    expect(decode({ t: 'ihave', model: MODEL, have: {}, hops: -1 })).to.deep.equal({ t: 'ihave', model: MODEL, have: {} });
    expect(decode({ t: 'prune', extra: 1 })).to.deep.equal({ t: 'prune' });
    expect(decode({ t: 'ack', model: MODEL, version: {}, complete: true, seen: 0, prune: 'yes' })).to.deep.equal({ t: 'ack', model: MODEL, version: {}, complete: true, seen: 0 });
  });
});
