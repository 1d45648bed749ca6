import { expect } from 'chai';
import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/version-vector.js';
import {
  type ChangeCertificate,
  CertificateStore,
  ITEM_HASH_BYTES,
  MAX_CERTIFIED_ITEMS,
  decodeCertificate,
  decodeSentCertificate,
  encodeCertificate,
  encodeElidedCertificate,
  forEachItem,
  hashItems,
  keepItems,
} from '../../src/security/index.js';
import { sha256 } from '../../src/util/index.js';
import type { ModelChange } from '../../src/domain/index.js';

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const node = asNodeId('A'.repeat(32) + 'tab00001');

function certificate(seqs: number[]): ChangeCertificate {
  const hashes = new Uint8Array(seqs.length * ITEM_HASH_BYTES);
  hashes.forEach((_, i) => (hashes[i] = (i * 7) & 0xff));
  return { node, publicKey: new Uint8Array(32).fill(3), seqs, hashes, signature: new Uint8Array(64).fill(9) };
}

describe('sha256', () => {
  it('matches WebCrypto for every length around the block boundaries and for long inputs', async () => {
    const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 70_000];
    for (const length of lengths) {
      const data = crypto.getRandomValues(new Uint8Array(Math.min(length, 65_536)));
      const input = length > 65_536 ? new Uint8Array([...data, ...data.subarray(0, length - 65_536)]) : data;
      const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
      expect(hex(sha256(input)), `length ${length}`).to.equal(hex(expected));
    }
  });

  it('gives the known digest of "abc"', () => {
    expect(hex(sha256(new TextEncoder().encode('abc')))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('change certificates: encoding', () => {
  it('round-trips, large seqs and gaps included', () => {
    const original = certificate([1, 2, 3, 200, 70_000, 2 ** 40, Number.MAX_SAFE_INTEGER]);
    const decoded = decodeCertificate(encodeCertificate(original));
    expect(decoded).to.not.have.property('error');
    expect(decoded).to.deep.equal({ ...original, publicKey: original.publicKey, hashes: original.hashes, signature: original.signature });
  });

  it('refuses malformed certificates with a reason, never throwing', () => {
    const good = encodeCertificate(certificate([5, 6]));
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array()],
      ['unknown version', Uint8Array.from([2, ...good.subarray(1)])],
      ['truncated', good.subarray(0, good.length - 1)],
      ['extended', Uint8Array.from([...good, 0])],
      ['bad node id', (() => { const b = good.slice(); b[2] = 0x3a; return b; })()],
    ];
    for (const [name, bytes] of cases) {
      const decoded = decodeCertificate(bytes);
      expect(decoded, name).to.have.property('error');
    }
    // Seq deltas: zero (not ascending) and a non-canonical varint (a trailing zero group).
    const at = 2 + node.length + 32 + 2;
    const zero = good.slice();
    zero[at + 1] = 0;
    expect(decodeCertificate(zero)).to.deep.equal({ error: 'certificate: seqs must ascend' });
    const padded = Uint8Array.from([...good.subarray(0, at), 0x85, 0x00, ...good.subarray(at + 1)]);
    expect(decodeCertificate(padded)).to.have.property('error');
  });

  it('has a form without the hash list, which only deltas carry', () => {
    const original = certificate([3, 4, 9]);
    const elided = encodeElidedCertificate(original);
    expect(elided.length).to.equal(encodeCertificate(original).length - 3 * ITEM_HASH_BYTES);
    expect(decodeSentCertificate(elided)).to.deep.equal({ ...original, hashes: null });
    expect(decodeSentCertificate(encodeCertificate(original))).to.deep.equal(original);
    expect(decodeCertificate(elided)).to.deep.equal({ error: 'certificate: hash list missing' });
    expect(decodeSentCertificate(elided.subarray(0, elided.length - 1))).to.have.property('error');
  });

  it(`lists 1 to ${MAX_CERTIFIED_ITEMS} items`, () => {
    const seqs = Array.from({ length: MAX_CERTIFIED_ITEMS }, (_, i) => i + 1);
    expect(decodeCertificate(encodeCertificate(certificate(seqs)))).to.not.have.property('error');
    const tooMany = encodeCertificate(certificate([...seqs, MAX_CERTIFIED_ITEMS + 1]));
    expect(decodeCertificate(tooMany)).to.have.property('error').that.includes('1 to');
  });
});

describe('change items', () => {
  const write = (value: string, seq: number) => ({ value, ts: { ms: 1, c: 0 }, dot: { node, seq } });
  const attribute: ModelChange = { kind: 'attribute', entityType: 'Book', oid: 'b1', attribute: 'title', writes: [write('Dune', 1), write('Emma', 2)] };
  const children: ModelChange = {
    kind: 'children',
    entityType: 'Author',
    oid: 'a1',
    relation: 'works',
    items: [['b1', [{ node, seq: 3 }]], ['b2', [{ node, seq: 4 }, { node, seq: 5 }]]],
    removals: [{ node, seq: 6 }],
  };

  const hashesOf = (change: ModelChange) => {
    const hashes: string[] = [];
    forEachItem(change, (_, hash) => hashes.push(hex(hash)));
    return hashes;
  };

  it('hash everything that decides an item: value, timestamp, place and seq', () => {
    const [base, second] = hashesOf(attribute);
    expect(base).to.have.length(ITEM_HASH_BYTES * 2);
    expect(second).to.not.equal(base);
    const variants = [
      { ...attribute, writes: [{ ...write('Dune', 1), value: 'Dune!' }] },
      { ...attribute, writes: [{ ...write('Dune', 1), value: 1 }] },
      { ...attribute, writes: [{ ...write('Dune', 1), value: null }] },
      { ...attribute, writes: [{ ...write('Dune', 1), ts: { ms: 2, c: 0 } }] },
      { ...attribute, writes: [{ ...write('Dune', 1), ts: { ms: 1, c: 1 } }] },
      { ...attribute, oid: 'b2', writes: [write('Dune', 1)] },
      { ...attribute, entityType: 'Author', writes: [write('Dune', 1)] },
      { ...attribute, attribute: 'genre', writes: [write('Dune', 1)] },
      { ...attribute, writes: [write('Dune', 9)] },
      // A string that would run into the next field if lengths were not written.
      { ...attribute, oid: 'b1t', attribute: 'itle', writes: [write('Dune', 1)] },
    ] as ModelChange[];
    const all = new Set([base, ...variants.map((variant) => hashesOf(variant)[0])]);
    expect(all.size).to.equal(variants.length + 1);
    // The same item hashes the same, whoever's change carries it; non-ASCII text too.
    expect(hashesOf({ ...attribute, writes: [write('Dune', 1)] })).to.deep.equal([base]);
    const unicode = { ...attribute, writes: [write('Düne ✓ ' + 'x'.repeat(200), 1)] } as ModelChange;
    expect(hashesOf(unicode)).to.deep.equal(hashesOf(JSON.parse(JSON.stringify(unicode))));
    expect(hashesOf(unicode)[0]).to.not.equal(base);
  });

  it('hash adds, the removal marks and the child they concern', () => {
    const hashes = hashesOf(children);
    expect(hashes).to.have.length(4);
    expect(new Set(hashes).size).to.equal(4);
    const add: ModelChange = { kind: 'child-add', entityType: 'Author', oid: 'a1', relation: 'works', child: 'b1', dot: { node, seq: 3 } };
    expect(hashesOf(add)).to.deep.equal([hashes[0]]);
  });

  it('hash what a removal mark names, so a relay can neither shorten nor strip the list', () => {
    const markHash = (removed?: Array<{ node: NodeId; seq: number }>) =>
      hashesOf({ ...children, items: [], removals: [{ node, seq: 6, ...(removed ? { removed } : {}) }] })[0];
    const named = markHash([{ node, seq: 1 }, { node, seq: 2 }]);
    const all = new Set([named, markHash([{ node, seq: 1 }]), markHash([]), markHash(undefined), markHash([{ node, seq: 1 }, { node, seq: 3 }])]);
    expect(all.size, 'a shortened, emptied, stripped (legacy) or altered list hashes differently').to.equal(5);
    expect(markHash(undefined), 'a legacy mark hashes as before lists').to.equal(hashesOf(children)[3]);
  });

  it('hashItems gives forEachItem\'s hashes, in order, from any item index', () => {
    // Enough items of each length to fill groups of four and leave some waiting, a long value
    // hashed on its own, and a removal mark naming what it removed.
    const changes: ModelChange[] = [];
    for (let i = 0; i < 9; i++) {
      changes.push({ ...attribute, oid: `b${i}`, writes: [write('Dune'.repeat(i), 2 * i + 1), write('x'.repeat(40 * i), 2 * i + 2)] });
      changes.push({ ...children, oid: `a${i}`, removals: [{ node, seq: 6, removed: [{ node, seq: 3 }] }] });
    }
    changes.push({ ...attribute, writes: [write('Düne ✓ ' + 'y'.repeat(900), 1)] });
    const want = changes.flatMap(hashesOf);
    const out = new Uint8Array((want.length + 3) * ITEM_HASH_BYTES);
    expect(hashItems(changes, 0, 5, out, 3)).to.equal(3 + changes.slice(0, 5).flatMap(hashesOf).length);
    const next = hashItems(changes, 5, changes.length, out, 3 + changes.slice(0, 5).flatMap(hashesOf).length);
    expect(next).to.equal(want.length + 3);
    const got = Array.from({ length: want.length }, (_, i) => hex(out.subarray((i + 3) * ITEM_HASH_BYTES, (i + 4) * ITEM_HASH_BYTES)));
    expect(got).to.deep.equal(want);
    expect([...out.subarray(0, 3 * ITEM_HASH_BYTES)].every((byte) => byte === 0)).to.equal(true);
  });

  it('keepItems keeps the whole change, a part of it, or nothing', () => {
    expect(keepItems(children, () => true)).to.equal(children);
    expect(keepItems(children, () => false)).to.equal(undefined);
    const odd = keepItems(children, (dot) => dot.seq % 2 === 1);
    expect(odd).to.deep.equal({
      kind: 'children',
      entityType: 'Author',
      oid: 'a1',
      relation: 'works',
      items: [['b1', [{ node, seq: 3 }]], ['b2', [{ node, seq: 5 }]]],
    });
    expect(keepItems(attribute, (dot) => dot.seq === 2)).to.deep.equal({ ...attribute, writes: [write('Emma', 2)] });
  });
});

describe('CertificateStore', () => {
  it('indexes by dot, keeps the first certificate of a dot, and reports equivocation', () => {
    const store = new CertificateStore();
    const heard: number[] = [];
    store.onAdded((added) => heard.push(added.length));
    const first = certificate([1, 2]);
    store.add([first]);
    expect(store.certificateOf({ node, seq: 2 })).to.equal(first);
    expect(store.certificateOf({ node, seq: 3 })).to.equal(undefined);
    expect(store.vouchesFor({ node, seq: 2 }, first.hashes.subarray(ITEM_HASH_BYTES)), 'vouches for seq 2 with its own hash').to.equal(true);
    expect(store.vouchesFor({ node, seq: 1 }, first.hashes.subarray(ITEM_HASH_BYTES)), "vouches for seq 1 with seq 2's hash").to.equal(false);
    // The same items again, and one more: only the new entry is taken from it.
    const again = certificate([1, 2]);
    store.add([again]);
    expect(store.size).to.equal(1);
    const other = { ...certificate([2, 3]), hashes: new Uint8Array(2 * ITEM_HASH_BYTES).fill(1) };
    expect(store.conflict(other)).to.equal(2);
    expect(store.conflict(certificate([1]))).to.equal(undefined);
    expect(heard).to.deep.equal([1]);
  });

  it('a listener that throws is reported; add() still holds the certificates and the other listeners hear of them', () => {
    const warnings: string[] = [];
    const store = new CertificateStore({ warn: (message) => warnings.push(message) });
    store.onAdded(() => {
      throw new Error('a broken view');
    });
    const heard: number[] = [];
    store.onAdded((added) => heard.push(added.length));
    const held = certificate([1, 2]);
    expect(() => store.add([held])).to.not.throw();
    expect(store.certificateOf({ node, seq: 1 })).to.equal(held);
    expect(heard).to.deep.equal([1]);
    expect(warnings).to.deep.equal(['a certificate listener threw']);
  });
});

describe('CertificateStore.prune', () => {
  it('drops the certificates none of whose items is held, and only their entries, but keeps the frontier proof', () => {
    const store = new CertificateStore();
    const kept = certificate([1, 2]);
    const gone = certificate([3, 4]);
    const overlapping = { ...certificate([4, 5]) };
    const frontier = certificate([6]);
    store.add([kept, gone, overlapping, frontier]);
    expect(store.frontier(node)).to.equal(6);
    const held = new Set([2, 4]);
    // 4 is held: both certificates listing it stay.
    expect(store.prune((dot) => held.has(dot.seq))).to.deep.equal([]);
    held.delete(4);
    expect(store.prune((dot) => held.has(dot.seq))).to.deep.equal([gone, overlapping]);
    expect(store.size).to.equal(2);
    expect(store.certificateOf({ node, seq: 3 })).to.equal(undefined);
    expect(store.certificateOf({ node, seq: 5 })).to.equal(undefined);
    expect(store.certificateOf({ node, seq: 1 })).to.equal(kept);
    // Seq 6 is gone too, but its certificate proves how far versions may claim the author.
    expect(store.frontierCertificate(node)).to.equal(frontier);
    expect(store.frontier(node)).to.equal(6);
  });
});

describe('VersionVector.forgetAfter', () => {
  it('forgets the dots of one node past a seq, extras included, and nothing else', () => {
    const a = asNodeId('a');
    const b = asNodeId('b');
    const version = VersionVector.fromJSON({ a: [5, 7, 9], b: 3 });
    expect(version.clone().forgetAfter(a, 8).toJSON()).to.deep.equal({ a: [5, 7], b: 3 });
    expect(version.clone().forgetAfter(a, 2).toJSON()).to.deep.equal({ a: 2, b: 3 });
    expect(version.clone().forgetAfter(a, 0).toJSON()).to.deep.equal({ b: 3 });
    expect(version.clone().forgetAfter(b, 10).toJSON()).to.deep.equal({ a: [5, 7, 9], b: 3 });
    expect(version.clone().forgetAfter(b, 1).covers({ node: b, seq: 2 }), 'covers b:2 after forgetting b past 1').to.equal(false);
  });
});
