import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidVersionVectorError, VersionVector, asNodeId, mergeVersionVectors } from '../../src/crdt/index.js';
import type { Dot } from '../../src/crdt/index.js';
import { expectSameVersion } from '../expectations.js';

const alice = asNodeId('alice');
const bob = asNodeId('bob');
const dot = (node: string, seq: number): Dot => ({ node: asNodeId(node), seq });

describe('VersionVector', () => {
  it('increments per node and covers what it has seen', () => {
    const v = new VersionVector();
    expect(v.increment(alice)).to.deep.equal(dot('alice', 1));
    expect(v.increment(alice)).to.deep.equal(dot('alice', 2));
    expect(v.get(alice)).to.equal(2);
    expect(v.get(bob)).to.equal(0);
    expect(v.covers(dot('alice', 2)), 'covers alice:2').to.equal(true);
    expect(v.covers(dot('alice', 3)), 'covers alice:3').to.equal(false);
    expect(v.covers(dot('bob', 1)), 'covers bob:1').to.equal(false);
  });

  it('keeps seqs past a gap exactly and folds them when the gap fills', () => {
    const v = new VersionVector();
    v.add(dot('alice', 1));
    v.add(dot('alice', 4));
    v.add(dot('alice', 3));
    expect(v.get(alice)).to.equal(1);
    expect(v.maxSeen(alice)).to.equal(4);
    expect(v.covers(dot('alice', 2)), 'covers alice:2').to.equal(false);
    expect(v.covers(dot('alice', 3)), 'covers alice:3').to.equal(true);
    expect(v.toJSON()).to.deep.equal({ alice: [1, 3, 4] });
    v.add(dot('alice', 2));
    expect(v.toJSON()).to.deep.equal({ alice: 4 });
    expect(v.extrasOf(alice)).to.deep.equal([]);
  });

  it('update marks every seq up to the given one as seen', () => {
    const v = new VersionVector();
    v.add(dot('bob', 7));
    v.add(dot('bob', 9));
    v.update(bob, 7);
    expect(v.toJSON()).to.deep.equal({ bob: [7, 9] });
    v.update(bob, 8);
    expect(v.toJSON()).to.deep.equal({ bob: 9 });
    v.update(bob, 3);
    expect(v.get(bob)).to.equal(9);
  });

  it('increment after a gap takes the next seq after everything seen', () => {
    const v = new VersionVector();
    v.add(dot('alice', 5));
    expect(v.increment(alice)).to.deep.equal(dot('alice', 6));
  });

  it('compares as before, after, equal or concurrent', () => {
    const a = new VersionVector();
    const b = new VersionVector();
    expect(a.compare(b)).to.equal('equal');
    a.increment(alice);
    expect(a.compare(b)).to.equal('after');
    expect(b.compare(a)).to.equal('before');
    b.increment(bob);
    expect(a.compare(b)).to.equal('concurrent');
    b.mergeWith(a);
    expect(b.compare(a)).to.equal('after');
    expect(a).to.not.include(b);
    expect(b).to.include(a);
  });

  it('treats a gap as not seen when comparing', () => {
    const gappy = new VersionVector();
    gappy.add(dot('alice', 1));
    gappy.add(dot('alice', 3));
    const full = new VersionVector();
    full.update(alice, 2);
    expect(gappy.compare(full)).to.equal('concurrent');
    full.add(dot('alice', 3));
    expect(full.compare(gappy)).to.equal('after');
  });

  it('mergeVersionVectors is a pure union', () => {
    const a = VersionVector.fromJSON({ alice: [2, 5], bob: 1 });
    const b = VersionVector.fromJSON({ alice: [3, 7], carol: 4 });
    const merged = mergeVersionVectors(a, b);
    expect(merged.toJSON()).to.deep.equal({ alice: [3, 5, 7], bob: 1, carol: 4 });
    expect(a.toJSON()).to.deep.equal({ alice: [2, 5], bob: 1 });
    expect(b.toJSON()).to.deep.equal({ alice: [3, 7], carol: 4 });
  });

  it('clone is independent', () => {
    const a = VersionVector.fromJSON({ alice: [2, 5] });
    const copy = a.clone();
    copy.add(dot('alice', 3));
    expect(a.toJSON()).to.deep.equal({ alice: [2, 5] });
    expect(copy.toJSON()).to.deep.equal({ alice: [3, 5] });
    expect([...copy.nodes()]).to.deep.equal(['alice']);
    expect(new VersionVector().isEmpty(), 'a new vector is empty').to.equal(true);
  });

  it('serializes nodes in sorted order', () => {
    const v = new VersionVector();
    v.increment(bob);
    v.increment(alice);
    expect(JSON.stringify(v)).to.equal('{"alice":1,"bob":1}');
  });

  describe('fromJSON', () => {
    const bad: Array<[string, unknown]> = [
      ['null', null],
      ['an array', [1, 2]],
      ['a string', 'alice'],
      ['a negative count', { alice: -1 }],
      ['a fractional count', { alice: 1.5 }],
      ['an unsafe integer', { alice: 2 ** 60 }],
      ['a numeric string', { alice: '3' }],
      ['a malformed node id', { 'al ice': 1 }],
      ['a node id with a colon', { 'a:b': 1 }],
      ['a prototype key', JSON.parse('{"__proto__": 1}')],
      ['a too-long node id', { ['x'.repeat(65)]: 1 }],
      ['a one-element array', { alice: [3] }],
      ['extras not ascending', { alice: [1, 5, 4] }],
      ['extras at or below max', { alice: [5, 5] }],
      ['a non-number extra', { alice: [1, 'x'] }],
    ];
    for (const [what, json] of bad) {
      it(`refuses ${what}`, () => {
        expect(() => VersionVector.fromJSON(json)).to.throw(InvalidVersionVectorError);
      });
    }

    it('refuses too many nodes and too many extras', () => {
      const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`n${i}`, 1]));
      expect(() => VersionVector.fromJSON(many, { maxNodes: 10, maxExtras: 10 })).to.throw(/more than 10 nodes/);
      expect(() => VersionVector.fromJSON({ a: [0, ...Array.from({ length: 11 }, (_, i) => i + 2)] }, { maxNodes: 10, maxExtras: 10 })).to.throw(
        /more than 10 seqs/,
      );
    });

    it('normalizes: zero counts vanish and contiguous extras fold', () => {
      expect(VersionVector.fromJSON({ alice: 0, bob: [2, 3, 5] }).toJSON()).to.deep.equal({ bob: [3, 5] });
    });
  });

  describe('laws (against a reference set of dots)', () => {
    const nodes = ['alice', 'bob', 'carol'];
    const dotArb = fc.record({ node: fc.constantFrom(...nodes), seq: fc.integer({ min: 1, max: 12 }) });
    const setOf = (dots: Array<{ node: string; seq: number }>) => new Set(dots.map((d) => `${d.node}:${d.seq}`));
    const build = (dots: Array<{ node: string; seq: number }>) => {
      const v = new VersionVector();
      for (const d of dots) v.add(dot(d.node, d.seq));
      return v;
    };
    const allDots = nodes.flatMap((node) => Array.from({ length: 13 }, (_, i) => dot(node, i + 1)));

    it('covers exactly the dots added, and survives a JSON round trip', () => {
      fc.assert(
        fc.property(fc.array(dotArb, { maxLength: 40 }), (dots) => {
          const v = build(dots);
          const reference = setOf(dots);
          for (const d of allDots) expect(v.covers(d)).to.equal(reference.has(`${d.node}:${d.seq}`));
          const copy = VersionVector.fromJSON(JSON.parse(JSON.stringify(v)));
          expectSameVersion(copy, v);
          expect(copy.toJSON()).to.deep.equal(v.toJSON());
        }),
        { numRuns: 200 },
      );
    });

    it('merge is the union; includes and compare agree with set inclusion', () => {
      fc.assert(
        fc.property(fc.array(dotArb, { maxLength: 30 }), fc.array(dotArb, { maxLength: 30 }), (xs, ys) => {
          const a = build(xs);
          const b = build(ys);
          const union = setOf([...xs, ...ys]);
          const merged = mergeVersionVectors(a, b);
          for (const d of allDots) expect(merged.covers(d)).to.equal(union.has(`${d.node}:${d.seq}`));
          expect(mergeVersionVectors(b, a).toJSON()).to.deep.equal(merged.toJSON());
          const sa = setOf(xs);
          const sb = setOf(ys);
          const aHasB = [...sb].every((k) => sa.has(k));
          const bHasA = [...sa].every((k) => sb.has(k));
          expect(a.includes(b)).to.equal(aHasB);
          const expected = aHasB && bHasA ? 'equal' : aHasB ? 'after' : bHasA ? 'before' : 'concurrent';
          expect(a.compare(b)).to.equal(expected);
        }),
        { numRuns: 200 },
      );
    });
  });
});
