// The electoral workload (electoral-workload.js) as an Automerge document, for the side-by-side
// bench in Node. It holds the same shape as the Yjs side (a top-level `entities` map of maps, child
// oids as map keys), built in changes of `AUTOMERGE_BATCH` operations: one change per operation
// takes minutes at 10,000 entities.
import * as A from '@automerge/automerge';
import { nanoid } from 'nanoid';
import { buildMaps } from './electoral-workload.js';

/** Operations per Automerge change while building (as the Automerge docs advise for bulk loads). */
export const AUTOMERGE_BATCH = 1_000;

/**
 * Builds the same `n` entities as an Automerge document, `AUTOMERGE_BATCH` operations per change.
 * Returns the document and the voters' oids (Automerge documents are immutable values: a write is
 * `A.change(doc, (d) => { d.entities[oid].district = ... })`).
 * @param {number} n
 * @param {string} [actor] hex actor id
 */
export function buildAutomerge(n, actor) {
  /** @typedef {{ entities: Record<string, Record<string, unknown>> }} Doc */
  /** @type {A.Doc<Doc>} */
  let doc = A.from(/** @type {Doc} */ ({ entities: {} }), actor ? { actor } : undefined);
  /** @type {Array<(d: Doc) => void>} */
  let pending = [];
  const flush = () => {
    if (!pending.length) return;
    const operations = pending;
    pending = [];
    doc = A.change(doc, (d) => {
      for (const operation of operations) operation(d);
    });
  };
  /** @param {(d: Doc) => void} operation */
  const apply = (operation) => {
    pending.push(operation);
    if (pending.length >= AUTOMERGE_BATCH) flush();
  };
  const voters = buildMaps(n, {
    create(type, attributes, relations = []) {
      const oid = nanoid();
      const entity = /** @type {Record<string, unknown>} */ ({ type, ...attributes });
      for (const relation of relations) entity[relation] = {};
      apply((d) => {
        d.entities[oid] = entity;
      });
      return oid;
    },
    addChild: (parent, relation, child) =>
      apply((d) => {
        /** @type {Record<string, boolean>} */ (d.entities[parent][relation])[child] = true;
      }),
    set: (oid, values) =>
      apply((d) => {
        Object.assign(d.entities[oid], values);
      }),
  });
  flush();
  return { doc, voters };
}
