import { expect } from 'chai';
import fc from 'fast-check';
import { asNodeId, compareDots } from '../../src/crdt/dot.js';
import { type ChangeBatch, DECODE_LIMITS, type ModelChange, decodeChangeBatch } from '../../src/domain/index.js';
import {
  type DeltaMessage,
  type PackedBatch,
  decodePackedBatch,
  decodeSyncMessage,
  PACK_MIN_CHANGES,
  deltaEncodingFor,
  encodeSyncMessage,
  isDecodeError,
  packBatch,
  unpackBatch,
} from '../../src/sync/index.js';

const MAX_BYTES = 64 * 1024 * 1024;
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const dot = (node: string, seq: number) => ({ node: asNodeId(node), seq });
const message = (batch: ChangeBatch): DeltaMessage => ({ t: 'delta', seq: 1, part: 1, parts: 1, batch });

/** Both wire forms of `batch`, decoded as a receiver decodes them. */
function viaWire(batch: ChangeBatch) {
  return {
    json: decodeSyncMessage(encodeSyncMessage(message(batch), 'json'), MAX_BYTES),
    compact: decodeSyncMessage(encodeSyncMessage(message(batch), 'compact'), MAX_BYTES),
  };
}

const notProto = (s: string) => s !== '__proto__';
const nameArb = fc.oneof(fc.constantFrom('Voter', 'Election', 'name', 'elections', '$deleted'), fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,12}$/).filter(notProto));
const oidArb = fc.oneof(fc.constantFrom('v1', 'v2', 'e1', 'V1StGXR8_Z5jdHi6B-myT'), fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/).filter(notProto));
const nodeArb = fc.oneof(fc.constantFrom('alice', 'bob', 'carol'), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter(notProto));
const seqArb = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
const dotArb = fc.record({ node: nodeArb, seq: seqArb }).map(({ node, seq }) => dot(node, seq));
const dotKey = (d: { node: string; seq: number }) => `${d.node}:${d.seq}`;
const valueArb = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"quoted" \\ back\nslash', '\u0000\u001f', 'ü€𝄞', '\ud800 lone', '2024-05-01T08:00:00.000Z'),
);
const msArb = fc.oneof(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_050 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const cArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const writeArb = fc.record({ value: valueArb, ts: fc.record({ ms: msArb, c: cArb }), dot: dotArb });
const entityArb = fc.record({ entityType: nameArb, oid: oidArb });

const attributeArb = fc.record({
  entity: entityArb,
  attribute: nameArb,
  writes: fc.uniqueArray(writeArb, { minLength: 1, maxLength: 4, selector: (w) => dotKey(w.dot) }),
}).map(({ entity, attribute, writes }): ModelChange => ({ kind: 'attribute', ...entity, attribute, writes }));

const childAddArb = fc.record({ entity: entityArb, relation: nameArb, child: oidArb, dot: dotArb }).map(
  ({ entity, relation, child, dot: d }): ModelChange => ({ kind: 'child-add', ...entity, relation, child, dot: d }),
);

// A removal mark, legacy (no list) or naming the adds it removed (sorted, each once).
const markArb = fc
  .tuple(dotArb, fc.option(fc.uniqueArray(dotArb, { maxLength: 4, selector: dotKey }), { nil: undefined }))
  .map(([d, removed]) => (removed ? { ...d, removed: removed.sort(compareDots) } : d));

const childrenArb = fc
  .record({
    entity: entityArb,
    relation: nameArb,
    items: fc.uniqueArray(fc.tuple(oidArb, fc.uniqueArray(dotArb, { minLength: 1, maxLength: 3, selector: dotKey })), {
      maxLength: 5,
      selector: ([child]) => child,
    }),
    removals: fc.option(fc.uniqueArray(markArb, { maxLength: 3, selector: (d) => d.node }), { nil: undefined }),
  })
  // A dot adds one child only.
  .filter(({ items }) => new Set(items.flatMap(([, dots]) => dots.map(dotKey))).size === items.reduce((n, [, dots]) => n + dots.length, 0))
  .map(({ entity, relation, items, removals }): ModelChange => ({ kind: 'children', ...entity, relation, items, ...(removals ? { removals } : {}) }));

const versionArb = fc.dictionary(nodeArb, fc.integer({ min: 1, max: 1_000_000 }), { maxKeys: 4 });

const batchArb = fc
  .record({
    since: versionArb,
    version: versionArb,
    changes: fc.array(fc.oneof(attributeArb, attributeArb, childAddArb, childrenArb), { maxLength: 12 }),
    partial: fc.boolean(),
  })
  .map(({ since, version, changes, partial }): ChangeBatch => ({
    format: 1,
    modelId: 'election-2024',
    since,
    version,
    changes,
    ...(partial ? { partial: true } : {}),
  }));

/** A small valid batch whose packed form the hostile cases below take apart. */
const sample: ChangeBatch = {
  format: 1,
  modelId: 'm',
  since: { alice: 1 },
  version: { alice: 4, bob: 2 },
  changes: [
    { kind: 'attribute', entityType: 'Voter', oid: 'v1', attribute: 'name', writes: [{ value: 'Ann', ts: { ms: 1_700_000_000_000, c: 0 }, dot: dot('alice', 2) }] },
    { kind: 'child-add', entityType: 'Voter', oid: 'v1', relation: 'elections', child: 'e1', dot: dot('alice', 3) },
    { kind: 'children', entityType: 'Election', oid: 'e1', relation: 'candidates', items: [['c1', [dot('bob', 1), dot('alice', 4)]]], removals: [dot('bob', 2)] },
  ],
};

/** The sample's packed form with one part replaced. */
function packedWith(edit: (packed: any[]) => void): unknown {
  const packed = structuredClone(packBatch(sample)) as any[];
  edit(packed);
  return packed;
}

describe('compact batches (sync protocol 2)', () => {
  it('any batch decodes from the compact wire exactly as from the JSON wire', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const { json, compact } = viaWire(batch);
        if (isDecodeError(json)) throw new Error(`the generator made an invalid batch: ${json.error}`);
        expect(compact).to.deep.equal(json);
      }),
      { numRuns: 300 },
    );
  });

  it('unpacking gives back the batch itself, before any validation', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const unpacked = unpackBatch(JSON.parse(JSON.stringify(packBatch(batch))));
        const expected = JSON.parse(JSON.stringify({ ...batch, changes: batch.changes.map((c) => (c.kind === 'children' && !c.removals?.length ? { ...c, removals: undefined } : c)) }));
        expect(JSON.parse(JSON.stringify(unpacked))).to.deep.equal({ batch: expected });
      }),
      { numRuns: 200 },
    );
  });

  it('writes each string once and changes of one entity as one run', () => {
    const packed = packBatch(sample);
    expect(packed.slice(0, 7)).to.deep.equal(['m', 0, { alice: 1 }, { alice: 4, bob: 2 }, ['alice', 'bob'], ['Voter', 'name', 'elections', 'Election', 'candidates'], ['v1', 'e1', 'c1']]);
    expect(packed[7]).to.deep.equal([
      [0, 0, [0, 1, 'Ann', 1_700_000_000_000, 0, 0, 2], [1, 2, 1, 0, 1]],
      [3, 1, [2, 4, [[2, 1, 1, 0, 1]], [1, 1]]],
    ]);
    expect(decodePackedBatch(packed)).to.deep.equal(decodeChangeBatch(sample));
  });

  it('encodes timestamps and seqs as differences, so a burst of edits is mostly small numbers', () => {
    const changes: ModelChange[] = Array.from({ length: 3 }, (_, i) => ({
      kind: 'attribute',
      entityType: 'Voter',
      oid: `v${i}`,
      attribute: 'name',
      writes: [{ value: `Name ${i}`, ts: { ms: 1_700_000_000_000 + (i === 2 ? 5 : 0), c: i === 2 ? 0 : 7 + i }, dot: dot('alice', 60_000 + i) }],
    }));
    const runs = packBatch({ ...sample, changes })[7] as unknown[][];
    expect(runs.map((run) => run[2])).to.deep.equal([
      [0, 1, 'Name 0', 1_700_000_000_000, 7, 0, 60_000],
      [0, 1, 'Name 1', 0, 1, 0, 1],
      [0, 1, 'Name 2', 5, 0, 0, 1],
    ]);
  });

  it('the handshake picks the encoding: compact from protocol 2, JSON before the hello and for protocol 1', () => {
    expect([null, 1, 2, 3].map(deltaEncodingFor)).to.deep.equal(['json', 'json', 'compact', 'compact']);
    const other = { t: 'ack', model: 'm', version: {}, complete: true, seen: 1 } as const;
    expect(encodeSyncMessage(other, 'compact')).to.deep.equal(encodeSyncMessage(other));
    const large = { ...sample, changes: Array.from({ length: PACK_MIN_CHANGES }, () => sample.changes[0]!) };
    const frame = JSON.parse(new TextDecoder().decode(encodeSyncMessage(message(large), 'compact')));
    expect(Object.keys(frame)).to.deep.equal(['t', 'seq', 'part', 'parts', 'packed']);
    // A live edit or two stays plain JSON: a few hundred bytes either way, and faster to read.
    const small = { ...sample, changes: sample.changes.slice(0, 1) };
    const plain = JSON.parse(new TextDecoder().decode(encodeSyncMessage(message(small), 'compact')));
    expect(Object.keys(plain)).to.deep.equal(['t', 'seq', 'part', 'parts', 'batch']);
  });

  it('is much smaller than JSON', () => {
    const changes: ModelChange[] = Array.from({ length: 100 }, (_, i) => ({
      kind: 'attribute',
      entityType: 'Voter',
      oid: `V1StGXR8_Z5jdHi6B-${String(i).padStart(3, '0')}`,
      attribute: 'name',
      writes: [{ value: `Renamed ${i}`, ts: { ms: 1_764_600_000_000, c: i }, dot: dot('k3J9xQ2mVb7TnLw0pR4sY', 60_000 + i) }],
    }));
    const batch = { ...sample, changes };
    const json = encodeSyncMessage(message(batch)).byteLength;
    const compact = encodeSyncMessage(message(batch), 'compact').byteLength;
    expect(compact).to.be.lessThan(json / 3);
  });

  it('refuses hostile packed batches with a reason, never throwing', () => {
    const huge = Array.from({ length: 65_537 }, () => 'a');
    const cases: Array<[unknown, RegExp]> = [
      ['not an array', /packed batch: batch: expected an array/],
      [{ 0: 'm' }, /batch: expected an array/],
      [[], /batch: expected 8–8 items, got 0/],
      [packedWith((p) => p.push(1)), /expected 8–8 items, got 9/],
      [packedWith((p) => (p[1] = true)), /partial must be 0 or 1/],
      [packedWith((p) => (p[4] = 'alice')), /nodes: expected an array/],
      [packedWith((p) => (p[4] = [7])), /nodes\[0\]: expected a string/],
      [packedWith((p) => (p[5] = huge)), /names: expected 0–65536 items, got 65537/],
      [packedWith((p) => (p[6] = [{}])), /oids\[0\]: expected a string/],
      [packedWith((p) => (p[7] = {})), /runs: expected an array/],
      [packedWith((p) => (p[7] = [5])), /runs\[0\]: expected an array/],
      [packedWith((p) => (p[7][0] = [0, 0])), /runs\[0\]: expected 3–/],
      [packedWith((p) => (p[7][0][0] = 99)), /runs\[0\]\[0\]: entity type: index 99 is not in its table of 5/],
      [packedWith((p) => (p[7][0][1] = -1)), /oid: index -1 is not/],
      [packedWith((p) => (p[7][0][1] = 0.5)), /oid: index 0.5 is not/],
      [packedWith((p) => (p[7][0][1] = '0')), /oid: index a string is not/],
      [packedWith((p) => (p[7][0][1] = null)), /oid: index null is not/],
      [packedWith((p) => (p[7][0][1] = [0])), /oid: index an array is not/],
      [packedWith((p) => (p[7][0][2] = 'x')), /runs\[0\]\[2\]: change: expected an array/],
      [packedWith((p) => (p[7][0][2] = [0])), /runs\[0\]\[2\]: change: expected 2–/],
      [packedWith((p) => (p[7][0][2] = [7, 0])), /unknown change kind 7/],
      [packedWith((p) => (p[7][0][2] = ['attribute', 0])), /unknown change kind a string/],
      [packedWith((p) => p[7][0][2].pop()), /an attribute change has 2 \+ 5 × writes items, not 6/],
      [packedWith((p) => p[7][0][2].splice(2, 5)), /an attribute change has 2 \+ 5 × writes items, not 2/],
      [packedWith((p) => (p[7][0][2] = [0, 0, ...Array.from({ length: 257 }, () => ['x', 0, 0, 0, 1]).flat()])), /change: expected 2–1282 items/],
      [packedWith((p) => (p[7][0][2][1] = 5)), /\]: attribute: index 5 is not in its table of 5/],
      [packedWith((p) => (p[7][0][2][3] = 1.5)), /ms: expected an integer/],
      [packedWith((p) => (p[7][0][2][4] = '0')), /c: expected an integer/],
      [packedWith((p) => (p[7][0][2][5] = 2)), /\[5\]: node: index 2 is not in its table of 2/],
      [packedWith((p) => (p[7][0][2][6] = 1e-3)), /seq: expected an integer/],
      [packedWith((p) => (p[7][0][3] = [1, 2, 1, 0])), /a child-add change has 5 items, not 4/],
      [packedWith((p) => (p[7][0][3][2] = 3)), /child: index 3 is not in its table of 3/],
      [packedWith((p) => (p[7][0][3][4] = Number.MAX_SAFE_INTEGER)), /seq out of range/],
      [packedWith((p) => (p[7][1][2] = [2, 4, [], [], 0, 0])), /a children change has 4 or 5 items, not 6/],
      [packedWith((p) => (p[7][1][2] = [2, 4, [], [], 0])), /removed: expected an array/],
      [packedWith((p) => (p[7][1][2][2] = 'c1')), /items: expected an array/],
      [packedWith((p) => (p[7][1][2][2] = [[2]])), /items\[0\]: expected 3–/],
      [packedWith((p) => (p[7][1][2][2] = [[2, 1, 1, 0]])), /items\[0\]: expected a child and node, seq pairs/],
      [packedWith((p) => (p[7][1][2][2] = [[9, 1, 1]])), /items\[0\]\[0\]: child: index 9/],
      [packedWith((p) => (p[7][1][2][3] = [1])), /removals: expected node, seq pairs/],
      [packedWith((p) => (p[7][1][2][3] = null)), /removals: expected an array/],
      // Unpacked fine, then refused by the domain's validation of the plain batch.
      [packedWith((p) => (p[5][1] = 'bad name!')), /changes\[0\]\.attribute: malformed name/],
      [packedWith((p) => (p[4][0] = '__proto__')), /malformed node id/],
      [packedWith((p) => (p[0] = 'bad model id!')), /malformed modelId/],
      [packedWith((p) => (p[3] = { alice: -1 })), /version/],
      [packedWith((p) => (p[7][0][2][2] = { evil: true })), /values are strings, numbers, booleans or null/],
      [packedWith((p) => (p[7][0][2][6] = -5)), /seq must be a positive safe integer/],
      [packedWith((p) => (p[7][0][2][4] = -1)), /ms and c must be non-negative/],
    ];
    for (const [packed, reason] of cases) {
      const frame = bytes({ t: 'delta', seq: 1, part: 1, parts: 1, packed });
      const decoded = decodeSyncMessage(frame, MAX_BYTES);
      const label = JSON.stringify(packed)?.slice(0, 120);
      expect(decoded, label).to.have.property('error');
      expect((decoded as { error: string }).error, label).to.match(reason).and.match(/^delta: /);
    }
  });

  it('carries what each removal mark names, and refuses lists that are malformed, unsorted or too long', () => {
    const named: ChangeBatch = {
      ...sample,
      changes: [
        ...sample.changes.slice(0, 2),
        {
          kind: 'children',
          entityType: 'Election',
          oid: 'e1',
          relation: 'candidates',
          items: [['c1', [dot('alice', 4)]]],
          removals: [{ ...dot('bob', 2), removed: [dot('alice', 1), dot('bob', 1)] }],
        },
      ],
    };
    expect(decodePackedBatch(packBatch(named))).to.deep.equal(decodeChangeBatch(JSON.parse(JSON.stringify(named))));
    const packed = packBatch(named) as any[];
    const change = () => (packed[7] as any[])[1][2] as unknown[];
    expect(change()).to.have.length(5);
    const edited = (edit: (lists: any[]) => void) => {
      const copy = structuredClone(packed);
      edit((copy[7] as any[])[1][2][4]);
      return decodePackedBatch(copy);
    };
    expect(edited((lists) => lists.push(0))).to.have.property('error').that.matches(/removed: expected 1–1 items/);
    expect(edited((lists) => lists[0].push(0))).to.have.property('error').that.matches(/removed\[0\]: expected node, seq pairs/);
    expect(edited((lists) => (lists[0] = [lists[0][0], lists[0][1], lists[0][0], 0]))).to.have.property('error').that.matches(/changes\[2\]\.removals\[0\]\.removed: dots must be sorted, without repeats/);
    expect(decodePackedBatch(packed, { ...DECODE_LIMITS, maxRemoved: 1 })).to.have.property('error').that.matches(/removed\[0\]: expected 0–2 items, got 4/);
    expect(edited((lists) => (lists[0] = 0)), 'a legacy mark').to.not.have.property('error');
  });

  it('caps the number of changes and refuses a frame with both forms', () => {
    const limits = { ...DECODE_LIMITS, maxChanges: 2 };
    expect(unpackBatch(packBatch(sample), limits)).to.deep.equal({ error: 'packed batch: more than 2 changes' });
    const both = bytes({ t: 'delta', seq: 1, part: 1, parts: 1, batch: sample, packed: packBatch(sample) });
    expect(decodeSyncMessage(both, MAX_BYTES)).to.deep.equal({ error: 'delta: batch and packed together' });
    const partialMissing = bytes({ t: 'delta', seq: 1, part: 1, parts: 2, packed: packBatch(sample) });
    expect(decodeSyncMessage(partialMissing, MAX_BYTES)).to.deep.equal({ error: 'delta: a part before the last must be partial' });
  });

  it('never throws on arbitrary values or on valid batches with any part replaced', () => {
    fc.assert(
      fc.property(fc.anything(), (packed) => {
        const result = unpackBatch(packed);
        expect(Object.keys(result)).to.contain.oneOf(['error', 'batch']);
        expect(() => decodePackedBatch(packed)).not.to.throw();
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(batchArb, fc.infiniteStream(fc.nat()), fc.jsonValue(), (batch, path, replacement) => {
        const packed = JSON.parse(JSON.stringify(packBatch(batch))) as PackedBatch;
        // Walk down a random path of the packed tree and replace what is there.
        let node: unknown[] = packed;
        const steps = path[Symbol.iterator]();
        for (;;) {
          if (node.length === 0) break;
          const index = steps.next().value! % node.length;
          const child = node[index];
          if (Array.isArray(child) && child.length > 0 && steps.next().value! % 3 !== 0) node = child;
          else {
            node[index] = replacement;
            break;
          }
        }
        expect(() => decodeSyncMessage(bytes({ t: 'delta', seq: 1, part: 1, parts: 1, packed }), MAX_BYTES)).not.to.throw();
      }),
      { numRuns: 500 },
    );
  });
});
