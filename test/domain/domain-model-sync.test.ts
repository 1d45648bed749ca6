import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import { type ChangeBatch, type DomainModel, type ModelChangedDetail, decodeChangeBatch } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { aliceAndBobWithAda, canonical, library, sync } from './library-schema.js';
import { expectEvery } from '../expectations.js';

describe('DomainModel: synchronization', () => {
  it('a delta brings a replica up to date, and nothing is sent twice', () => {
    const alice = library('alice');
    const bob = library('bob');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'Notes', author: ada.oid });
    ada.addChild('works', book);
    const result = sync(alice, bob);
    expect(result).to.deep.include({ rejected: [], complete: true });
    expect(result.applied).to.equal(alice.getChangesSince(new VersionVector()).length);
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(alice.getChangesSince(bob.version)).to.deep.equal([]);
    expect(bob.get(ada.oid)?.getChild('works').map((b) => b.oid)).to.deep.equal([book.oid]);
    expect(sync(alice, bob)).to.deep.include({ applied: 0, ignored: 0 });
  });

  it('a delta costs what changed, not the model size', () => {
    const alice = library('alice');
    for (let i = 0; i < 2000; i++) alice.create('Author', { name: `A${i}` });
    const bob = library('bob');
    sync(alice, bob);
    const before = bob.version;
    const authors = alice.entities('Author').toArray();
    authors[5]!.setAttribute('rating', 3);
    authors[900]!.setAttribute('name', 'Renamed');
    authors[1999]!.delete();
    const changes = alice.getChangesSince(before);
    expect(changes.map((c) => (c.kind === 'attribute' ? `${c.oid}.${c.attribute}` : c.kind)).sort()).to.deep.equal(
      [`${authors[1999]!.oid}.$deleted`, `${authors[5]!.oid}.rating`, `${authors[900]!.oid}.name`].sort(),
    );
  });

  it('deltas stay right after the touch log compacts itself, also for versions with gaps', () => {
    const alice = library('alice');
    const bob = library('bob');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'T' });
    sync(alice, bob);
    const old = bob.version;
    for (let i = 0; i < 10_000; i++) ada.setAttribute('rating', i % 5);
    ada.addChild('works', book);
    const changes = alice.getChangesSince(old);
    expect(changes.map((c) => c.kind).sort()).to.deep.equal(['attribute', 'child-add']);
    sync(alice, bob);
    expect(canonical(bob)).to.equal(canonical(alice));
    // A since with a gap (seqs 3..last-1 missing): what lies in the gap is sent, the rest is not.
    const gappy = VersionVector.fromJSON({ alice: [2, alice.version.get(alice.nodeId)] });
    const sent = alice.getChangesSince(gappy).map((c) => (c.kind === 'attribute' ? c.attribute : c.kind));
    expect(sent.sort()).to.deep.equal(['active', 'genre', 'rating', 'title']);
  });

  it('concurrent writes both survive: the last writer shows, the other is a conflict on every replica', () => {
    const clock = fakeClock();
    const { alice, bob, ada } = aliceAndBobWithAda(clock);
    clock.advance(10);
    ada.setAttribute('name', 'Ada A');
    clock.advance(10);
    bob.get(ada.oid)!.setAttribute('name', 'Ada B');
    const result = sync(alice, bob);
    expect(result.conflicts).to.have.length(1);
    sync(bob, alice);
    for (const model of [alice, bob]) {
      expect(model.get(ada.oid)!.getAttribute('name')).to.equal('Ada B');
      const [conflict] = model.conflicts;
      expect(conflict).to.deep.include({ entityType: 'Author', oid: ada.oid, attribute: 'name' });
      expect(conflict!.winner.dot.node).to.equal('bob');
      expect(conflict!.losers.map((w) => [w.value, w.dot.node])).to.deep.equal([['Ada A', 'alice']]);
    }
    expect(canonical(alice)).to.equal(canonical(bob));
  });

  it('a write made after seeing the old value replaces it without a conflict', () => {
    const { alice, bob, ada } = aliceAndBobWithAda();
    bob.get(ada.oid)!.setAttribute('name', 'Ada B');
    sync(bob, alice);
    expect(alice.get(ada.oid)!.getAttribute('name')).to.equal('Ada B');
    expect(alice.conflicts).to.deep.equal([]);
  });

  it('editing a conflicted value keeps the conflict until it is resolved; resolution travels', () => {
    const clock = fakeClock();
    const { alice, bob, ada } = aliceAndBobWithAda(clock);
    ada.setAttribute('rating', 1);
    bob.get(ada.oid)!.setAttribute('rating', 2);
    sync(alice, bob);
    sync(bob, alice);
    ada.setAttribute('rating', 3);
    expect(alice.conflicts).to.have.length(1);
    const resolution = alice.resolveConflicts(
      alice.conflicts.map((c) => ({ kind: 'attribute', entityType: c.entityType, oid: c.oid, attribute: c.attribute, writes: [c.winner] })),
      (change) => (change.writes.length === 2 ? 4 : 0),
    );
    expect(resolution.resolved).to.deep.equal([{ oid: ada.oid, attribute: 'rating', value: 4 }]);
    expect(resolution.changes).to.have.length(1);
    expect(alice.conflicts).to.deep.equal([]);
    sync(alice, bob);
    expect(bob.conflicts).to.deep.equal([]);
    expect(bob.get(ada.oid)!.getAttribute('rating')).to.equal(4);
    expect(canonical(alice)).to.equal(canonical(bob));
  });

  it('resolveConflicts validates the pick before writing anything', () => {
    const { alice, bob, ada } = aliceAndBobWithAda();
    ada.setAttribute('rating', 1);
    bob.get(ada.oid)!.setAttribute('rating', 2);
    sync(bob, alice);
    const before = canonical(alice);
    const changes = alice.getChangesSince(new VersionVector()).filter((c) => c.kind === 'attribute' && c.attribute === 'rating');
    expect(() => alice.resolveConflicts(changes, () => 9)).to.throw(/rating: max/);
    expect(canonical(alice)).to.equal(before);
    expect(alice.resolveConflicts(changes).resolved).to.have.length(1);
    expect(alice.resolveConflicts(changes).resolved).to.have.length(0);
  });

  describe('deletion', () => {
    it('an edit concurrent with a delete is kept inside and reported; restore brings it back', () => {
      const clock = fakeClock();
      const { alice, bob, ada } = aliceAndBobWithAda(clock);
      clock.advance(10);
      alice.delete(ada.oid);
      clock.advance(10);
      bob.get(ada.oid)!.setAttribute('rating', 5);
      sync(alice, bob);
      sync(bob, alice);
      for (const model of [alice, bob]) {
        expect(model.get(ada.oid)).to.equal(undefined);
        const [conflict] = model.conflicts;
        expect(conflict).to.deep.include({ attribute: '$deleted', oid: ada.oid, losers: [] });
        expect(conflict!.winner.value).to.equal(true);
        expect(conflict!.concurrentEdits!.map((e) => [e.attribute, e.write.value])).to.deep.equal([['rating', 5]]);
      }
      expect(canonical(alice)).to.equal(canonical(bob));
      alice.restore(ada.oid);
      expect(alice.get(ada.oid)!.getAttribute('rating')).to.equal(5);
      expect(alice.conflicts).to.deep.equal([]);
    });

    it('resolving a deletion conflict with true keeps the entity deleted and settles it everywhere', () => {
      const clock = fakeClock();
      const { alice, bob, ada } = aliceAndBobWithAda(clock);
      alice.delete(ada.oid);
      clock.advance(5);
      bob.get(ada.oid)!.setAttribute('name', 'Edited');
      sync(bob, alice);
      const deletion = alice.getChangesSince(new VersionVector()).filter((c) => c.kind === 'attribute' && c.attribute === '$deleted');
      expect(alice.resolveConflicts(deletion).resolved).to.deep.equal([{ oid: ada.oid, attribute: '$deleted', value: true }]);
      sync(alice, bob);
      for (const model of [alice, bob]) {
        expect(model.conflicts).to.deep.equal([]);
        expect(model.get(ada.oid)).to.equal(undefined);
      }
    });

    it('an edit that happened before the delete is no conflict', () => {
      const { alice, bob, ada } = aliceAndBobWithAda();
      bob.get(ada.oid)!.setAttribute('rating', 2);
      sync(bob, alice);
      alice.delete(ada.oid);
      sync(alice, bob);
      expect(bob.conflicts).to.deep.equal([]);
      expect(bob.get(ada.oid)).to.equal(undefined);
    });

    it('concurrent delete and restore: last writer wins, the other is a conflict', () => {
      const clock = fakeClock();
      const alice = library('alice', clock);
      const bob = library('bob', clock);
      const ada = alice.create('Author', { name: 'Ada' });
      alice.delete(ada.oid);
      sync(alice, bob);
      clock.advance(1);
      bob.restore(ada.oid);
      clock.advance(1);
      alice.restore(ada.oid);
      alice.delete(ada.oid);
      sync(alice, bob);
      sync(bob, alice);
      expect(alice.get(ada.oid)).to.equal(undefined);
      expect(alice.conflicts.map((c) => [c.attribute, c.losers.map((w) => w.value)])).to.deep.equal([['$deleted', [false]]]);
      expect(canonical(alice)).to.equal(canonical(bob));
    });
  });

  describe('child relations', () => {
    /** Ada's book reached Bob and Carol; then Alice removed it from Ada's works and told only Bob. */
    function removalSyncedToBobOnly() {
      const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => library(n)) as [DomainModel, DomainModel, DomainModel];
      const ada = alice.create('Author', { name: 'Ada' });
      const book = alice.create('Book', { title: 'T' });
      ada.addChild('works', book);
      sync(alice, bob);
      sync(alice, carol);
      ada.removeChild('works', book);
      sync(alice, bob);
      return { alice, bob, carol, ada };
    }

    it('a removal reaches a third replica through a relay', () => {
      const { bob, carol, ada, alice } = removalSyncedToBobOnly();
      sync(bob, carol);
      expect(carol.get(ada.oid)!.childOids('works')).to.deep.equal([]);
      expect(canonical(carol)).to.equal(canonical(alice));
    });

    it('a removal still travels after the relay reloaded from a snapshot', () => {
      const { bob, carol, ada } = removalSyncedToBobOnly();
      const reloaded = library('bob');
      reloaded.loadState(bob.getEntityStates(), bob.version);
      sync(reloaded, carol);
      expect(carol.get(ada.oid)!.childOids('works')).to.deep.equal([]);
    });

    it('concurrent add and remove of the same child: the add wins', () => {
      const alice = library('alice');
      const bob = library('bob');
      const ada = alice.create('Author', { name: 'Ada' });
      const book = alice.create('Book', { title: 'T' });
      ada.addChild('works', book);
      sync(alice, bob);
      ada.removeChild('works', book);
      ada.addChild('works', book);
      bob.removeChild(ada.oid, 'works', book.oid);
      sync(alice, bob);
      sync(bob, alice);
      for (const model of [alice, bob]) expect(model.get(ada.oid)!.childOids('works')).to.deep.equal([book.oid]);
      expect(canonical(alice)).to.equal(canonical(bob));
    });
  });

  describe('version adoption', () => {
    it('a delta assuming state the receiver lacks is applied but not adopted; a full exchange repairs it', () => {
      const alice = library('alice');
      const bob = library('bob');
      const ada = alice.create('Author', { name: 'Ada' });
      const early = alice.version;
      ada.setAttribute('rating', 1);
      const late = alice.getDelta(early);
      const result = bob.applyChanges(late);
      expect(result).to.deep.include({ applied: 1, complete: false });
      expect(bob.version.toJSON()).to.deep.equal({});
      sync(alice, bob);
      expect(canonical(bob)).to.equal(canonical(alice));
    });

    it('deltas delivered out of order converge with no leftover conflict', () => {
      const alice = library('alice');
      const bob = library('bob');
      const ada = alice.create('Author', { name: 'v1' });
      const v0 = bob.version;
      const v1 = alice.version;
      const first = alice.getDelta(v0);
      ada.setAttribute('name', 'v2');
      const second = alice.getDelta(v1);
      expect(bob.applyChanges(second)).to.include({ complete: false });
      expect(bob.applyChanges(first)).to.include({ complete: true });
      sync(alice, bob);
      expect(bob.conflicts).to.deep.equal([]);
      expect(canonical(bob)).to.equal(canonical(alice));
    });

    it('partial batches are joined but only the last part adopts the version', () => {
      const alice = library('alice');
      const bob = library('bob');
      for (let i = 0; i < 4; i++) alice.create('Author', { name: `A${i}` });
      const delta = alice.getDelta(bob.version);
      const half = delta.changes.length / 2;
      const first: ChangeBatch = { ...delta, changes: delta.changes.slice(0, half), partial: true };
      const last: ChangeBatch = { ...delta, changes: delta.changes.slice(half) };
      expect(bob.applyChanges(first)).to.include({ complete: true });
      expect(bob.version.toJSON()).to.deep.equal({});
      bob.applyChanges(last);
      expect(bob.version.toJSON()).to.deep.equal(alice.version.toJSON());
      expect(canonical(bob)).to.equal(canonical(alice));
    });

    it('a part with a rejected change keeps the last part from being adopted', () => {
      const alice = library('alice');
      const bob = library('bob');
      alice.create('Author', { name: 'A' });
      const delta = alice.getDelta(bob.version);
      const bad = { kind: 'attribute', entityType: 'Nope', oid: 'x', attribute: 'a', writes: [] };
      bob.applyChanges({ ...delta, changes: [bad as never], partial: true });
      const result = bob.applyChanges(delta);
      expect(result).to.include({ complete: true });
      expect(bob.version.toJSON()).to.deep.equal({});
    });

    it('a plain array of changes is a union: nothing dropped, no version adopted', () => {
      const { alice, bob, ada } = aliceAndBobWithAda();
      ada.setAttribute('name', 'Ada 2');
      const result = bob.applyChanges(alice.getChangesSince(bob.version));
      expect(result).to.deep.include({ applied: 1, complete: true });
      // Without alice's context bob cannot know she had seen "Ada": both stay, as a conflict.
      expect(bob.get(ada.oid)!.getAttribute('name')).to.equal('Ada 2');
      expect(bob.conflicts).to.have.length(1);
      sync(alice, bob);
      expect(bob.conflicts).to.deep.equal([]);
    });

    it('accepts batches that went through JSON and decodeChangeBatch', () => {
      const alice = library('alice');
      const bob = library('bob');
      alice.create('Author', { name: 'Ada', born: '1815-12-10' });
      const decoded = decodeChangeBatch(JSON.parse(JSON.stringify(alice.getDelta(bob.version))));
      if ('error' in decoded) expect.fail(decoded.error);
      expect(bob.applyChanges(decoded)).to.include({ complete: true });
      expect(canonical(bob)).to.equal(canonical(alice));
    });
  });

  it('tells listeners about applied remote changes, with the merged values', () => {
    const alice = library('alice');
    const bob = library('bob');
    const seen: ModelChangedDetail[] = [];
    bob.onChange((d) => seen.push(d));
    const ada = alice.create('Author', { name: 'Ada' });
    sync(alice, bob);
    sync(alice, bob);
    expect(seen).to.have.length(1);
    expect(seen[0]!.origin).to.equal('remote');
    expectEvery(seen[0]!.changes, (c) => c.oid === ada.oid);
  });

  it('entity mergeWith joins another replica\'s copy', () => {
    const { alice, bob, ada } = aliceAndBobWithAda();
    bob.get(ada.oid)!.setAttribute('rating', 4);
    expect(ada.mergeWith(bob.get(ada.oid)!), "merging bob's newer rating changes the entity").to.equal(true);
    expect(ada.getAttribute('rating')).to.equal(4);
    expect(ada.mergeWith(bob.get(ada.oid)!), 'merging the same state again changes the entity').to.equal(false);
    expect(() => ada.mergeWith(alice.create('Author', { name: 'B' }))).to.throw(/cannot merge/);
  });
});
