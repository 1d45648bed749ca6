import { expect } from 'chai';
import fc from 'fast-check';
import { LWWRegister, VersionVector, asNodeId, joinWrites, mergeRegisters } from '../../src/crdt/index.js';
import type { Dot, RegisterWrite, Timestamp } from '../../src/crdt/index.js';

const dot = (node: string, seq: number): Dot => ({ node: asNodeId(node), seq });
const write = (value: string, node: string, seq: number, ms: number, c = 0): RegisterWrite<string> => ({
  value,
  ts: { ms, c } as Timestamp,
  dot: dot(node, seq),
});
const context = (...dots: Dot[]) => {
  const v = new VersionVector();
  for (const d of dots) v.add(d);
  return v;
};

describe('LWWRegister', () => {
  it('shows the last writer by timestamp, then node id', () => {
    const r = new LWWRegister([write('a', 'alice', 1, 10), write('b', 'bob', 1, 10), write('c', 'carol', 1, 9)]);
    expect(r.value).to.equal('b');
    expect(r.conflicts.map((w) => w.value)).to.deep.equal(['a', 'c']);
    expect(r.hasConflicts, 'a register holding concurrent writes has conflicts').to.equal(true);
  });

  it('set replaces the winner and keeps unresolved conflicts', () => {
    const r = new LWWRegister([write('a', 'alice', 1, 10), write('b', 'bob', 1, 11)]);
    const replaced = r.set(write('c', 'alice', 2, 12));
    expect(replaced.map((w) => w.value)).to.deep.equal(['b']);
    expect(r.writes.map((w) => w.value)).to.deep.equal(['c', 'a']);
  });

  it('resolve replaces every write', () => {
    const r = new LWWRegister([write('a', 'alice', 1, 10), write('b', 'bob', 1, 11)]);
    expect(r.resolve(write('c', 'alice', 2, 12))).to.have.length(2);
    expect(r.writes.map((w) => w.value)).to.deep.equal(['c']);
    expect(r.hasConflicts, 'a resolved register has no conflicts').to.equal(false);
  });

  describe('join: concurrent or causally after', () => {
    // alice wrote `a` (alice:1). bob saw it and overwrote it with `b` (bob:1).
    it('a write whose writer had seen the old value replaces it', () => {
      const mine = new LWWRegister([write('a', 'alice', 1, 10)]);
      const change = mine.join([write('b', 'bob', 1, 20)], context(dot('alice', 1)), context(dot('alice', 1), dot('bob', 1)));
      expect(change?.added.map((w) => w.value)).to.deep.equal(['b']);
      expect(change?.removed.map((w) => w.value)).to.deep.equal(['a']);
      expect(mine.writes.map((w) => w.value)).to.deep.equal(['b']);
    });

    // bob never saw alice:1 when he wrote `b`: the writes are concurrent.
    it('a write whose writer had not seen the old value survives beside it as a conflict', () => {
      const mine = new LWWRegister([write('a', 'alice', 1, 30)]);
      mine.join([write('b', 'bob', 1, 20)], context(dot('alice', 1)), context(dot('bob', 1)));
      expect(mine.value).to.equal('a');
      expect(mine.conflicts.map((w) => w.value)).to.deep.equal(['b']);
    });

    it('an old write the receiver has already superseded does not come back', () => {
      const mine = new LWWRegister([write('b', 'bob', 1, 20)]);
      const change = mine.join([write('a', 'alice', 1, 10)], context(dot('alice', 1), dot('bob', 1)), context(dot('alice', 1)));
      expect(change).to.equal(null);
      expect(mine.writes.map((w) => w.value)).to.deep.equal(['b']);
    });

    it('joining the same writes again changes nothing', () => {
      const writes = [write('a', 'alice', 1, 10)];
      const mine = new LWWRegister(writes);
      expect(mine.join([{ ...writes[0]! }], context(dot('alice', 1)), context(dot('alice', 1)))).to.equal(null);
    });

    it('picks the same write on every replica when a forged dot carries two contents', () => {
      const x = write('x', 'alice', 1, 10);
      const y = write('y', 'alice', 1, 10);
      const ctx = context(dot('alice', 1));
      expect(joinWrites([x], ctx, [y], ctx)).to.deep.equal(joinWrites([y], ctx, [x], ctx));
    });
  });

  describe('laws of the join (with causal contexts)', () => {
    const nodes = ['alice', 'bob', 'carol'];
    const universe = nodes.flatMap((node, n) => [1, 2, 3, 4].map((seq) => write(`${node}${seq}`, node, seq, seq * 3 + n, n % 2)));
    // A valid replica: a context (any set of dots, gaps included) and a state holding some of them.
    const replica = fc
      .tuple(fc.subarray(universe), fc.array(fc.boolean(), { minLength: universe.length, maxLength: universe.length }))
      .map(([seen, keep]) => ({ writes: seen.filter((_, i) => keep[i]), context: context(...seen.map((w) => w.dot)) }));
    type Replica = { writes: RegisterWrite<string>[]; context: VersionVector };
    const join = (a: Replica, b: Replica): Replica => ({
      writes: mergeRegisters(new LWWRegister(a.writes), a.context, new LWWRegister(b.writes), b.context).writes.slice(),
      context: a.context.clone().mergeWith(b.context),
    });
    const same = (a: Replica, b: Replica) => {
      expect(a.writes).to.deep.equal(b.writes);
      expect(a.context.toJSON()).to.deep.equal(b.context.toJSON());
    };

    it('is commutative', () => {
      fc.assert(fc.property(replica, replica, (a, b) => same(join(a, b), join(b, a))), { numRuns: 300 });
    });
    it('is associative', () => {
      fc.assert(fc.property(replica, replica, replica, (a, b, c) => same(join(join(a, b), c), join(a, join(b, c)))), { numRuns: 300 });
    });
    it('is idempotent', () => {
      fc.assert(
        fc.property(replica, (a) => same(join(a, a), { writes: new LWWRegister(a.writes).writes.slice(), context: a.context })),
        { numRuns: 200 },
      );
    });
  });
});
