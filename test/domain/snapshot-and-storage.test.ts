import { expect } from 'chai';
import fc from 'fast-check';
import { type VersionVector, asNodeId } from '../../src/crdt/index.js';
import { type EntityState, type ModelChangedDetail, changedOids, mergeEntityStates } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { canonical, library, sync } from './library-schema.js';

describe('DomainModel: snapshots and storage hooks', () => {
  it('snapshot → initializeFromSnapshot round-trips', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada', email: 'a@x.org' });
    const book = alice.create('Book', { title: 'T', author: ada.oid });
    ada.addChild('works', book);
    book.delete();
    const copy = library('bob');
    expect(copy.initializeFromSnapshot(JSON.parse(JSON.stringify(alice.getSnapshot()))), 'initializeFromSnapshot took the snapshot through JSON').to.equal(true);
    expect(canonical(copy)).to.equal(canonical(alice));
    expect(copy.findBy('Author', 'email', 'a@x.org').first()?.oid).to.equal(ada.oid);
    expect(alice.getChangesSince(copy.version)).to.deep.equal([]);
  });

  it('merges a snapshot into local state instead of replacing it', () => {
    const alice = library('alice');
    const bob = library('bob');
    alice.create('Author', { name: 'Ada' });
    const bobs = bob.create('Author', { name: 'Bob' });
    expect(bob.initializeFromSnapshot(alice.getSnapshot()), 'initializeFromSnapshot took the snapshot').to.equal(true);
    expect(bob.entities('Author').count).to.equal(2);
    expect(bob.get(bobs.oid)!.getAttribute('name')).to.equal('Bob');
  });

  it('a snapshot drops what its replica had seen and superseded', () => {
    const alice = library('alice');
    const bob = library('bob');
    const ada = alice.create('Author', { name: 'Ada' });
    sync(alice, bob);
    ada.setAttribute('name', 'Ada 2');
    bob.initializeFromSnapshot(alice.getSnapshot());
    expect(bob.conflicts).to.deep.equal([]);
    expect(canonical(bob)).to.equal(canonical(alice));
  });

  it('refuses another model\'s snapshot or an invalid one, changing nothing', () => {
    const alice = library('alice');
    alice.create('Author', { name: 'Ada' });
    const bob = library('bob');
    bob.create('Author', { name: 'Bob' });
    const before = canonical(bob);
    const snapshot = alice.getSnapshot();
    expect(bob.initializeFromSnapshot({ ...snapshot, modelId: 'other' }), "initializeFromSnapshot took another model's snapshot").to.equal(false);
    const entity = snapshot.entities[0]!;
    const hostile: EntityState = { ...entity, attributes: { ...entity.attributes, rating: [{ value: 'five', ts: { ms: 1, c: 0 }, dot: { node: asNodeId('alice'), seq: 9 } }] } };
    expect(bob.initializeFromSnapshot({ ...snapshot, version: { alice: 9 }, entities: [hostile] }), 'initializeFromSnapshot took a hostile entity').to.equal(false);
    expect(bob.initializeFromSnapshot({ ...snapshot, version: { ...snapshot.version, bob: 100 } }), "initializeFromSnapshot took a version claiming this node's own seqs").to.equal(false);
    expect(canonical(bob)).to.equal(before);
  });

  it('getEntityStates and loadState restore a model, and the reloaded model keeps its seqs', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    alice.create('Book', { title: 'T', author: ada.oid });
    const reloaded = library('alice');
    const seen: ModelChangedDetail[] = [];
    reloaded.onChange((d) => seen.push(d));
    const result = reloaded.loadState(alice.getEntityStates(), alice.version);
    expect(result.rejected).to.deep.equal([]);
    expect(canonical(reloaded)).to.equal(canonical(alice));
    expect(seen[0]!.origin).to.equal('remote');
    expect([...changedOids(seen[0]!)].sort()).to.deep.equal(alice.getEntityStates().map((s) => s.oid));
    const next = reloaded.create('Author', { name: 'New' }, { oid: 'new' });
    expect(next.version.toJSON()).to.deep.equal({ alice: [0, 7, 8, 9] });
    expect(alice.getEntityStates([ada.oid, 'missing']).map((s) => s.oid)).to.deep.equal([ada.oid]);
  });

  it('loadState skips corrupt entities and then does not adopt the version', () => {
    const alice = library('alice');
    alice.create('Author', { name: 'Ada' });
    const reloaded = library('alice');
    const corrupt = { entityType: 'Dragon', oid: 'x', attributes: {}, children: {} } as EntityState;
    const result = reloaded.loadState([...alice.getEntityStates(), corrupt], alice.version);
    expect(result.rejected.map((r) => r.reason)).to.deep.equal(['unknown concept Dragon']);
    expect(reloaded.entities('Author').count).to.equal(1);
    expect(reloaded.version.toJSON()).to.deep.equal({});
  });

  it('loadState checks every stored entity whole: one bad register or relation skips the entity, never part of it', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada', rating: 4 });
    const book = alice.create('Book', { title: 'T' });
    ada.addChild('works', book);
    const [adaState, bookState] = alice.getEntityStates([ada.oid, book.oid]) as [EntityState, EntityState];
    const write = adaState.attributes.rating![0]!;
    const bad: Array<[EntityState, string]> = [
      [{ ...adaState, oid: 'a1', attributes: { ...adaState.attributes, rating: [{ ...write, value: 'five' }] } }, 'Author.rating: expected a finite number, got "five"'],
      [{ ...adaState, oid: 'a2', attributes: { ...adaState.attributes, shoeSize: [write] } }, 'unknown attribute Author.shoeSize'],
      [{ ...adaState, oid: 'a3', children: { ...adaState.children, friends: [] } }, 'unknown relation Author.friends'],
      [{ ...adaState, oid: 'a4', removals: { fans: [write.dot] } }, 'unknown relation Author.fans'],
      [{ ...bookState, oid: ada.oid }, `entity ${ada.oid} is a Author, not a Book`],
    ];
    const reloaded = library('alice');
    const result = reloaded.loadState([adaState, bookState, ...bad.map(([state]) => state)], alice.version);
    expect(result.rejected.map((r) => r.reason)).to.deep.equal(bad.map(([, reason]) => reason));
    expect(result.rejected.map((r) => r.change)).to.deep.equal(bad.map(([state]) => state));
    for (const oid of ['a1', 'a2', 'a3', 'a4']) expect(reloaded.get(oid, { includeDeleted: true })).to.equal(undefined);
    expect(reloaded.getEntityStates()).to.deep.equal([adaState, bookState].sort((a, b) => (a.oid < b.oid ? -1 : 1)));
    expect(reloaded.version.toJSON()).to.deep.equal({});
  });

  it('loadState counts each register and relation as applied, or ignored when already held', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    ada.addChild('works', alice.create('Book', { title: 'T' }));
    const states = alice.getEntityStates();
    const parts = states.reduce((sum, state) => sum + Object.keys(state.attributes).length + Object.keys(state.children).length, 0);
    const reloaded = library('alice');
    expect(reloaded.loadState(states, alice.version)).to.deep.include({ applied: parts, ignored: 0, complete: true });
    expect(reloaded.loadState(states, alice.version)).to.deep.include({ applied: 0, ignored: parts, complete: true });
    expect(canonical(reloaded)).to.equal(canonical(alice));
  });

  describe('mergeEntityStates', () => {
    // Three tabs edit one entity concurrently; their stored states and versions are then joined.
    const op = fc.record({ tab: fc.nat(2), attribute: fc.constantFrom('name', 'rating'), value: fc.integer({ min: 1, max: 5 }), sync: fc.nat(3) });
    const tabsAfter = (ops: Array<{ tab: number; attribute: string; value: number; sync: number }>) => {
      const clock = fakeClock();
      const tabs = ['alice', 'bob', 'carol'].map((n) => library(n, clock));
      const ada = tabs[0]!.create('Author', { name: 'Ada' }, { oid: 'ada' });
      for (const t of tabs.slice(1)) sync(tabs[0]!, t);
      for (const o of ops) {
        clock.advance(1);
        tabs[o.tab]!.get(ada.oid)!.setAttribute(o.attribute, o.attribute === 'name' ? `N${o.value}` : o.value);
        if (o.sync < 3 && o.sync !== o.tab) sync(tabs[o.tab]!, tabs[o.sync]!);
      }
      return tabs.map((t) => ({ state: t.getEntityStates(['ada'])[0]!, version: t.version }));
    };
    const join = (a: { state: EntityState; version: VersionVector }, b: { state: EntityState; version: VersionVector }) => ({
      state: mergeEntityStates(a.state, a.version, b.state, b.version),
      version: a.version.clone().mergeWith(b.version),
    });

    it('is commutative, associative and idempotent, and agrees with the model merge', () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
          const [a, b, c] = tabsAfter(ops) as [ReturnType<typeof tabsAfter>[0], ReturnType<typeof tabsAfter>[0], ReturnType<typeof tabsAfter>[0]];
          expect(join(a, b).state).to.deep.equal(join(b, a).state);
          expect(join(join(a, b), c).state).to.deep.equal(join(a, join(b, c)).state);
          expect(join(a, a).state).to.deep.equal(a.state);
          const model = library('dave');
          model.loadState([a.state], a.version);
          model.loadState([b.state], b.version);
          expect(model.getEntityStates(['ada'])[0]).to.deep.equal(join(a, b).state);
        }),
        { numRuns: 60 },
      );
    });

    it('refuses to merge different entities', () => {
      const alice = library('alice');
      const [x, y] = [alice.create('Author', { name: 'X' }), alice.create('Author', { name: 'Y' })].map((e) => e.toState());
      expect(() => mergeEntityStates(x!, alice.version, y!, alice.version)).to.throw(/cannot merge/);
    });
  });
});
