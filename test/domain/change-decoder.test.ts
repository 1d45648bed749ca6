import { expect } from 'chai';
import { CHANGE_FORMAT, type ChangeBatch, DECODE_LIMITS, type EntityState, decodeChangeBatch, decodeEntityState, decodeSnapshot } from '../../src/domain/index.js';
import { library } from './library-schema.js';

describe('decodeChangeBatch and decodeSnapshot', () => {
  it('round-trips a real delta through JSON, keeping only known fields', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'T' });
    ada.addChild('works', book);
    ada.removeChild('works', book);
    ada.addChild('works', book);
    const delta = alice.getDelta(library('bob').version);
    const json = JSON.parse(JSON.stringify({ ...delta, extra: 'ignored' }));
    const decoded = decodeChangeBatch(json);
    expect(decoded).to.not.have.property('error');
    expect(decoded).to.deep.equal(JSON.parse(JSON.stringify(delta)));
  });

  it('in place: checks the same, gives the same batch, and keeps the writes, dots and children handed over', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'T' });
    ada.addChild('works', book);
    ada.setAttribute('name', 'Ada L.');
    const json = () => JSON.parse(JSON.stringify(alice.getDelta(library('bob').version)));
    const handed = json();
    const decoded = decodeChangeBatch(handed, DECODE_LIMITS, { inPlace: true }) as ChangeBatch;
    expect(decoded).to.deep.equal(decodeChangeBatch(json()));
    const at = handed.changes.findIndex((change: { kind: string }) => change.kind === 'attribute');
    expect((decoded.changes[at] as unknown as { writes: unknown[] }).writes[0]).to.equal(handed.changes[at].writes[0]);
    const [change] = json().changes.filter((change: { kind: string }) => change.kind === 'attribute');
    const write = change.writes[0];
    const cases: unknown[] = [
      { ...write, value: { nested: true } },
      { ...write, value: 'x'.repeat(DECODE_LIMITS.maxStringLength + 1) },
      { ...write, ts: { ms: -1, c: 0 } },
      { ...write, dot: { node: 'not a node', seq: 1 } },
      { ...write, dot: { node: write.dot.node, seq: 0 } },
    ];
    for (const bad of cases) {
      const batch = () => ({ ...json(), changes: [{ ...change, writes: [JSON.parse(JSON.stringify(bad))] }] });
      const copied = decodeChangeBatch(batch());
      expect(copied).to.have.property('error');
      expect(decodeChangeBatch(batch(), DECODE_LIMITS, { inPlace: true })).to.deep.equal(copied);
    }
    const twice = { ...json(), changes: [{ ...change, writes: [write, { ...write, value: 'other' }] }] };
    expect(decodeChangeBatch(twice, DECODE_LIMITS, { inPlace: true })).to.deep.equal(decodeChangeBatch(JSON.parse(JSON.stringify(twice))));
    expect(decodeChangeBatch(twice, DECODE_LIMITS, { inPlace: true })).to.have.property('error');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['a non-object', 'hello', /expected an object/],
    ['another format', { format: 99, modelId: 'm', since: {}, version: {}, changes: [] }, /unsupported format/],
    ['a bad model id', { format: CHANGE_FORMAT, modelId: 'a b', since: {}, version: {}, changes: [] }, /modelId/],
    ['a bad since', { format: CHANGE_FORMAT, modelId: 'm', since: [], version: {}, changes: [] }, /since/],
    ['a bad version', { format: CHANGE_FORMAT, modelId: 'm', since: {}, version: { a: 'x' }, changes: [] }, /version/],
    ['changes not an array', { format: CHANGE_FORMAT, modelId: 'm', since: {}, version: {}, changes: {} }, /changes/],
    ['a bad partial flag', { format: CHANGE_FORMAT, modelId: 'm', since: {}, version: {}, changes: [], partial: 'yes' }, /partial/],
    ['a malformed change', { format: CHANGE_FORMAT, modelId: 'm', since: {}, version: {}, changes: [{ kind: 'attribute' }] }, /changes\[0\]/],
  ];
  for (const [what, json, reason] of bad) {
    it(`refuses ${what}`, () => {
      const decoded = decodeChangeBatch(json);
      expect(decoded).to.have.property('error').that.is.a('string');
      expect((decoded as { error: string }).error).to.match(reason);
    });
  }

  it('caps the number of changes', () => {
    const changes = Array.from({ length: 3 }, () => ({}));
    const decoded = decodeChangeBatch({ format: CHANGE_FORMAT, modelId: 'm', since: {}, version: {}, changes }, { ...DECODE_LIMITS, maxChanges: 2 });
    expect(decoded).to.deep.equal({ error: 'changes: expected 0–2 items, got 3' });
  });

  it('checks every id, also right after a batch with valid ones', () => {
    const alice = library('alice');
    alice.create('Author', { name: 'Ada' });
    const json = JSON.parse(JSON.stringify(alice.getDelta(library('bob').version)));
    expect(decodeChangeBatch(json)).to.not.have.property('error');
    const [change] = json.changes;
    const without = (key: string, value: unknown) => ({ ...json, changes: [{ ...change, [key]: value }] });
    expect(decodeChangeBatch(without('oid', undefined))).to.deep.equal({ error: 'changes[0].oid: malformed entity id' });
    const write = change.writes[0];
    expect(decodeChangeBatch(without('writes', [{ ...write, dot: { seq: write.dot.seq } }]))).to.deep.equal({
      error: 'changes[0].writes[0].dot: malformed node id',
    });
    expect(decodeChangeBatch(json)).to.not.have.property('error');
  });

  describe('what a removal mark names', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    const book = alice.create('Book', { title: 'T' });
    ada.addChild('works', book);
    ada.removeChild('works', book);
    const json = JSON.parse(JSON.stringify(alice.getDelta(library('bob').version)));
    const index = json.changes.findIndex((change: { kind: string }) => change.kind === 'children');
    const withRemoved = (removed: unknown, limits = DECODE_LIMITS) => {
      const change = json.changes[index];
      const changes = [...json.changes];
      changes[index] = { ...change, removals: [{ ...change.removals[0], removed }] };
      return decodeChangeBatch({ ...json, changes }, limits);
    };

    it('keeps the list of a removal mark', () => {
      const decoded = decodeChangeBatch(json);
      expect(decoded).to.not.have.property('error');
      const mark = json.changes[index].removals[0];
      expect(mark.removed, 'the mark names the add it removed').to.have.length(1);
      const change = (decoded as ChangeBatch).changes[index] as { removals?: unknown };
      expect(change.removals).to.deep.equal([mark]);
    });

    it('refuses a list that is not sorted, repeats a dot, holds a bad dot or exceeds the limit', () => {
      const a = { node: 'alice', seq: 1 };
      const b = { node: 'alice', seq: 2 };
      expect(withRemoved([b, a])).to.deep.equal({ error: `changes[${index}].removals[0].removed: dots must be sorted, without repeats` });
      expect(withRemoved([a, a])).to.deep.equal({ error: `changes[${index}].removals[0].removed: dots must be sorted, without repeats` });
      expect(withRemoved([{ node: 'alice', seq: 0 }])).to.have.property('error').that.matches(/removed\[0\]: seq must be a positive/);
      expect(withRemoved('all')).to.have.property('error').that.matches(/removed: expected an array/);
      expect(withRemoved([a, b], { ...DECODE_LIMITS, maxRemoved: 1 })).to.deep.equal({ error: `changes[${index}].removals[0].removed: expected 0–1 items, got 2` });
      expect(withRemoved([a, b])).to.not.have.property('error');
    });

    it('decodes a legacy mark (no list) as one', () => {
      const decoded = withRemoved(undefined) as ChangeBatch;
      expect(decoded).to.not.have.property('error');
      expect((decoded.changes[index] as { removals: readonly object[] }).removals[0]).to.not.have.property('removed');
    });
  });

  it('never throws, even on hostile getters', () => {
    const trap = { get format() { throw new Error('boom'); } };
    expect(decodeChangeBatch(trap)).to.have.property('error').that.is.a('string');
  });

  it('decodes snapshots and refuses duplicate entities', () => {
    const alice = library('alice');
    alice.create('Author', { name: 'Ada' });
    const snapshot = JSON.parse(JSON.stringify(alice.getSnapshot()));
    expect(decodeSnapshot(snapshot)).to.deep.equal(snapshot);
    const doubled = { ...snapshot, entities: [snapshot.entities[0], snapshot.entities[0]] };
    expect((decodeSnapshot(doubled) as { error: string }).error).to.match(/appears twice/);
  });

  it('keeps a handed-over entity state in place, checked exactly as a copy would be', () => {
    const alice = library('alice');
    const ada = alice.create('Author', { name: 'Ada' });
    ada.addChild('works', alice.create('Book', { title: 'T' }));
    const [state] = JSON.parse(JSON.stringify(alice.getEntityStates([ada.oid]))) as EntityState[];
    const kept = decodeEntityState(state, DECODE_LIMITS, { inPlace: true }) as EntityState;
    expect(kept).to.deep.equal(decodeEntityState(state));
    expect(kept.attributes.name![0]).to.equal(state!.attributes.name![0]);
    expect(kept.children.works).to.equal(state!.children.works);
    const damaged = JSON.parse(JSON.stringify(state));
    damaged.attributes.name[0].dot.seq = 0;
    expect(decodeEntityState(damaged, DECODE_LIMITS, { inPlace: true })).to.have.property('error').that.matches(/seq must be a positive/);
    damaged.attributes.name[0].dot.seq = 1;
    damaged.attributes.name[0].ts.c = -1;
    expect(decodeEntityState(damaged, DECODE_LIMITS, { inPlace: true })).to.have.property('error').that.matches(/ms and c/);
  });
});
