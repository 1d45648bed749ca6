import { expect } from 'chai';
import { type Dot, type RemovalMark, VersionVector, asNodeId } from '../../src/crdt/index.js';
import { type ModelChange, evidencedContext } from '../../src/domain/index.js';

const dot = (node: string, seq: number): Dot => ({ node: asNodeId(node), seq });
const context = (...dots: Dot[]) => {
  const v = new VersionVector();
  for (const d of dots) v.add(d);
  return v;
};
const relation = (removals: RemovalMark[], items: Array<readonly [string, Dot[]]> = []): ModelChange => ({
  kind: 'children',
  entityType: 'Election',
  oid: 'e',
  relation: 'candidates',
  items,
  removals,
});

describe('evidencedContext: which held child adds a relation may drop', () => {
  // Alice added x (alice:1) and y (alice:2), then removed y (alice:3) and kept x.
  const x = dot('alice', 1);
  const y = dot('alice', 2);
  const mark: RemovalMark = { ...dot('alice', 3), removed: [y] };
  const signed = context(x, y, mark);
  const sender = context(x, y, mark, dot('bob', 1));
  const evidence = (signedBy: Map<string, VersionVector>) => (d: Dot) => signedBy.get(`${d.node}:${d.seq}`);
  const signedMark = evidence(new Map([['alice:3', signed]]));

  it('drops an add the mark names and its signed context covers', () => {
    expect(evidencedContext(relation([mark]), sender, signedMark, () => []).covers(y)).to.equal(true);
  });

  it('keeps an add the remover had seen and kept, when a relay leaves it out of the relation', () => {
    expect(evidencedContext(relation([mark]), sender, signedMark, () => []).covers(x)).to.equal(false);
  });

  it('keeps a concurrent add of another author the remover never saw (add wins)', () => {
    const concurrent = dot('bob', 1);
    const naming: RemovalMark = { ...mark, removed: [concurrent, y] };
    // Even a mark naming it proves nothing where its signed context does not cover it.
    expect(evidencedContext(relation([naming]), sender, signedMark, () => []).covers(concurrent)).to.equal(false);
  });

  it('drops every dot of an element held under several, each named', () => {
    const twice = dot('bob', 1);
    const both: RemovalMark = { ...dot('alice', 3), removed: [y, twice] };
    const signedBoth = evidence(new Map([['alice:3', context(x, y, twice, both)]]));
    const drop = evidencedContext(relation([both]), sender, signedBoth, () => []);
    expect([drop.covers(y), drop.covers(twice), drop.covers(x)]).to.deep.equal([true, true, false]);
  });

  it('drops nothing on a mark without a verified signature, nor past the sender’s own context', () => {
    expect(evidencedContext(relation([mark]), sender, () => undefined, () => []).covers(y)).to.equal(false);
    expect(evidencedContext(relation([mark]), context(x), signedMark, () => []).covers(y)).to.equal(false);
  });

  it('gives a legacy mark (no list) the context rule it was signed under', () => {
    const legacy: RemovalMark = dot('alice', 3);
    const drop = evidencedContext(relation([legacy]), sender, signedMark, () => []);
    expect([drop.covers(x), drop.covers(y), drop.covers(dot('bob', 1))]).to.deep.equal([true, true, false]);
  });
});
