import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { canonical, eventsOf, inSyncWith, link, MODEL, settle, syncPeer, until } from './sync-peers.js';

describe('an honest in sync: digests and repair', () => {
  it('equal versions with different states are not in sync, are reported, and are repaired', async () => {
    const network = new MemoryNetwork();
    const alice = syncPeer(network, 'alice');
    const bob = syncPeer(network, 'bob');
    await link(alice, bob);
    const election = alice.model.createElection({ title: 'Board' });
    await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice));
    // Bob comes to hold a write his version does not claim (as a crash or a lost claim leaves a
    // replica): versions stay equal, states differ.
    const carol = asNodeId('carol');
    const change = { kind: 'attribute' as const, entityType: 'Election', oid: election.oid, attribute: 'description', writes: [{ value: 'from carol', ts: { ms: Date.now(), c: 0 }, dot: { node: carol, seq: 1 } }] };
    bob.model.applyChanges([change]);
    expect(bob.model.version.equals(alice.model.version)).to.equal(true, 'versions still equal');
    expect(canonical(bob)).to.not.equal(canonical(alice));
    // The next exchange of versions shows the difference, and a repair settles it.
    await alice.engine.synchronize(MODEL, 5_000);
    await until(() => canonical(alice) === canonical(bob));
    expect(alice.model.get(election.oid)?.getAttribute('description')).to.equal('from carol');
    expect(eventsOf(alice, 'state-mismatch').length + eventsOf(bob, 'state-mismatch').length).to.be.greaterThan(0);
    await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice));
    await settle();
    network.close();
  });
});
