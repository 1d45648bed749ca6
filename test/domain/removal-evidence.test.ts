import { expect } from 'chai';
import { type Dot, type RemovalMark, VersionVector, asNodeId } from '../../src/crdt/index.js';
import { type DomainModel, type ModelChange, evidencedContext } from '../../src/domain/index.js';
import { aliceAndBobWithAda, canonical, library, sync } from './library-schema.js';

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

describe('a model dropping children only on marks that name them (signed rooms)', () => {
  // Alice's own version as her signed context: she signs every mark with what she has seen.
  const signedBy = (author: DomainModel) => () => author.version.clone();
  const works = (model: DomainModel, oid: string) => model.get(oid)?.childOids('works') ?? [];

  /** Alice's author with two works, held by bob too; then alice removes the second and keeps the first. */
  function removedOneKeptOne() {
    const { alice, bob, ada } = aliceAndBobWithAda();
    const kept = alice.create('Book', { title: 'Kept' });
    const gone = alice.create('Book', { title: 'Gone' });
    ada.addChild('works', kept);
    ada.addChild('works', gone);
    sync(alice, bob);
    ada.removeChild('works', gone);
    return { alice, bob, ada, kept, gone };
  }

  const withoutChild = (change: ModelChange, child: string): ModelChange =>
    change.kind === 'children' ? { ...change, items: change.items.filter(([oid]) => oid !== child) } : change;

  it('a delta leaving out a child the remover kept drops only the removed one', () => {
    const { alice, bob, ada, kept, gone } = removedOneKeptOne();
    const delta = alice.getDelta(bob.version);
    const mark = delta.changes.flatMap((change) => (change.kind === 'children' ? (change.removals ?? []) : []))[0]!;
    const goneDots = bob.get(ada.oid)!.toState().children.works!.find(([oid]) => oid === gone.oid)![1];
    expect(mark.removed, 'the mark names the removed work only').to.deep.equal(goneDots);
    bob.applyChanges({ ...delta, changes: delta.changes.map((change) => withoutChild(change, kept.oid)) }, { evidence: signedBy(alice) });
    expect(works(bob, ada.oid)).to.deep.equal([kept.oid]);
  });

  it('so does a repair leaving it out; without evidence (unsigned rooms) the sender’s context decides', () => {
    const { alice, bob, ada, kept } = removedOneKeptOne();
    const [state] = alice.getEntityStates([ada.oid]);
    const tampered = { ...state!, children: { works: state!.children.works!.filter(([oid]) => oid !== kept.oid) } };
    bob.repairEntities([tampered], alice.version, { evidence: signedBy(alice) });
    expect(works(bob, ada.oid)).to.deep.equal([kept.oid]);
    const carol = library('carol');
    sync(bob, carol);
    carol.repairEntities([tampered], alice.version);
    expect(works(carol, ada.oid), 'unsigned: the claim is taken').to.deep.equal([]);
  });

  it('a re-added child stays; a removal after the re-add drops it again', () => {
    const { alice, bob, ada, gone } = removedOneKeptOne();
    ada.addChild('works', gone);
    sync(alice, bob);
    expect(works(bob, ada.oid)).to.include(gone.oid);
    ada.removeChild('works', gone);
    bob.applyChanges(alice.getDelta(bob.version), { evidence: signedBy(alice) });
    expect(works(bob, ada.oid)).to.not.include(gone.oid);
    expect(canonical(bob)).to.equal(canonical(alice));
  });
});
