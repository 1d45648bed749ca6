import { expect } from 'chai';
import { type ChangeBatch, CHANGE_FORMAT, type ModelChange } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { canonical, library, sync } from './library-schema.js';
import { expectEvery } from '../expectations.js';

const write = (value: unknown, node = 'mallory', seq = 1, ms = 1_700_000_000_000) => ({ value, ts: { ms, c: 0 }, dot: { node, seq } });
const attribute = (over: Record<string, unknown> = {}) => ({
  kind: 'attribute',
  entityType: 'Author',
  oid: 'm-1',
  attribute: 'name',
  writes: [write('Mallory')],
  ...over,
});

describe('DomainModel: malformed and hostile changes', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['non-object junk', 42, /expected an object/],
    ['null', null, /expected an object/],
    ['an array', [1, 2], /expected an object/],
    ['an unknown kind', attribute({ kind: 'explode' }), /unknown kind/],
    ['an unknown concept', attribute({ entityType: 'Dragon' }), /unknown concept Dragon/],
    ['an unknown attribute', attribute({ attribute: 'nickname' }), /unknown attribute Author.nickname/],
    ['an unknown relation', { kind: 'child-add', entityType: 'Author', oid: 'm-1', relation: 'fans', child: 'b', dot: { node: 'mallory', seq: 1 } }, /unknown relation/],
    ['a wrong value type', attribute({ writes: [write(12)] }), /expected a string/],
    ['a wrong integer', attribute({ attribute: 'books', writes: [write(1.5)] }), /safe integer/],
    ['an enum value not declared', attribute({ entityType: 'Book', attribute: 'genre', writes: [write('drama')] }), /expected one of/],
    ['a malformed date', attribute({ attribute: 'born', writes: [write('2024-13-45')] }), /ISO date/],
    ['a malformed reference', attribute({ entityType: 'Book', attribute: 'author', writes: [write('not an id!')] }), /entity id/],
    ['an object value', attribute({ writes: [write({ $gt: 1 })] }), /values are strings/],
    ['a string over the model cap', attribute({ writes: [write('x'.repeat(1001))] }), /exceeds 1000/],
    ['a string over the hard cap', attribute({ writes: [write('x'.repeat(1_000_001))] }), /exceeds 1000000/],
    ['a timestamp far in the future', attribute({ writes: [write('M', 'mallory', 1, 1_700_000_000_000 + 5 * 60 * 1000 + 1)] }), /by mallory is 5 min ahead of this clock \(at most 5 min allowed\): the date or time of this device or of that one is wrong/],
    ['a negative timestamp', attribute({ writes: [write('M', 'mallory', 1, -5)] }), /non-negative/],
    ['a zero seq', attribute({ writes: [write('M', 'mallory', 0)] }), /positive safe integer/],
    ['a fractional seq', attribute({ writes: [write('M', 'mallory', 1.5)] }), /positive safe integer/],
    ['an unsafe seq', attribute({ writes: [write('M', 'mallory', 2 ** 53)] }), /positive safe integer/],
    ['a malformed node id', attribute({ writes: [write('M', 'mal lory')] }), /malformed node id/],
    ['a forged dot of the receiver', attribute({ writes: [write('M', 'bob', 99)] }), /never made/],
    ['two writes under one dot', attribute({ writes: [write('A'), write('B')] }), /share the dot/],
    ['no writes', attribute({ writes: [] }), /1–256 items/],
    ['too many writes', attribute({ writes: Array.from({ length: 257 }, (_, i) => write('M', 'mallory', i + 1)) }), /1–256 items/],
    ['a malformed oid', attribute({ oid: '../../etc' }), /malformed entity id/],
    ['a prototype-polluting name', attribute({ attribute: '__proto__' }), /malformed name/],
    ['a child added twice in one relation', { kind: 'children', entityType: 'Author', oid: 'm-1', relation: 'works', items: [['b', [{ node: 'm', seq: 1 }]], ['b', [{ node: 'm', seq: 2 }]]] }, /appears twice/],
    ['one dot adding two children', { kind: 'children', entityType: 'Author', oid: 'm-1', relation: 'works', items: [['b', [{ node: 'm', seq: 1 }]], ['c', [{ node: 'm', seq: 1 }]]] }, /adds two children/],
  ];

  for (const [what, change, reason] of cases) {
    it(`rejects ${what} with a reason and changes nothing`, () => {
      const bob = library('bob', fakeClock(1_700_000_000_000));
      bob.create('Author', { name: 'Bob' }, { oid: 'b-1' });
      const before = canonical(bob);
      const result = bob.applyChanges([change as ModelChange]);
      expect(result.applied).to.equal(0);
      expect(result.rejected).to.have.length(1);
      expect(result.rejected[0]!.reason).to.match(reason);
      expect(result).to.include({ complete: false });
      expect(canonical(bob)).to.equal(before);
    });
  }

  it('rejects a change to an existing entity under another concept', () => {
    const bob = library('bob');
    bob.create('Author', { name: 'Bob' }, { oid: 'b-1' });
    const before = canonical(bob);
    const result = bob.applyChanges([attribute({ entityType: 'Book', oid: 'b-1', attribute: 'title' }) as unknown as ModelChange]);
    expect(result.rejected[0]!.reason).to.match(/is a Author, not a Book/);
    expect(canonical(bob)).to.equal(before);
  });

  it('applies the good changes of a batch, rejects the bad, and does not adopt its version', () => {
    const alice = library('alice', fakeClock(1_700_000_000_000));
    const bob = library('bob', fakeClock(1_700_000_000_000));
    alice.create('Author', { name: 'Ada' });
    const delta = alice.getDelta(bob.version);
    const hostile: ChangeBatch = { ...delta, changes: [...delta.changes, attribute({ writes: [write(7, 'alice', 1)] }) as unknown as ModelChange] };
    const result = bob.applyChanges(hostile);
    expect(result.applied).to.equal(delta.changes.length);
    expect(result.rejected).to.have.length(1);
    expect(result).to.include({ complete: false });
    expect(bob.version.toJSON()).to.deep.equal({});
  });

  it('rejects a change holding a dot its batch version does not cover', () => {
    const alice = library('alice');
    const bob = library('bob');
    alice.create('Author', { name: 'Ada' });
    const delta = alice.getDelta(bob.version);
    const result = bob.applyChanges({ ...delta, version: {} });
    expectEvery(result.rejected, (r) => /not covered by the batch version/.test(r.reason));
    expect(result.applied).to.equal(0);
  });

  it('refuses whole batches that are malformed or for another model, changing nothing', () => {
    const bob = library('bob');
    const before = canonical(bob);
    const batches: unknown[] = [
      { format: 2, modelId: 'library', since: {}, version: {}, changes: [] },
      { format: CHANGE_FORMAT, modelId: 'elections', since: {}, version: {}, changes: [] },
      { format: CHANGE_FORMAT, modelId: 'library', since: { alice: -1 }, version: {}, changes: [] },
      { format: CHANGE_FORMAT, modelId: 'library', since: {}, version: {}, changes: 'all of them' },
      'junk',
    ];
    for (const batch of batches) {
      const result = bob.applyChanges(batch as ChangeBatch);
      expect(result.rejected).to.have.length(1);
      expect(result).to.include({ complete: false });
    }
    expect(canonical(bob)).to.equal(before);
  });

  it('does not adopt a version claiming operations of the receiver it never made', () => {
    const alice = library('alice');
    const bob = library('bob');
    alice.create('Author', { name: 'Ada' });
    const delta = alice.getDelta(bob.version);
    const result = bob.applyChanges({ ...delta, version: { ...delta.version, bob: 50 } });
    expect(result.rejected.map((r) => r.reason)).to.deep.equal(['the batch version claims operations of bob that it never made']);
    expect(bob.version.get(bob.nodeId)).to.equal(0);
    bob.create('Author', { name: 'Bob' });
    expect(bob.version.get(bob.nodeId)).to.equal(3);
  });

  it('a peer with a clock ahead (within the limit) cannot make the receiver write in the past', () => {
    const clock = fakeClock(1_700_000_000_000);
    const alice = library('alice', fakeClock(1_700_000_000_000 + 4 * 60 * 1000));
    const bob = library('bob', clock);
    const ada = alice.create('Author', { name: 'Ada' });
    sync(alice, bob);
    bob.get(ada.oid)!.setAttribute('name', 'Later');
    sync(bob, alice);
    expect(alice.get(ada.oid)!.getAttribute('name')).to.equal('Later');
    expect(alice.conflicts).to.deep.equal([]);
  });
});
