import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import { type EntityState, mergeEntityStates } from '../../src/domain/index.js';
import { joinStoredEntity } from '../../src/store/join-stored-entity.js';

const node = 'alice';
const write = (value: string, seq: number, ms = 1000) => ({ value, ts: { ms, c: 0 }, dot: { node, seq } });
const incoming = (): EntityState =>
  ({
    entityType: 'Election',
    oid: 'e1',
    attributes: { title: [write('Board', 1)], status: [write('open', 2)] },
    children: { candidates: [['c1', [{ node, seq: 3 }]], ['c2', [{ node, seq: 4 }]]] },
  }) as unknown as EntityState;
const versionOf = (seq: number) => VersionVector.fromJSON({ [node]: seq });

describe('joinStoredEntity', () => {
  it('gives what the full join gives for an entity stored for the first time', () => {
    const state = incoming();
    const joined = joinStoredEntity(undefined, new VersionVector(), state, versionOf(4));
    const base = { entityType: state.entityType, oid: state.oid, attributes: {}, children: {} };
    expect(joined).to.deep.equal(mergeEntityStates(base, new VersionVector(), state, versionOf(4)));
  });

  it('drops what the stored version covers but storage does not hold (superseded there)', () => {
    // The stored model has seen seqs 1–3 (both writes and the add of c1) and holds none of them.
    const stored = VersionVector.fromJSON({ [node]: 3 });
    const joined = joinStoredEntity(undefined, stored, incoming(), versionOf(4));
    expect(joined.attributes).to.deep.equal({});
    expect(joined.children.candidates).to.deep.equal([['c2', [{ node, seq: 4 }]]]);
  });

  it('keeps every write of a conflict and sorts children as the full join does', () => {
    const state = {
      ...incoming(),
      attributes: { title: [write('A', 1, 5), { value: 'B', ts: { ms: 5, c: 0 }, dot: { node: 'bob', seq: 1 } }] },
      children: { candidates: [['c2', [{ node, seq: 4 }]], ['c1', [{ node, seq: 3 }]]] },
    } as unknown as EntityState;
    const version = VersionVector.fromJSON({ [node]: 4, bob: 1 });
    const joined = joinStoredEntity(undefined, new VersionVector(), state, version);
    const base = { entityType: state.entityType, oid: state.oid, attributes: {}, children: {} };
    expect(joined).to.deep.equal(mergeEntityStates(base, new VersionVector(), state, version));
    expect(joined.attributes.title).to.have.length(2);
    expect(joined.children.candidates!.map(([child]) => child)).to.deep.equal(['c1', 'c2']);
  });
});
