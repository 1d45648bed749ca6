import type { Dot } from '../crdt/dot.js';
import type { ModelChange } from '../domain/model-change.js';
import { sha256 } from './sha256.js';

/**
 * Bytes of an item hash: SHA-256 cut to 128 bits. What a hash must resist here is a second
 * preimage (someone else's item with the same hash as a signed one), which costs 2^128 at this
 * length. Collisions (2^64) would only let an author make two items it signs once, and an author
 * can already sign two certificates for one operation; both are the same equivocation, detected
 * the same way (see `CertificateStore.conflict`). Half the bytes of every certificate.
 */
export const ITEM_HASH_BYTES = 16;

const encoder = new TextEncoder();
const PREFIX = 'ednet-p2p/item/v1\u0000';

/**
 * Gets each dot-bearing item of a change: an attribute write (`w`), a child add (`a`) or a removal
 * mark (`r`), in a canonical form holding everything that decides its effect (the value and
 * timestamp too, so no relay can move a write ahead in last-writer-wins). JSON of an array of
 * primitives is deterministic and unambiguous.
 */
export type ItemVisitor = (dot: Dot, canonical: string) => void;

/** Calls `visit` for the dot of every item of `change` (cheaper than `forEachItem`). */
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

/** Calls `visit` for every item of `change`, with its canonical form. */
export function forEachItem(change: ModelChange, visit: ItemVisitor): void {
  const { entityType, oid } = change;
  switch (change.kind) {
    case 'attribute':
      for (const { value, ts, dot } of change.writes)
        visit(dot, JSON.stringify(['w', entityType, oid, change.attribute, value, ts.ms, ts.c, dot.node, dot.seq]));
      return;
    case 'child-add':
      visit(change.dot, addItem(entityType, oid, change.relation, change.child, change.dot));
      return;
    case 'children':
      for (const [child, dots] of change.items) for (const dot of dots) visit(dot, addItem(entityType, oid, change.relation, child, dot));
      for (const dot of change.removals ?? []) visit(dot, JSON.stringify(['r', entityType, oid, change.relation, dot.node, dot.seq]));
      return;
  }
}

/**
 * `change` with only the items `keep` accepts: the change itself if it keeps all, undefined if
 * none. A register keeps its kept writes; a relation its kept adds and removal marks.
 */
export function keepItems(change: ModelChange, keep: (dot: Dot, canonical: string) => boolean): ModelChange | undefined {
  const { entityType, oid } = change;
  switch (change.kind) {
    case 'attribute': {
      const writes = change.writes.filter(({ value, ts, dot }) =>
        keep(dot, JSON.stringify(['w', entityType, oid, change.attribute, value, ts.ms, ts.c, dot.node, dot.seq])),
      );
      if (writes.length === change.writes.length) return change;
      return writes.length ? { ...change, writes } : undefined;
    }
    case 'child-add':
      return keep(change.dot, addItem(entityType, oid, change.relation, change.child, change.dot)) ? change : undefined;
    case 'children': {
      let all = true;
      const items = change.items
        .map(([child, dots]) => {
          const kept = dots.filter((dot) => keep(dot, addItem(entityType, oid, change.relation, child, dot)));
          if (kept.length !== dots.length) all = false;
          return [child, kept] as const;
        })
        .filter(([, dots]) => dots.length > 0);
      const removals = change.removals ?? [];
      const marks = removals.filter((dot) => keep(dot, JSON.stringify(['r', entityType, oid, change.relation, dot.node, dot.seq])));
      if (all && marks.length === removals.length) return change;
      if (!items.length && !marks.length) return undefined;
      const { removals: _all, ...relation } = change;
      return { ...relation, items, ...(marks.length ? { removals: marks } : {}) };
    }
  }
}

/** The hash a certificate lists for an item (see `ITEM_HASH_BYTES`). */
export function itemHash(canonical: string): Uint8Array {
  return sha256(encoder.encode(PREFIX + canonical)).subarray(0, ITEM_HASH_BYTES);
}

function addItem(entityType: string, oid: string, relation: string, child: string, dot: Dot): string {
  return JSON.stringify(['a', entityType, oid, relation, child, dot.node, dot.seq]);
}
