import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/index.js';
import type { ChangeBatch, ModelChange } from '../../src/domain/index.js';
import { type SyncMessage, decodeSyncMessage, encodeSyncMessage, isDecodeError, sendableChanges, splitBatch } from '../../src/sync/index.js';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (value: unknown) => decodeSyncMessage(value instanceof Uint8Array ? value : bytes(value), 1_000_000);
const errorOf = (value: unknown) => {
  const result = decode(value);
  return isDecodeError(result) ? result.error : undefined;
};

const dot = (node: string, seq: number) => ({ node: asNodeId(node), seq });
const attribute = (oid: string, ...dots: Array<[string, number]>): ModelChange => ({
  kind: 'attribute',
  entityType: 'Voter',
  oid,
  attribute: 'name',
  writes: dots.map(([node, seq]) => ({ value: `${node}${seq}`, ts: { ms: seq, c: 0 }, dot: dot(node, seq) })),
});
const batch = (changes: ModelChange[], partial?: boolean): ChangeBatch => ({
  format: 1,
  modelId: 'm',
  since: {},
  version: { a: 9 },
  changes,
  ...(partial ? { partial } : {}),
});

describe('sync messages', () => {
  it('every message survives encode and decode unchanged', () => {
    const messages: SyncMessage[] = [
      { t: 'hello', protocols: [1], node: 'alice', models: { m: { alice: 3, bob: [1, 4] } }, name: 'Alice', auth: { sig: 'x' } },
      { t: 'delta', seq: 2, part: 1, parts: 1, batch: batch([attribute('v1', ['a', 1])]) },
      { t: 'delta', seq: 3, part: 1, parts: 2, batch: batch([], true) },
      { t: 'delta', seq: 3, part: 2, parts: 2, batch: batch([], true) },
      { t: 'ack', model: 'm', version: { a: 1 }, complete: false, seen: 4 },
      { t: 'version', model: 'm', version: {}, request: true, sent: 2, seen: 0 },
      { t: 'ack', model: 'm', version: { a: 1 }, complete: true, seen: 4, prune: true, roots: [asNodeId('alice'), asNodeId('bob')] },
      { t: 'graft', model: 'm', have: { a: 1 }, roots: [asNodeId('alice')] },
      { t: 'prune', roots: [asNodeId('alice')] },
      { t: 'prune' },
      { t: 'info', name: null },
      { t: 'error', reason: 'bye' },
    ];
    for (const message of messages) expect(decodeSyncMessage(encodeSyncMessage(message), 10_000)).to.deep.equal(message);
  });

  it('a hello without a name decodes with name null', () => {
    expect(decode({ t: 'hello', protocols: [1], node: 'a', models: {} })).to.deep.include({ name: null });
  });

  it('refuses malformed frames with a reason, never throwing', () => {
    const cases: Array<[unknown, RegExp]> = [
      [new Uint8Array([0xc3, 0x28]), /UTF-8 JSON/],
      ['"just a string"', /JSON object/],
      [null, /JSON object/],
      [{ t: 1 }, /unknown message type/],
      [{ t: 'hello', protocols: [], node: 'a', models: {} }, /protocols/],
      [{ t: 'hello', protocols: [1.5], node: 'a', models: {} }, /protocol number/],
      [{ t: 'hello', protocols: [1], node: 'a b', models: {} }, /node id/],
      [{ t: 'hello', protocols: [1], node: 'a', models: [] }, /models/],
      [{ t: 'hello', protocols: [1], node: 'a', models: { 'bad id!': {} } }, /model id/],
      [{ t: 'hello', protocols: [1], node: 'a', models: { m: { a: -1 } } }, /version/],
      [{ t: 'hello', protocols: [1], node: 'a', models: { m: { a: [3, 2] } } }, /version/],
      [{ t: 'hello', protocols: [1], node: 'a', models: {}, name: 'x'.repeat(65) }, /name/],
      [{ t: 'hello', protocols: [1], node: 'a', models: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, {}])) }, /more than 64/],
      [{ t: 'delta', seq: 0, part: 1, parts: 1, batch: batch([]) }, /seq/],
      [{ t: 'delta', seq: 1, part: 2, parts: 1, batch: batch([]) }, /part/],
      [{ t: 'delta', seq: 1, part: 1, parts: 0, batch: batch([]) }, /parts/],
      [{ t: 'delta', seq: 1, part: 1, parts: 2, batch: batch([]) }, /before the last must be partial/],
      [{ t: 'delta', seq: 1, part: 1, parts: 1, batch: { ...batch([]), format: 2 } }, /format/],
      [{ t: 'delta', seq: 1, part: 1, parts: 1, batch: batch([{ kind: 'attribute' } as never]) }, /delta:/],
      [{ t: 'ack', model: 'm', version: {}, complete: 'yes', seen: 0 }, /complete/],
      [{ t: 'ack', model: 'm', version: {}, complete: true }, /seen/],
      [{ t: 'version', model: 'm', version: {}, request: true, seen: 0 }, /sent/],
      [{ t: 'version', model: 'm', version: {}, sent: 0, seen: 0 }, /request/],
      [{ t: 'version', model: '', version: {}, request: false, sent: 0, seen: 0 }, /model id/],
      [{ t: 'version', model: 'm', version: { 'x:y': 1 }, request: false, sent: 0, seen: 0 }, /version/],
      [{ t: 'ack', model: 'm', version: {}, complete: true, seen: 0, roots: ['a'] }, /roots without prune/],
      [{ t: 'ack', model: 'm', version: {}, complete: true, seen: 0, prune: true, roots: [] }, /roots/],
      [{ t: 'prune', roots: ['a b'] }, /roots/],
      [{ t: 'prune', roots: 'a' }, /roots/],
      [{ t: 'graft', model: 'm', have: {}, roots: Array.from({ length: 257 }, (_, i) => `n${i}`) }, /roots/],
      [{ t: 'info', name: 5 }, /name/],
      [{ t: 'error' }, /reason/],
    ];
    for (const [frame, reason] of cases) expect(errorOf(frame), JSON.stringify(frame)?.slice(0, 80)).to.match(reason);
    expect(decodeSyncMessage(bytes({ t: 'info', name: 'x'.repeat(200) }), 100)).to.deep.equal({ error: 'frame of 222 bytes exceeds 100' });
  });

  it('a model id like __proto__ in a hello stays an ordinary entry', () => {
    const hello = decodeSyncMessage(new TextEncoder().encode('{"t":"hello","protocols":[1],"node":"a","models":{"__proto__":{"a":1}}}'), 1000);
    expect(hello).to.not.have.property('error');
    expect(Object.keys((hello as { models: object }).models)).to.deep.equal(['__proto__']);
  });
});

describe('splitBatch', () => {
  const changes = Array.from({ length: 5 }, (_, i) => attribute(`v${i}`, ['a', i + 1]));

  it('keeps a small batch whole and adoptable', () => {
    expect(splitBatch(batch(changes), 5)).to.deep.equal([batch(changes)]);
    expect(splitBatch(batch([]), 5)).to.deep.equal([batch([])]);
  });

  it('cuts a large one into parts; only the last may be adopted', () => {
    const parts = splitBatch(batch(changes, true), 2);
    expect(parts.map((part) => part.changes.length)).to.deep.equal([2, 2, 1]);
    expect(parts.map((part) => part.partial)).to.deep.equal([true, true, undefined]);
    expect(parts.flatMap((part) => part.changes)).to.deep.equal(changes);
    for (const part of parts) expect(part).to.include({ modelId: 'm', format: 1 });
  });

  it('refuses a part size below one', () => {
    expect(() => splitBatch(batch(changes), 0)).to.throw(RangeError);
  });
});

describe('sendableChanges', () => {
  const version = VersionVector.fromJSON({ a: 3, b: 1 });

  it('keeps everything, as is, when the version covers every dot', () => {
    const changes = [attribute('v1', ['a', 1], ['b', 1]), attribute('v2', ['a', 3])];
    expect(sendableChanges(changes, version)).to.equal(changes);
  });

  it('leaves out writes, adds and removal marks the version does not cover, keeping the rest', () => {
    const changes: ModelChange[] = [
      attribute('v1', ['a', 1]),
      attribute('v2', ['c', 1]),
      attribute('v3', ['a', 2], ['c', 2]),
      { kind: 'child-add', entityType: 'Voter', oid: 'v1', relation: 'elections', child: 'e1', dot: dot('c', 3) },
      { kind: 'child-add', entityType: 'Voter', oid: 'v1', relation: 'elections', child: 'e2', dot: dot('b', 1) },
      {
        kind: 'children',
        entityType: 'Voter',
        oid: 'v4',
        relation: 'elections',
        items: [
          ['e1', [dot('a', 3), dot('c', 4)]],
          ['e2', [dot('c', 5)]],
        ],
        removals: [dot('c', 6)],
      },
      { kind: 'children', entityType: 'Voter', oid: 'v5', relation: 'elections', items: [['e1', [dot('c', 7)]]], removals: [dot('b', 1)] },
      { kind: 'children', entityType: 'Voter', oid: 'v6', relation: 'elections', items: [['e1', [dot('c', 8)]]] },
    ];
    expect(sendableChanges(changes, version)).to.deep.equal([
      changes[0],
      attribute('v3', ['a', 2]),
      changes[4],
      { kind: 'children', entityType: 'Voter', oid: 'v4', relation: 'elections', items: [['e1', [dot('a', 3)]]] },
      { kind: 'children', entityType: 'Voter', oid: 'v5', relation: 'elections', items: [], removals: [dot('b', 1)] },
    ]);
  });
});
