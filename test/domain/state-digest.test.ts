import { expect } from 'chai';
import fc from 'fast-check';
import { BucketDigest, asNodeId, bucketOf, differingBuckets } from '../../src/crdt/index.js';
import { type DomainModel, type EntityState, ValidationError, entityStateHash } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { canonical, library, sync } from './library-schema.js';
import { expectEvery } from '../expectations.js';

/** The digest recomputed from scratch from the canonical entity states, with nothing cached. */
function scratch(model: DomainModel) {
  const summary = new BucketDigest();
  const states = model.getEntityStates();
  for (const state of states) {
    const hash = entityStateHash(state);
    summary.replace(bucketOf(state.oid), 0, 0, parseInt(hash.slice(0, 8), 16), parseInt(hash.slice(8), 16));
  }
  return { root: summary.root, entities: states.length, buckets: summary.buckets() };
}

const statesByOid = (model: DomainModel) => new Map(model.getEntityStates().map((state) => [state.oid, JSON.stringify(state)]));

/** Oids whose states differ between two replicas (held by one only, or held differently). */
function differingOids(a: DomainModel, b: DomainModel): string[] {
  const left = statesByOid(a);
  const right = statesByOid(b);
  return [...new Set([...left.keys(), ...right.keys()])].filter((oid) => left.get(oid) !== right.get(oid)).sort();
}

/** Repairs `to` from `from` the way a sync engine would: buckets, then entity hashes, then states. */
function repair(from: DomainModel, to: DomainModel) {
  const buckets = differingBuckets(from.digestBuckets(), to.digestBuckets());
  const theirs = new Map(to.entityDigestsInBuckets(buckets));
  const oids = from.entityDigestsInBuckets(buckets).filter(([oid, hash]) => theirs.get(oid) !== hash).map(([oid]) => oid);
  return to.repairEntities(from.getEntityStates(oids), from.version);
}

function expectDigestTrue(model: DomainModel) {
  const fresh = scratch(model);
  expect(model.digest()).to.deep.equal({ root: fresh.root, entities: fresh.entities });
  expect(model.digestBuckets()).to.deep.equal(fresh.buckets);
}

function expectDigestsTell(a: DomainModel, b: DomainModel) {
  const oids = differingOids(a, b);
  expect(a.digest().root === b.digest().root, `differing entities: ${oids.join(', ')}`).to.equal(oids.length === 0);
  expect(a.digest().root === b.digest().root).to.equal(JSON.stringify(a.getEntityStates()) === JSON.stringify(b.getEntityStates()));
  const buckets = differingBuckets(a.digestBuckets(), b.digestBuckets());
  expect(buckets).to.deep.equal([...new Set(oids.map(bucketOf))].sort((x, y) => x - y));
  const theirs = new Map(b.entityDigestsInBuckets(buckets));
  const mine = new Map(a.entityDigestsInBuckets(buckets));
  const located = [...new Set([...mine.keys(), ...theirs.keys()])].filter((oid) => mine.get(oid) !== theirs.get(oid)).sort();
  expect(located).to.deep.equal(oids);
}

describe('DomainModel: state digest', () => {
  it('tells apart states whose removal marks name different adds', () => {
    const node = asNodeId('alice');
    const state = (removed?: Array<{ node: typeof node; seq: number }>): EntityState => ({
      entityType: 'Author',
      oid: 'a',
      attributes: {},
      children: {},
      removals: { works: [{ node, seq: 3, ...(removed ? { removed } : {}) }] },
    });
    const hashes = [state(), state([]), state([{ node, seq: 1 }]), state([{ node, seq: 1 }, { node, seq: 2 }])].map(entityStateHash);
    expect(new Set(hashes).size).to.equal(4);
  });

  it('changes with every kind of edit and is the recomputed one after each', () => {
    const alice = library('alice');
    expect(alice.digest().entities).to.equal(0);
    const roots = [alice.digest().root];
    const step = (edit: () => unknown) => {
      edit();
      expectDigestTrue(alice);
      const { root } = alice.digest();
      expect(roots).not.to.include(root);
      roots.push(root);
    };
    step(() => alice.create('Author', { name: 'Ada' }, { oid: 'ada' }));
    step(() => alice.create('Book', { title: 'Notes' }, { oid: 'book' }));
    step(() => alice.update('ada', { rating: 3 }));
    step(() => alice.addChild('ada', 'works', 'book'));
    step(() => alice.removeChild('ada', 'works', 'book'));
    step(() => alice.delete('ada'));
    step(() => alice.restore('ada'));
    expect(alice.digest().entities).to.equal(2);
    // Equal state, equal digest: a replica that learns the same state another way agrees.
    const bob = library('bob');
    bob.initializeFromSnapshot(alice.getSnapshot());
    expect(bob.digest()).to.deep.equal(alice.digest());
  });

  it('counts conflicts and their resolution, and stays cached between edits', () => {
    const clock = fakeClock();
    const alice = library('alice', clock);
    const bob = library('bob', clock);
    const ada = alice.create('Author', { name: 'Ada' });
    sync(alice, bob);
    clock.advance(5);
    ada.setAttribute('name', 'A');
    bob.get(ada.oid)!.setAttribute('name', 'B');
    sync(alice, bob);
    sync(bob, alice);
    expect(alice.conflicts).to.have.length(1);
    expect(alice.digest()).to.deep.equal(bob.digest());
    expectDigestTrue(alice);
    const before = alice.digest().root;
    alice.resolveConflicts(alice.conflicts.map((c) => ({ kind: 'attribute', entityType: c.entityType, oid: c.oid, attribute: c.attribute, writes: [] })));
    expect(alice.digest().root).not.to.equal(before);
    expectDigestTrue(alice);
    expectDigestsTell(alice, bob);
    sync(alice, bob);
    expect(bob.digest()).to.deep.equal(alice.digest());
  });

  it('is the same however the state was reached: loadState, snapshots, entity merges', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'T' });
    ada.addChild('works', book);
    const reloaded = library('alice');
    reloaded.loadState(alice.getEntityStates().reverse(), alice.version);
    expect(reloaded.digest()).to.deep.equal(alice.digest());
    const bob = library('bob');
    bob.create('Author', { name: 'Bea' }, { oid: ada.oid });
    const merged = bob.get(ada.oid)!.mergeWith(ada);
    expect(merged, 'mergeWith changed the entity').to.equal(true);
    expectDigestTrue(bob);
  });

  it('after random edits, syncs, crashes and repairs on three replicas: the incremental digest is the recomputed one, and equal digests mean equal states', () => {
    const at = fc.nat(2);
    const author = fc.constantFrom('a0', 'a1', 'a2');
    const book = fc.constantFrom('b0', 'b1');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('author' as const), at, oid: author, name: fc.constantFrom('Ann', 'Bo') }),
      fc.record({ kind: fc.constant('book' as const), at, oid: book }),
      fc.record({ kind: fc.constant('set' as const), at, oid: author, rating: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('delete' as const), at, oid: fc.oneof(author, book) }),
      fc.record({ kind: fc.constant('restore' as const), at, oid: fc.oneof(author, book) }),
      fc.record({ kind: fc.constant('add' as const), at, oid: author, child: book }),
      fc.record({ kind: fc.constant('remove' as const), at, oid: author, child: book }),
      fc.record({ kind: fc.constant('resolve' as const), at }),
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), at, to: at }) },
      fc.record({ kind: fc.constant('snapshot' as const), at, to: at }),
      fc.record({ kind: fc.constant('merge' as const), at, to: at, oid: author }),
      fc.record({ kind: fc.constant('reload' as const), at }),
      fc.record({ kind: fc.constant('save' as const), at }),
      fc.record({ kind: fc.constant('crash' as const), at }),
      fc.record({ kind: fc.constant('repair' as const), at, to: at }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const clock = fakeClock();
        const nodes = ['alice', 'bob', 'carol'];
        const replicas = nodes.map((node) => library(node, clock));
        const saved: EntityState[][] = nodes.map(() => []);
        for (const o of ops) {
          if (o.kind === 'tick') {
            clock.advance(o.ms);
            continue;
          }
          const model = replicas[o.at]!;
          try {
            if (o.kind === 'author' && !model.get(o.oid, { includeDeleted: true })) model.create('Author', { name: o.name }, { oid: o.oid });
            else if (o.kind === 'book' && !model.get(o.oid, { includeDeleted: true })) model.create('Book', { title: 'T' }, { oid: o.oid });
            else if (o.kind === 'set') model.update(o.oid, { rating: o.rating });
            else if (o.kind === 'delete') model.delete(o.oid);
            else if (o.kind === 'restore') model.restore(o.oid);
            else if (o.kind === 'add') model.addChild(o.oid, 'works', o.child);
            else if (o.kind === 'remove') model.removeChild(o.oid, 'works', o.child);
            else if (o.kind === 'resolve')
              model.resolveConflicts(model.conflicts.map((c) => ({ kind: 'attribute', entityType: c.entityType, oid: c.oid, attribute: c.attribute, writes: [] })));
            else if (o.kind === 'sync') sync(model, replicas[o.to]!);
            else if (o.kind === 'snapshot') replicas[o.to]!.initializeFromSnapshot(model.getSnapshot());
            else if (o.kind === 'merge') {
              const mine = replicas[o.to]!.get(o.oid, { includeDeleted: true });
              const theirs = model.get(o.oid, { includeDeleted: true });
              if (mine && theirs && o.to !== o.at) mine.mergeWith(theirs);
            } else if (o.kind === 'reload') {
              const fresh = library(nodes[o.at]!, clock);
              fresh.loadState(model.getEntityStates(), model.version);
              replicas[o.at] = fresh;
            } else if (o.kind === 'save') saved[o.at] = model.getEntityStates();
            else if (o.kind === 'crash') {
              // Restarts from what was saved last, with the version of now: state lost under a version that covers it.
              const fresh = library(nodes[o.at]!, clock);
              fresh.loadState(saved[o.at]!, model.version);
              replicas[o.at] = fresh;
            } else if (o.kind === 'repair') repair(model, replicas[o.to]!);
          } catch (error) {
            if (!(error instanceof ValidationError)) throw error;
          }
          for (const replica of replicas) expectDigestTrue(replica);
          expectDigestsTell(replicas[0]!, replicas[1]!);
          expectDigestsTell(replicas[1]!, replicas[2]!);
        }
        // Delta sync and digest repair in rounds: every replica ends with the same state.
        for (let round = 0; round < 4; round++)
          for (const a of replicas)
            for (const b of replicas) {
              if (a === b) continue;
              sync(a, b);
              if (a.digest().root !== b.digest().root) repair(a, b);
            }
        const [first, ...rest] = replicas;
        for (const replica of rest) {
          expect(replica.digest()).to.deep.equal(first!.digest());
          expect(differingOids(replica, first!)).to.deep.equal([]);
        }
      }),
      { numRuns: 80 },
    );
  });
});

describe('DomainModel: repair by digest', () => {
  // A replica whose version covers writes its state lost: what a crash between an edit leaving
  // the device and its save used to cause (see docs/architecture.md, "Seqs are never reused").
  function lostWrites() {
    const clock = fakeClock();
    const alice = library('alice', clock);
    const ada = alice.create('Author', { name: 'Ada' }, { oid: 'ada' });
    const book = alice.create('Book', { title: 'T' }, { oid: 'book' });
    const bob = library('bob', clock);
    sync(alice, bob);
    const saved = bob.getEntityStates();
    clock.advance(10);
    ada.setAttribute('name', 'Ada Lovelace');
    ada.addChild('works', book);
    alice.create('Author', { name: 'Grace' }, { oid: 'grace' });
    sync(alice, bob);
    // Bob restarts with the state saved before the last delta, and the version after it.
    const restarted = library('bob', clock);
    restarted.loadState(saved, bob.version);
    return { alice, bob: restarted };
  }

  it('finds and repairs replicas with equal versions and different states, where deltas and entity merges cannot', () => {
    const { alice, bob } = lostWrites();
    expect(bob.version.toJSON()).to.deep.equal(alice.version.toJSON());
    expect(sync(alice, bob)).to.deep.include({ applied: 0 });
    expect(alice.digest().root).not.to.equal(bob.digest().root);
    expect(differingOids(alice, bob)).to.deep.equal(['ada', 'grace']);
    expectDigestsTell(alice, bob);
    // A join that trusts versions loses what the other side holds, here on alice's side.
    const trusting = library('alice');
    trusting.loadState(alice.getEntityStates(), alice.version);
    trusting.get('ada')!.mergeWith(bob.get('ada')!);
    expect(trusting.get('ada')!.getAttribute('name')).to.equal(undefined);

    const toBob = repair(alice, bob);
    expect(toBob).to.deep.include({ rejected: [], complete: true });
    const toAlice = repair(bob, alice);
    expect(toAlice).to.deep.include({ applied: 0, rejected: [] });
    expect(bob.digest()).to.deep.equal(alice.digest());
    expect(canonical(bob)).to.equal(canonical(alice));
    expect(bob.get('ada')!.getAttribute('name')).to.equal('Ada Lovelace');
    expect(bob.get('ada')!.childOids('works')).to.deep.equal(['book']);
    expect(bob.get('grace')!.getAttribute('name')).to.equal('Grace');
    expect(bob.conflicts).to.deep.equal([]);
  });

  it('reaches the same state in either order, and a superseded write does not come back', () => {
    for (const order of ['alice first', 'bob first']) {
      const { alice, bob } = lostWrites();
      if (order === 'alice first') repair(bob, alice);
      repair(alice, bob);
      repair(bob, alice);
      for (const model of [alice, bob]) {
        expect(model.get('ada')!.getAttribute('name'), order).to.equal('Ada Lovelace');
        expect(model.conflicts, order).to.deep.equal([]);
      }
      expect(alice.digest(), order).to.deep.equal(bob.digest());
    }
  });

  it('does not bring back a child that the other replica removed', () => {
    const clock = fakeClock();
    const alice = library('alice', clock);
    const ada = alice.create('Author', { name: 'Ada' }, { oid: 'ada' });
    ada.addChild('works', alice.create('Book', { title: 'T' }, { oid: 'book' }));
    const bob = library('bob', clock);
    sync(alice, bob);
    const saved = alice.getEntityStates();
    bob.removeChild('ada', 'works', 'book');
    sync(bob, alice);
    // Alice restarts having lost the removal, but with the version that covers it.
    const restarted = library('alice', clock);
    restarted.loadState(saved, alice.version);
    expect(restarted.get('ada')!.childOids('works')).to.deep.equal(['book']);
    expect(restarted.digest().root).not.to.equal(bob.digest().root);
    repair(bob, restarted);
    repair(restarted, bob);
    for (const model of [restarted, bob]) expect(model.get('ada')!.childOids('works')).to.deep.equal([]);
    expect(restarted.digest()).to.deep.equal(bob.digest());
  });

  it('refuses a version claiming operations of the receiver it never made', () => {
    const { alice, bob } = lostWrites();
    const claim = alice.version.clone();
    claim.update(asNodeId('bob'), 1_000);
    const before = bob.digest();
    expect(bob.repairEntities(alice.getEntityStates(), claim)).to.deep.include({ applied: 0, complete: false });
    expect(bob.digest()).to.deep.equal(before);
  });

  it('refuses bad states whole and changes nothing, without throwing', () => {
    const clock = fakeClock();
    const alice = library('alice', clock);
    alice.create('Author', { name: 'Ada' }, { oid: 'ada' });
    const before = { digest: alice.digest(), state: canonical(alice) };
    const good: EntityState = alice.getEntityStates()[0]!;
    const write = good.attributes.name![0]!;
    const bad: unknown[] = [
      null,
      'x',
      { ...good, entityType: 'Planet' },
      { ...good, attributes: { name: [{ ...write, value: 42 }] } },
      { ...good, attributes: { nope: [write] } },
      { ...good, attributes: { name: [{ ...write, dot: { node: 'alice', seq: 99 } }] } },
      { ...good, attributes: { name: [{ ...write, ts: { ms: clock.now() + 3_600_000, c: 0 }, dot: { node: 'mallory', seq: 1 } }] } },
      { ...good, oid: 'book', entityType: 'Book', attributes: { title: [{ ...write, dot: { node: 'mallory', seq: 2 } }] }, children: { nope: [] } },
    ];
    const result = alice.repairEntities(bad, alice.version);
    expect(result).to.deep.include({ applied: 0, complete: false });
    expect(result.rejected).to.have.length(bad.length);
    expect(alice.digest()).to.deep.equal(before.digest);
    expect(canonical(alice)).to.equal(before.state);
  });

  it('selects by bucket, and bucket numbers out of range select nothing', () => {
    const alice = library('alice');
    for (let i = 0; i < 40; i++) alice.create('Author', { name: `A${i}` });
    const all = Array.from({ length: 256 }, (_, i) => i);
    expect(alice.entityStatesInBuckets(all)).to.deep.equal(alice.getEntityStates());
    expect(alice.entityStatesInBuckets([-1, 256, 1.5, NaN])).to.deep.equal([]);
    const some = [bucketOf('alice-1'), bucketOf('alice-2')];
    expect(alice.entityStatesInBuckets(some).map((s) => s.oid)).to.include.members(['alice-1', 'alice-2']);
    expectEvery(alice.entityStatesInBuckets(some), (s) => some.includes(bucketOf(s.oid)));
    expect(alice.entityDigestsInBuckets(all).map(([oid, hash]) => [oid, hash])).to.deep.equal(
      alice.getEntityStates().map((s) => [s.oid, entityStateHash(s)]),
    );
  });

  it('brings the digest up to date a bounded number of entities at a time', () => {
    const alice = library('alice');
    for (let i = 0; i < 250; i++) alice.create('Author', { name: `A${i}` });
    const bob = library('bob');
    bob.applyChanges(alice.getDelta(bob.version));
    // 250 entities changed: three calls of 100 until it is current, then nothing left to do.
    expect([bob.refreshDigest(100), bob.refreshDigest(100), bob.refreshDigest(100), bob.refreshDigest(100)]).to.deep.equal([false, false, true, true]);
    expectDigestTrue(bob);
    expect(bob.digest()).to.deep.equal(alice.digest());
  });
});
