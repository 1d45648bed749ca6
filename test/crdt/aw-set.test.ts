import { expect } from 'chai';
import fc from 'fast-check';
import { AWSet, VersionVector, asNodeId, containsDot, mergeSets } from '../../src/crdt/index.js';
import type { Dot } from '../../src/crdt/index.js';

const dot = (node: string, seq: number): Dot => ({ node: asNodeId(node), seq });
const context = (...dots: Dot[]) => {
  const v = new VersionVector();
  for (const d of dots) v.add(d);
  return v;
};
const sorted = (set: AWSet<string>) => [...set.values()].sort();

describe('AWSet', () => {
  it('adds, removes and reports the removed dots', () => {
    const set = new AWSet<string>();
    set.add('x', dot('alice', 1));
    set.add('y', dot('alice', 2));
    expect(set.has('x'), "has('x') after add").to.equal(true);
    expect(set.size).to.equal(2);
    expect(set.remove('x')).to.deep.equal([dot('alice', 1)]);
    expect(set.remove('x')).to.deep.equal([]);
    expect(sorted(set)).to.deep.equal(['y']);
  });

  it('a re-add replaces the observed dots', () => {
    const set = new AWSet<string>();
    set.add('x', dot('alice', 1));
    set.add('x', dot('alice', 2));
    expect(set.dotsOf('x')).to.deep.equal([dot('alice', 2)]);
  });

  it('concurrent add and remove of the same element: the element stays (add wins)', () => {
    // Both start with x (alice:1). Alice removes it (alice:2); bob concurrently re-adds it (bob:1).
    const start = context(dot('alice', 1));
    const alice = new AWSet<string>();
    alice.add('x', dot('alice', 1));
    const bob = alice.clone();
    alice.markRemoval(dot('alice', 2), alice.remove('x'));
    const aliceContext = start.clone().mergeWith(context(dot('alice', 2)));
    bob.add('x', dot('bob', 1));
    const bobContext = start.clone().mergeWith(context(dot('bob', 1)));
    const merged = mergeSets(alice, aliceContext, bob, bobContext);
    expect(sorted(merged)).to.deep.equal(['x']);
    expect(merged.dotsOf('x')).to.deep.equal([dot('bob', 1)]);
    expect(sorted(mergeSets(bob, bobContext, alice, aliceContext))).to.deep.equal(['x']);
  });

  it('a remove of an element the other side had seen removes it there, without tombstones', () => {
    const ctxBoth = context(dot('alice', 1));
    const alice = new AWSet<string>();
    alice.add('x', dot('alice', 1));
    const bob = alice.clone();
    alice.markRemoval(dot('alice', 2), alice.remove('x'));
    const change = bob.join({ items: alice.entries(), removals: alice.removals() }, ctxBoth, context(dot('alice', 1), dot('alice', 2)));
    expect(sorted(bob)).to.deep.equal([]);
    expect(change?.removed).to.deep.equal([['x', dot('alice', 1)]]);
    expect(change?.marks).to.deep.equal([{ ...dot('alice', 2), removed: [dot('alice', 1)] }]);
    expect(bob.removals()).to.deep.equal([{ ...dot('alice', 2), removed: [dot('alice', 1)] }]);
  });

  it('keeps one removal mark per node, the latest', () => {
    const set = new AWSet<string>();
    set.markRemoval(dot('alice', 3), []);
    set.markRemoval(dot('alice', 2), []);
    set.markRemoval(dot('bob', 1), []);
    expect(set.removals().map(({ node, seq }) => ({ node, seq }))).to.deep.equal([dot('alice', 3), dot('bob', 1)]);
    expect(set.hasMark(dot('alice', 3)), 'the latest mark alice:3 is kept').to.equal(true);
    expect(set.hasMark(dot('alice', 2)), 'the older mark alice:2 is dropped').to.equal(false);
  });

  it('a removal mark names every add its node removed from the set, cumulatively', () => {
    const set = new AWSet<string>();
    set.add('x', dot('alice', 1));
    set.joinAdd('x', dot('bob', 1), context());
    set.add('y', dot('alice', 2));
    set.markRemoval(dot('alice', 3), set.remove('x'));
    expect(set.removals()).to.deep.equal([{ ...dot('alice', 3), removed: [dot('alice', 1), dot('bob', 1)] }]);
    set.markRemoval(dot('alice', 4), set.remove('y'));
    expect(set.removals(), 'the later mark also lists what the earlier one removed').to.deep.equal([
      { ...dot('alice', 4), removed: [dot('alice', 1), dot('alice', 2), dot('bob', 1)] },
    ]);
    expect(containsDot(set.removals()[0]!.removed!, dot('bob', 1))).to.equal(true);
    expect(containsDot(set.removals()[0]!.removed!, dot('bob', 2))).to.equal(false);
  });

  it('marks of one dot join to the union of their lists (a legacy mark without a list adds nothing)', () => {
    const legacy = new AWSet<string>({ items: [], removals: [dot('alice', 3)] });
    const listed = new AWSet<string>({ items: [], removals: [{ ...dot('alice', 3), removed: [dot('bob', 1)] }] });
    const none = context();
    const ab = mergeSets(legacy, none, listed, none).removals();
    const ba = mergeSets(listed, none, legacy, none).removals();
    expect(ab).to.deep.equal([{ ...dot('alice', 3), removed: [dot('bob', 1)] }]);
    expect(ba).to.deep.equal(ab);
    expect(listed.join({ items: [], removals: [dot('alice', 3)] }, none, none), 'a legacy copy of a held mark changes nothing').to.equal(null);
  });

  it('joinAdd adds a remote dot unless it was seen (and so removed) already', () => {
    const set = new AWSet<string>();
    const seen = context(dot('alice', 1));
    expect(set.joinAdd('x', dot('alice', 1), seen), 'joinAdd of a seen dot adds nothing').to.equal(false);
    expect(set.joinAdd('x', dot('bob', 1), seen), 'joinAdd of an unseen dot bob:1 adds it').to.equal(true);
    expect(set.joinAdd('x', dot('carol', 1), seen), 'joinAdd of an unseen dot carol:1 adds it').to.equal(true);
    expect(set.dotsOf('x')).to.deep.equal([dot('bob', 1), dot('carol', 1)]);
  });

  describe('laws of the join (with causal contexts)', () => {
    const nodes = ['alice', 'bob', 'carol'];
    const elements = ['x', 'y', 'z'];
    // Every dot is the add of one element, fixed across replicas.
    const universe = nodes.flatMap((node, n) => [1, 2, 3, 4].map((seq) => ({ dot: dot(node, seq), element: elements[(seq + n) % 3]! })));
    const replica = fc
      .tuple(
        fc.subarray(universe),
        fc.array(fc.constantFrom('keep', 'drop', 'mark'), { minLength: universe.length, maxLength: universe.length }),
      )
      .map(([seen, fate]) => {
        const set = new AWSet<string>({
          items: elements.map((e) => [e, seen.filter((u, i) => u.element === e && fate[i] === 'keep').map((u) => u.dot)] as const),
          removals: seen.filter((_, i) => fate[i] === 'mark').map((u) => u.dot),
        });
        return { set, context: context(...seen.map((u) => u.dot)) };
      });
    type Replica = { set: AWSet<string>; context: VersionVector };
    const join = (a: Replica, b: Replica): Replica => ({
      set: mergeSets(a.set, a.context, b.set, b.context),
      context: a.context.clone().mergeWith(b.context),
    });
    const canonical = (r: Replica) => ({
      items: [...r.set.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
      removals: r.set.removals(),
      context: r.context.toJSON(),
    });
    const same = (a: Replica, b: Replica): void => {
      expect(canonical(a)).to.deep.equal(canonical(b));
    };

    it('is commutative', () => {
      fc.assert(fc.property(replica, replica, (a, b) => same(join(a, b), join(b, a))), { numRuns: 300 });
    });
    it('is associative', () => {
      fc.assert(fc.property(replica, replica, replica, (a, b, c) => same(join(join(a, b), c), join(a, join(b, c)))), { numRuns: 300 });
    });
    it('is idempotent', () => {
      fc.assert(fc.property(replica, (a) => same(join(a, a), a)), { numRuns: 200 });
    });
  });
});
