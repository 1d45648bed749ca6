import type { Dot } from '../crdt/dot.js';
import type { AttributeValue, ModelChange } from '../domain/model-change.js';
import { sha256Into } from '../util/sha256.js';
import { Sha256Batch } from '../util/sha256-batch.js';
import { encodeUtf8 } from '../util/utf8.js';

/**
 * Bytes of an item hash: SHA-256 cut to 128 bits. What a hash must resist here is a second
 * preimage (someone else's item with the same hash as a signed one), which costs 2^128 at this
 * length. Collisions (2^64) would only let an author make two items it signs once, and an author
 * can already sign two certificates for one operation; both are the same equivocation, detected
 * the same way (see `CertificateStore.conflict`). Half the bytes of every certificate.
 */
export const ITEM_HASH_BYTES = 16;

/** Format of the hashed form of an item (its first byte). */
export const ITEM_FORMAT = 1;

const enum Kind {
  write = 1,
  add = 2,
  /** A legacy removal mark (no list of what it removed). */
  removal = 3,
  /** A removal mark with the add dots it removed. */
  namedRemoval = 4,
}

/**
 * Gets each dot-bearing item of a change with its hash: an attribute write, a child add or a
 * removal mark. `hash` is only valid during the call (copy it to keep it).
 */
export type ItemVisitor = (dot: Dot, hash: Uint8Array) => void;

/** Calls `visit` for the dot of every item of `change` (no hashing). */
export function forEachDot(change: ModelChange, visit: (dot: Dot) => void): void {
  switch (change.kind) {
    case 'attribute':
      for (const write of change.writes) visit(write.dot);
      return;
    case 'child-add':
      visit(change.dot);
      return;
    case 'children':
      for (const [, dots] of change.items) for (const dot of dots) visit(dot);
      for (const dot of change.removals ?? []) visit(dot);
      return;
  }
}

/**
 * Calls `visit` for every item of `change` with its hash. The hashed form holds everything that
 * decides the item's effect: where it applies (concept, oid, attribute or relation, child), its
 * value and timestamp (so no relay can move a write ahead in last-writer-wins), for a removal mark
 * the adds it names, and its seq, in a binary form with length-prefixed strings, so it is
 * unambiguous. The author's node id is not in it: an item is only ever checked against a
 * certificate of the item's own node.
 */
export function forEachItem(change: ModelChange, visit: ItemVisitor): void {
  encodeItems(change, (dot) => {
    sha256Into(buffer, length, digest, 0);
    visit(dot, digest.subarray(0, ITEM_HASH_BYTES));
  });
}

/**
 * Writes the hash of every item of `changes[from, to)`, in `forEachItem`'s order, to `out` from
 * item `index` on (`ITEM_HASH_BYTES` each); returns the index after the last. Hashes four items
 * at a time where WebAssembly can (`Sha256Batch`): a bootstrap hashes tens of thousands.
 */
export function hashItems(changes: readonly ModelChange[], from: number, to: number, out: Uint8Array, index: number): number {
  if (!batch) {
    batch = new Sha256Batch(ITEM_HASH_BYTES);
    // Items are encoded straight into the batch's scratch area (a longer one moves to a buffer of its own).
    if (batch.scratch.length >= buffer.length) useBuffer(batch.scratch);
  }
  const hasher = batch;
  const scratch = hasher.scratch;
  for (let i = from; i < to; i++)
    encodeItems(changes[i]!, () => {
      if (buffer === scratch) hasher.addScratch(length, out, index++ * ITEM_HASH_BYTES);
      else hasher.add(buffer, length, out, index++ * ITEM_HASH_BYTES);
    });
  hasher.flush();
  return index;
}

let batch: Sha256Batch | undefined;

// Calls `encoded` for every item of `change` with its hashed form in `buffer[0, length)`.
function encodeItems(change: ModelChange, encoded: (dot: Dot) => void): void {
  const { entityType, oid } = change;
  switch (change.kind) {
    case 'attribute':
      for (const { value, ts, dot } of change.writes) {
        begin(Kind.write, entityType, oid, change.attribute);
        writeValue(value);
        writeNumber(ts.ms);
        writeNumber(ts.c);
        writeNumber(dot.seq);
        encoded(dot);
      }
      return;
    case 'child-add':
      begin(Kind.add, entityType, oid, change.relation);
      writeString(change.child);
      writeNumber(change.dot.seq);
      encoded(change.dot);
      return;
    case 'children':
      for (const [child, dots] of change.items)
        for (const dot of dots) {
          begin(Kind.add, entityType, oid, change.relation);
          writeString(child);
          writeNumber(dot.seq);
          encoded(dot);
        }
      for (const mark of change.removals ?? []) {
        // The list is part of what is signed, under its own kind: a relay can neither shorten it
        // nor strip it to pass the mark off as a legacy one (whose hash has no list).
        begin(mark.removed ? Kind.namedRemoval : Kind.removal, entityType, oid, change.relation);
        if (mark.removed) {
          writeNumber(mark.removed.length);
          for (const dot of mark.removed) {
            writeString(dot.node);
            writeNumber(dot.seq);
          }
        }
        writeNumber(mark.seq);
        encoded(mark);
      }
      return;
  }
}

/**
 * `change` with only the items whose dots `keep` accepts: the change itself if it keeps all,
 * undefined if none. A register keeps its kept writes; a relation its kept adds and removal marks.
 */
export function keepItems(change: ModelChange, keep: (dot: Dot) => boolean): ModelChange | undefined {
  switch (change.kind) {
    case 'attribute': {
      const writes = change.writes.filter((write) => keep(write.dot));
      if (writes.length === change.writes.length) return change;
      return writes.length ? { ...change, writes } : undefined;
    }
    case 'child-add':
      return keep(change.dot) ? change : undefined;
    case 'children': {
      let all = true;
      const items = change.items
        .map(([child, dots]) => {
          const kept = dots.filter(keep);
          if (kept.length !== dots.length) all = false;
          return [child, kept] as const;
        })
        .filter(([, dots]) => dots.length > 0);
      const removals = change.removals ?? [];
      const marks = removals.filter(keep);
      if (all && marks.length === removals.length) return change;
      if (!items.length && !marks.length) return undefined;
      const { removals: _all, ...relation } = change;
      return { ...relation, items, ...(marks.length ? { removals: marks } : {}) };
    }
  }
}

// One scratch buffer for the item being hashed: hashing allocates nothing per item.
let buffer: Uint8Array = new Uint8Array(1024);
let view: DataView = new DataView(buffer.buffer);
let length = 0;
const digest = new Uint8Array(32);

function ensure(extra: number): void {
  if (length + extra <= buffer.length) return;
  const grown = new Uint8Array(Math.max(buffer.length * 2, length + extra));
  grown.set(buffer.subarray(0, length));
  useBuffer(grown);
}

function useBuffer(bytes: Uint8Array): void {
  buffer = bytes;
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// What the buffer starts with since the last `begin`: consecutive items mostly share their
// entity (an entity's attributes, a relation's adds), whose strings are then not written again
// (test/security/change-items.test.ts pins the bytes).
let prefixBuffer: Uint8Array | undefined;
let prefixType = '';
let prefixOid = '';
let prefixField = '';
let afterOid = 0;
let afterField = 0;

function begin(kind: Kind, entityType: string, oid: string, field: string): void {
  buffer[0] = ITEM_FORMAT;
  buffer[1] = kind;
  if (buffer === prefixBuffer && entityType === prefixType && oid === prefixOid) {
    if (field === prefixField) {
      length = afterField;
      return;
    }
    length = afterOid;
  } else {
    length = 2;
    writeString(entityType);
    writeString(oid);
    prefixType = entityType;
    prefixOid = oid;
    afterOid = length;
  }
  writeString(field);
  // Taken after the writes: one that grew the buffer moved the prefix with it.
  prefixBuffer = buffer;
  prefixField = field;
  afterField = length;
}

function writeValue(value: AttributeValue): void {
  ensure(1);
  if (value === null) buffer[length++] = 0;
  else if (typeof value === 'boolean') buffer[length++] = value ? 2 : 1;
  else if (typeof value === 'number') {
    buffer[length++] = 3;
    writeNumber(value);
  } else {
    buffer[length++] = 4;
    writeString(value);
  }
}

function writeNumber(value: number): void {
  ensure(8);
  // -0 and 0 are one value on the wire (JSON), so they must be one here.
  view.setFloat64(length, value === 0 ? 0 : value);
  length += 8;
}

// A LEB128 byte length, then UTF-8. Short ASCII strings (ids, names) are written directly.
function writeString(text: string): void {
  const n = text.length;
  ensure(5 + n * 3);
  if (n < 0x80) {
    const start = length + 1;
    let i = 0;
    for (; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      buffer[start + i] = code;
    }
    if (i === n) {
      buffer[length] = n;
      length = start + n;
      return;
    }
  }
  const bytes = encodeUtf8(text);
  let size = bytes.length;
  while (size >= 0x80) {
    buffer[length++] = (size & 0x7f) | 0x80;
    size >>>= 7;
  }
  buffer[length++] = size;
  buffer.set(bytes, length);
  length += bytes.length;
}
