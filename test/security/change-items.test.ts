import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import type { ModelChange } from '../../src/domain/index.js';
import { ITEM_FORMAT, ITEM_HASH_BYTES, forEachItem, hashItems } from '../../src/security/index.js';

// The hashed form of items, written out here byte by byte from its description (ITEM_FORMAT, the
// kind, length-prefixed UTF-8 strings, values tagged, numbers as big-endian float64), so any change
// to how items are encoded, or a shortcut that reuses bytes of the item before, shows here: every
// certificate ever signed lists hashes of exactly this form.
const utf8 = new TextEncoder();
const str = (text: string): number[] => {
  const bytes = [...utf8.encode(text)];
  const prefix: number[] = [];
  let size = bytes.length;
  while (size >= 0x80) {
    prefix.push((size & 0x7f) | 0x80);
    size >>>= 7;
  }
  return [...prefix, size, ...bytes];
};
const f64 = (value: number): number[] => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return [...new Uint8Array(view.buffer)];
};
const head = (kind: number, type: string, oid: string, field: string) => [ITEM_FORMAT, kind, ...str(type), ...str(oid), ...str(field)];
const value = (v: string | number | boolean | null): number[] =>
  v === null ? [0] : typeof v === 'boolean' ? [v ? 2 : 1] : typeof v === 'number' ? [3, ...f64(v)] : [4, ...str(v)];

async function expectedHash(bytes: number[]): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', Uint8Array.from(bytes)));
  return hex(digest.subarray(0, ITEM_HASH_BYTES));
}
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

const alice = asNodeId('alice');
const bob = asNodeId('bob');
const ts = (ms: number, c = 0) => ({ ms, c });

// Items that share their entity, attribute or relation with the item before, and items that do not.
const changes: ModelChange[] = [
  {
    kind: 'attribute',
    entityType: 'Voter',
    oid: 'voter-1',
    attribute: 'name',
    writes: [
      { value: 'Ada', ts: ts(1000), dot: { node: alice, seq: 1 } },
      { value: 'Ada L.', ts: ts(1000, 1), dot: { node: bob, seq: 4 } },
    ],
  },
  { kind: 'attribute', entityType: 'Voter', oid: 'voter-1', attribute: 'district', writes: [{ value: 7, ts: ts(1001), dot: { node: alice, seq: 2 } }] },
  { kind: 'child-add', entityType: 'Voter', oid: 'voter-1', relation: 'ballots', child: 'ballot-1', dot: { node: alice, seq: 3 } },
  { kind: 'attribute', entityType: 'Candidate', oid: 'voter-1', attribute: 'name', writes: [{ value: null, ts: ts(1002), dot: { node: alice, seq: 5 } }] },
  { kind: 'attribute', entityType: 'Voter', oid: 'voter-2', attribute: 'name', writes: [{ value: true, ts: ts(1003), dot: { node: alice, seq: 6 } }] },
  {
    kind: 'children',
    entityType: 'Voter',
    oid: 'voter-2',
    relation: 'ballots',
    items: [['ballot-2', [{ node: bob, seq: 1 }, { node: alice, seq: 7 }]]],
    removals: [
      { node: alice, seq: 8 },
      { node: bob, seq: 2, removed: [{ node: alice, seq: 3 }] },
    ],
  },
  { kind: 'attribute', entityType: 'Voter', oid: 'voter-1', attribute: 'name', writes: [{ value: 'Ünïcode ✓', ts: ts(1004), dot: { node: alice, seq: 9 } }] },
];

const expectedForms: number[][] = [
  [...head(1, 'Voter', 'voter-1', 'name'), ...value('Ada'), ...f64(1000), ...f64(0), ...f64(1)],
  [...head(1, 'Voter', 'voter-1', 'name'), ...value('Ada L.'), ...f64(1000), ...f64(1), ...f64(4)],
  [...head(1, 'Voter', 'voter-1', 'district'), ...value(7), ...f64(1001), ...f64(0), ...f64(2)],
  [...head(2, 'Voter', 'voter-1', 'ballots'), ...str('ballot-1'), ...f64(3)],
  [...head(1, 'Candidate', 'voter-1', 'name'), ...value(null), ...f64(1002), ...f64(0), ...f64(5)],
  [...head(1, 'Voter', 'voter-2', 'name'), ...value(true), ...f64(1003), ...f64(0), ...f64(6)],
  [...head(2, 'Voter', 'voter-2', 'ballots'), ...str('ballot-2'), ...f64(1)],
  [...head(2, 'Voter', 'voter-2', 'ballots'), ...str('ballot-2'), ...f64(7)],
  [...head(3, 'Voter', 'voter-2', 'ballots'), ...f64(8)],
  [...head(4, 'Voter', 'voter-2', 'ballots'), ...f64(1), ...str('alice'), ...f64(3), ...f64(2)],
  [...head(1, 'Voter', 'voter-1', 'name'), ...value('Ünïcode ✓'), ...f64(1004), ...f64(0), ...f64(9)],
];

describe('The hashed form of items', () => {
  it('is the documented byte layout, item after item, whatever the item before shares with it', async () => {
    const expected = await Promise.all(expectedForms.map(expectedHash));
    const visited: string[] = [];
    for (const change of changes) forEachItem(change, (_, hash) => visited.push(hex(hash)));
    expect(visited).to.deep.equal(expected);
    const out = new Uint8Array(expected.length * ITEM_HASH_BYTES);
    expect(hashItems(changes, 0, changes.length, out, 0)).to.equal(expected.length);
    const batched = Array.from({ length: expected.length }, (_, i) => hex(out.subarray(i * ITEM_HASH_BYTES, (i + 1) * ITEM_HASH_BYTES)));
    expect(batched).to.deep.equal(expected);
    // Hashed in pieces (as slices are), and one change alone: the same hashes.
    const pieces = new Uint8Array(out.length);
    let index = 0;
    for (let at = 0; at < changes.length; at++) index = hashItems(changes, at, at + 1, pieces, index);
    expect(hex(pieces)).to.equal(hex(out));
  });
});
