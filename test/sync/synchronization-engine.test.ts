import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { MODEL, canonical, eventsOf, inSyncWith, link, messageType, registerVoters, settle, statusOf, syncPeer, throughHooks, until } from './sync-peers.js';

describe('SynchronizationEngine: convergence', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('two engines exchange what each lacks at the handshake and converge', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    const election = alice.model.createElection({ title: 'Mayor' });
    registerVoters(alice, 3, 'A');
    registerVoters(bob, 4, 'B');
    await link(alice, bob);
    await settle();
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(bob.model.get(election.oid)?.getAttribute('title')).to.equal('Mayor');
    expect(bob.model.entities('Voter').count).to.equal(7);
    expect(eventsOf(alice, 'peer-ready').map((e) => e.peerId)).to.deep.equal(['bob']);
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
  });

  it('three engines converge after concurrent edits of the same attribute, with the same conflict everywhere', async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => syncPeer(network, name));
    const election = alice!.model.createElection({ title: 'Mayor' });
    await link(alice!, bob!);
    await link(bob!, carol!);
    await link(carol!, alice!);
    await settle();
    // All in one task: every edit is made before any delta arrives, so they are concurrent.
    alice!.model.update(election.oid, { title: 'Mayor of A' });
    bob!.model.update(election.oid, { title: 'Mayor of B' });
    carol!.model.update(election.oid, { title: 'Mayor of C' });
    registerVoters(carol!, 2, 'C');
    await settle();
    expect(canonical(bob!)).to.equal(canonical(alice!));
    expect(canonical(carol!)).to.equal(canonical(alice!));
    const conflicts = alice!.model.conflicts;
    expect(conflicts).to.have.length(1);
    expect(conflicts[0]!.losers).to.have.length(2);
    expect(JSON.stringify(carol!.model.conflicts)).to.equal(JSON.stringify(conflicts));
    for (const peer of [alice!, bob!, carol!]) expect(eventsOf(peer, 'peer-offence')).to.deep.equal([]);
  });

  it('live edits after the handshake reach the peer, one delta per burst', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    await settle();
    const before = statusOf(alice, bob).counters.messagesSent;
    const election = alice.model.createElection({ title: 'Council' });
    alice.model.addCandidate(election.oid, { name: 'Ada' });
    alice.model.addCandidate(election.oid, { name: 'Grace' });
    await settle();
    expect(statusOf(alice, bob).counters.messagesSent - before).to.equal(1);
    expect(bob.model.get(election.oid)?.getChild('candidates').count).to.equal(2);
    bob.model.update(election.oid, { description: 'Every seat' });
    await settle();
    expect(alice.model.get(election.oid)?.getAttribute('description')).to.equal('Every seat');
    expect(canonical(alice)).to.equal(canonical(bob));
  });

  it('a line alice–bob–carol converges and never sends a change back where it came from', async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => syncPeer(network, name)) as [
      ReturnType<typeof syncPeer>,
      ReturnType<typeof syncPeer>,
      ReturnType<typeof syncPeer>,
    ];
    await link(alice, bob);
    await link(bob, carol);
    await settle();
    const counts = () => ({
      aliceToBob: statusOf(alice, bob).counters,
      bobToAlice: statusOf(bob, alice).counters,
      bobToCarol: statusOf(bob, carol).counters,
      carolToBob: statusOf(carol, bob).counters,
    });
    const before = counts();
    const election = alice.model.createElection({ title: 'Mayor' });
    await settle();
    expect(carol.model.get(election.oid)?.getAttribute('title')).to.equal('Mayor');
    let after = counts();
    const sent = (key: keyof typeof after) => after[key].messagesSent - before[key].messagesSent;
    const changes = (key: keyof typeof after) => after[key].changesSent - before[key].changesSent;
    // One delta each way down the line, one ack back up each link, nothing else.
    expect([sent('aliceToBob'), sent('bobToAlice'), sent('bobToCarol'), sent('carolToBob')]).to.deep.equal([1, 1, 1, 1]);
    expect(changes('bobToAlice')).to.equal(0);
    expect(changes('carolToBob')).to.equal(0);
    expect(changes('bobToCarol')).to.equal(changes('aliceToBob'));

    const middle = counts();
    carol.model.update(election.oid, { description: 'From the far end' });
    await settle();
    after = counts();
    expect(alice.model.get(election.oid)?.getAttribute('description')).to.equal('From the far end');
    expect(after.aliceToBob.changesSent - middle.aliceToBob.changesSent).to.equal(0);
    expect(after.bobToCarol.changesSent - middle.bobToCarol.changesSent).to.equal(0);
    expect(canonical(alice)).to.equal(canonical(carol));
    expect(canonical(bob)).to.equal(canonical(carol));
  });

  it('a model registered after the handshake syncs both ways, even when only one side edits', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    await settle();
    const { ElectoralSystemModel } = await import('../../src/models/electoral/index.js');
    const aliceExtra = new ElectoralSystemModel({ modelId: 'extra', nodeId: alice.id, roles: 'open' });
    const bobExtra = new ElectoralSystemModel({ modelId: 'extra', nodeId: bob.id, roles: 'open' });
    alice.engine.registerModel('extra', aliceExtra);
    await settle();
    bob.engine.registerModel('extra', bobExtra);
    await settle();
    const election = bobExtra.createElection({ title: 'Late' });
    await settle();
    expect(aliceExtra.get(election.oid)?.getAttribute('title')).to.equal('Late');
    aliceExtra.update(election.oid, { title: 'Later' });
    await settle();
    expect(bobExtra.get(election.oid)?.getAttribute('title')).to.equal('Later');
    expect(JSON.stringify(bobExtra.getSnapshot())).to.equal(JSON.stringify(aliceExtra.getSnapshot()));
  });

  it('partition then heal: both sides converge, and the heal costs what was edited, not the model size', async function () {
    this.timeout(120_000);
    const heal = async (entities: number) => {
      const net = new MemoryNetwork();
      const alice = syncPeer(net, 'alice');
      const bob = syncPeer(net, 'bob');
      registerVoters(alice, entities);
      await link(alice, bob);
      // A large first sync travels compressed, which takes more than one turn of the event loop.
      await until(() => canonical(bob) === canonical(alice));
      const initial = net.stats.bytes;
      net.partition([alice.id], [bob.id]);
      await settle();
      expect(alice.engine.peerStatus()).to.deep.equal([]);
      const voters = alice.model.entities('Voter').toArray();
      for (let i = 0; i < 5; i++) alice.model.update(voters[i]!.oid, { district: `North ${i}` });
      for (let i = 5; i < 10; i++) bob.model.update(voters[i]!.oid, { district: `South ${i}` });
      expect(canonical(bob)).not.to.equal(canonical(alice));
      net.heal();
      const before = net.stats.bytes;
      await link(bob, alice);
      await settle();
      expect(canonical(bob)).to.equal(canonical(alice));
      expect(bob.model.get(voters[0]!.oid)?.getAttribute('district')).to.equal('North 0');
      expect(alice.model.get(voters[9]!.oid)?.getAttribute('district')).to.equal('South 9');
      const bytes = net.stats.bytes - before;
      net.close();
      return { initial, heal: bytes };
    };
    const small = await heal(100);
    const large = await heal(5_000);
    // The first sync grows with the model (compressed, so less than in proportion)...
    expect(large.initial).to.be.greaterThan(5 * small.initial);
    // ...the heal does not.
    expect(large.heal).to.be.lessThan(large.initial / 20);
    // The same ten edits cost about the same at either size (seq numbers have a few more digits).
    expect(large.heal).to.be.within(small.heal, small.heal * 1.1);
  });

  it('a fresh peer gets a large model in parts with progress, relays only what it adopted, and ends in sync', async function () {
    this.timeout(60_000);
    const options = { maxChangesPerMessage: 500 };
    const alice = syncPeer(network, 'alice', options);
    const bob = syncPeer(network, 'bob', options);
    const carol = syncPeer(network, 'carol', options);
    registerVoters(alice, 1_500);
    const total = alice.model.getChangesSince(bob.model.version).length;
    await link(bob, carol);
    await settle();
    // Bob edits while the parts arrive: his own write goes on to carol at once, alice's writes
    // only once bob adopted them (carol would refuse writes bob's version does not cover).
    let bobsElection: string | undefined;
    bob.engine.onEvent((event) => {
      if (event.type === 'sync-progress' && event.part === 2) bobsElection = bob.model.createElection({ title: 'Meanwhile' }).oid;
    });
    await link(alice, bob);
    // Large parts are applied a slice at a time, over several tasks.
    await until(() => inSyncWith(bob, alice) && inSyncWith(alice, bob) && inSyncWith(carol, bob) && inSyncWith(bob, carol));
    expect(carol.model.get(bobsElection!)?.getAttribute('title')).to.equal('Meanwhile');
    const progress = eventsOf(bob, 'sync-progress').filter((e) => e.peerId === 'alice');
    const parts = Math.ceil(total / 500);
    expect(progress.map((e) => `${e.part}/${e.parts}`)).to.deep.equal(Array.from({ length: parts }, (_, i) => `${i + 1}/${parts}`));
    // Items are entities: 1,500 voters, each counted in every part that carries some of it.
    const items = progress.reduce((sum, e) => sum + (e.type === 'sync-progress' ? e.items : 0), 0);
    expect(items).to.be.within(1_500, 1_500 + parts);
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(canonical(carol)).to.equal(canonical(alice));
    expect(eventsOf(carol, 'sync-progress').length).to.be.greaterThan(1);
    for (const peer of [alice, bob, carol]) expect(eventsOf(peer, 'peer-offence')).to.deep.equal([]);
    expect({ bobWithAlice: inSyncWith(bob, alice), aliceWithBob: inSyncWith(alice, bob), carolWithBob: inSyncWith(carol, bob), bobWithCarol: inSyncWith(bob, carol) }).to.deep.equal({ bobWithAlice: true, aliceWithBob: true, carolWithBob: true, bobWithCarol: true });
    expect(eventsOf(bob, 'peer-sync-state').filter((e) => e.peerId === 'alice').at(-1)?.inSync, "bob's last peer-sync-state for alice says in sync").to.equal(true);
  });
});

describe('SynchronizationEngine: status and results', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('synchronize() resolves with the peers in sync and what was exchanged', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    const carol = syncPeer(network, 'carol');
    await link(alice, bob);
    await link(alice, carol);
    await settle();
    alice.model.createElection({ title: 'Mayor' });
    const result = await alice.engine.synchronize(MODEL);
    expect(result).to.include({ modelId: MODEL, peers: 2, inSyncPeers: 2 });
    expect(result.changesSent).to.be.greaterThan(0);
    expect(result.messagesSent).to.be.greaterThan(0);
    expect(result.messagesReceived).to.be.greaterThan(0);
    expect(result.changesRejected).to.equal(0);
    expect(canonical(bob)).to.equal(canonical(alice));
    const idle = await bob.engine.synchronize(MODEL);
    expect(idle).to.include({ peers: 1, inSyncPeers: 1, changesSent: 0, changesApplied: 0 });
    const lonely = syncPeer(network, 'dave');
    expect(await lonely.engine.synchronize(MODEL)).to.include({ peers: 0, inSyncPeers: 0 });
    try {
      await alice.engine.synchronize('unknown');
      expect.fail('an unregistered model must be refused');
    } catch (error) {
      expect((error as Error).message).to.match(/not registered/);
    }
  });

  it('synchronize() reports a peer that never answers as not in sync after the timeout', async () => {
    const alice = syncPeer(network, 'alice');
    const { MemoryTransport } = await import('../../src/net/memory-transport.js');
    const { asNodeId } = await import('../../src/crdt/dot.js');
    const { encodeSyncMessage } = await import('../../src/sync/index.js');
    const mute = new MemoryTransport(network, asNodeId('mute'), { logger: { warn: () => {} } });
    const connection = await mute.connect(alice.id);
    await connection.send(encodeSyncMessage({ t: 'hello', protocols: [1], node: 'mute', models: { [MODEL]: {} } }));
    await settle();
    alice.model.createElection({ title: 'Mayor' });
    const result = await alice.engine.synchronize(MODEL, 30);
    expect(result).to.include({ peers: 1, inSyncPeers: 0 });
    expect(statusOf(alice, { id: mute.localId }).models[0]).to.include({ inSync: false, unacked: 1 });
  });

  it('peerStatus() says in sync only while neither side lacks anything', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    expect(alice.engine.peerStatus()).to.deep.equal([]);
    await link(alice, bob);
    await settle();
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
    const election = alice.model.createElection({ title: 'Mayor' });
    // The edit is made; the peer has not confirmed it yet.
    expect(inSyncWith(alice, bob), 'alice counts bob in sync before he confirmed her edit').to.equal(false);
    await settle();
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
    network.partition([alice.id], [bob.id]);
    await settle();
    bob.model.update(election.oid, { description: 'Offline edit' });
    network.heal();
    await link(alice, bob);
    await settle();
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
    const status = statusOf(alice, bob);
    expect(status).to.include({ peerId: 'bob', via: 'memory', ready: true, offences: 0 });
    expect(status.models[0]!.confirmed?.equals(alice.model.version), `confirmed ${JSON.stringify(status.models[0]!.confirmed?.toJSON())} equals ${JSON.stringify(alice.model.version.toJSON())}`).to.equal(true);
    expect(status.models[0]!.unacked).to.equal(0);
    const states = eventsOf(alice, 'peer-sync-state').map((e) => e.inSync);
    expect(states).to.deep.equal([true, false, true, true]);
  });

  it('display names travel in the hello and in info messages', async () => {
    const alice = syncPeer(network, 'alice', { displayName: '  Alice  ' });
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    await settle();
    expect(statusOf(bob, alice).name).to.equal('Alice');
    expect(statusOf(alice, bob).name).to.equal(null);
    bob.engine.setDisplayName('Bob’s tablet');
    await settle();
    expect(statusOf(alice, bob).name).to.equal('Bob’s tablet');
    expect(eventsOf(alice, 'peer-info')).to.deep.equal([{ type: 'peer-info', peerId: 'bob', name: 'Bob’s tablet' }]);
    bob.engine.setDisplayName('   ');
    await settle();
    expect(statusOf(alice, bob).name).to.equal(null);
    expect(() => bob.engine.setDisplayName('x'.repeat(65))).to.throw(RangeError);
  });

  it('unsentChanges counts own operations until a peer confirms holding them', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    alice.model.createElection({ title: 'Mayor' });
    const made = alice.model.version.get(alice.id);
    expect(made).to.be.greaterThan(0);
    expect(alice.engine.unsentChanges(MODEL)).to.equal(made);
    await link(alice, bob);
    await settle();
    expect(alice.engine.unsentChanges(MODEL)).to.equal(0);
    registerVoters(alice, 2);
    expect(alice.engine.unsentChanges(MODEL)).to.equal(4);
    await settle();
    expect(alice.engine.unsentChanges(MODEL)).to.equal(0);
    expect(alice.engine.unsentChanges('unknown')).to.equal(0);

    const carol = syncPeer(network, 'carol');
    carol.model.createElection({ title: 'Stored' });
    carol.engine.setAcknowledgedOwnChanges(MODEL, 1);
    expect(carol.engine.unsentChanges(MODEL)).to.equal(carol.model.version.get(carol.id) - 1);
    expect(() => carol.engine.setAcknowledgedOwnChanges(MODEL, -1)).to.throw(RangeError);
  });

  it('anti-entropy repairs a delta lost on the way, from either side', async () => {
    for (const repairer of ['sender', 'receiver'] as const) {
      const net = new MemoryNetwork();
      const alice = syncPeer(net, 'alice', { antiEntropyIntervalMs: 10 });
      const bob = syncPeer(net, 'bob', { antiEntropyIntervalMs: 10 });
      const dropper = new MessageDropper();
      await link(alice, bob, (connection) => dropper.wrap(connection));
      await settle();
      dropper.dropOutgoing.push('delta');
      const election = alice.model.createElection({ title: 'Mayor' });
      await settle();
      expect(dropper.dropped).to.deep.equal(['delta']);
      expect(bob.model.get(election.oid)).to.equal(undefined);
      expect(inSyncWith(alice, bob), 'alice counts bob in sync while he misses her delta').to.equal(false);
      // Without anti-entropy it stays missing, however long we wait.
      await settle();
      expect(bob.model.get(election.oid)).to.equal(undefined);
      (repairer === 'sender' ? alice : bob).engine.start();
      await until(() => canonical(bob) === canonical(alice) && inSyncWith(alice, bob));
      alice.engine.stop();
      bob.engine.stop();
      expect(eventsOf(alice, 'peer-removed').map((e) => e.reason)).to.deep.equal(['node stopped']);
      net.close();
    }
  });

  it('a delta after a lost one is answered as incomplete, and the sender resends from the ack at once', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    const dropper = new MessageDropper();
    await link(alice, bob, (connection) => dropper.wrap(connection));
    await settle();
    dropper.dropOutgoing.push('delta');
    const election = alice.model.createElection({ title: 'Mayor' });
    await settle();
    expect(bob.model.get(election.oid)).to.equal(undefined);
    alice.model.update(election.oid, { description: 'Second edit' });
    await settle();
    expect(canonical(bob)).to.equal(canonical(alice));
    expect({ aliceWithBob: inSyncWith(alice, bob), bobWithAlice: inSyncWith(bob, alice) }).to.deep.equal({ aliceWithBob: true, bobWithAlice: true });
  });

  it('a lost part: the rest is joined but not adopted, and the incomplete ack brings a resend', async () => {
    const options = { maxChangesPerMessage: 100 };
    const alice = syncPeer(network, 'alice', options);
    const bob = syncPeer(network, 'bob', options);
    const dropper = new MessageDropper();
    await link(alice, bob, (connection) => dropper.wrap(connection));
    await settle();
    dropper.dropOutgoing.push('delta');
    registerVoters(alice, 150);
    await settle();
    expect(dropper.dropped).to.deep.equal(['delta']);
    expect(eventsOf(bob, 'sync-progress').map((e) => `${e.part}/${e.parts}`)).to.deep.equal(['2/3', '3/3', '1/3', '2/3', '3/3']);
    expect(canonical(bob)).to.equal(canonical(alice));
  });

  it('a relay holding writes it has not adopted forwards only its adopted ones; anti-entropy completes the rest', async () => {
    const options = { maxChangesPerMessage: 100, antiEntropyIntervalMs: 10 };
    const alice = syncPeer(network, 'alice', options);
    const bob = syncPeer(network, 'bob', options);
    const carol = syncPeer(network, 'carol', options);
    await link(bob, carol);
    const dropper = new MessageDropper();
    await link(bob, alice, (connection) => dropper.wrap(connection));
    await settle();
    // Bob loses the first part of alice's delta, and alice loses bob's ack.
    dropper.dropIncoming.push('delta');
    dropper.dropOutgoing.push('ack');
    registerVoters(alice, 150);
    await settle();
    expect(dropper.dropped).to.deep.equal(['delta', 'ack']);
    expect(bob.model.entities('Voter').count).to.be.greaterThan(0);
    expect(bob.model.version.get(alice.id)).to.equal(0);
    const election = bob.model.createElection({ title: 'Meanwhile' });
    await settle();
    expect(carol.model.get(election.oid)?.getAttribute('title')).to.equal('Meanwhile');
    // Bob's deltas claim none of alice's writes (carol may still get the writes bob holds
    // through a digest repair, as plain state, never as a claim to have seen them).
    expect(carol.model.version.get(alice.id)).to.equal(0);
    for (const peer of [alice, bob, carol]) expect(eventsOf(peer, 'peer-offence')).to.deep.equal([]);
    alice.engine.start();
    await until(() => canonical(carol) === canonical(alice) && canonical(bob) === canonical(alice));
    alice.engine.stop();
    expect(carol.model.entities('Voter').count).to.equal(150);
    for (const peer of [alice, bob, carol]) expect(eventsOf(peer, 'peer-offence')).to.deep.equal([]);
  });

  it('a second connection to the same peer replaces the first', async () => {
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    await settle();
    const { MemoryNetwork: Net } = await import('../../src/net/memory-network.js');
    const other = new Net({ kind: 'other' });
    const { MemoryTransport } = await import('../../src/net/memory-transport.js');
    const aliceOther = new MemoryTransport(other, alice.id, { logger: { warn: () => {} } });
    const bobOther = new MemoryTransport(other, bob.id, { logger: { warn: () => {} } });
    bobOther.onConnection((connection) => bob.engine.addConnection(connection));
    alice.engine.addConnection(await aliceOther.connect(bob.id));
    await settle();
    expect(alice.engine.peerStatus().map((p) => `${p.peerId} via ${p.via}`)).to.deep.equal(['bob via other']);
    const election = alice.model.createElection({ title: 'Mayor' });
    await settle();
    expect(bob.model.get(election.oid)?.getAttribute('title')).to.equal('Mayor');
    other.close();
  });
});

/** Stands between an engine and its connection (`wrap`) and loses the next messages of the listed types. */
class MessageDropper {
  /** Types of messages to lose on the way out, in order (each entry loses one message). */
  readonly dropOutgoing: string[] = [];
  readonly dropIncoming: string[] = [];
  /** Types of the messages lost so far. */
  readonly dropped: string[] = [];

  wrap(connection: PeerConnection): PeerConnection {
    return throughHooks(
      connection,
      (bytes) => this.lose(this.dropOutgoing, bytes),
      (bytes) => this.lose(this.dropIncoming, bytes),
    );
  }

  private lose(types: string[], message: Uint8Array): Uint8Array | undefined {
    const type = messageType(message);
    if (types[0] !== type) return message;
    types.shift();
    this.dropped.push(type);
    return undefined;
  }
}
