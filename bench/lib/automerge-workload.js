// The electoral workload (electoral-workload.js) as an Automerge document, for the side-by-side
// bench in Node. It holds the same shape as the Yjs side (a top-level `entities` map of maps, child
// oids as map keys), built in changes of `AUTOMERGE_BATCH` operations: one change per operation
// takes minutes at 10,000 entities.
import * as A from '@automerge/automerge';
import { nanoid } from 'nanoid';
import { shape } from './electoral-workload.js';

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
  const { elections: e, candidatesPerElection, voters: voterCount, unvoted } = shape(n);
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
  /**
   * @param {string} type
   * @param {Record<string, string>} attributes
   * @param {string[]} relations
   */
  const create = (type, attributes, relations = []) => {
    const oid = nanoid();
    const entity = /** @type {Record<string, unknown>} */ ({ type, ...attributes });
    for (const relation of relations) entity[relation] = {};
    apply((d) => {
      d.entities[oid] = entity;
    });
    return oid;
  };
  /** @param {string} parent @param {string} relation @param {string} child */
  const addChild = (parent, relation, child) =>
    apply((d) => {
      /** @type {Record<string, boolean>} */ (d.entities[parent][relation])[child] = true;
    });
  const elections = [];
  for (let i = 0; i < e; i++) {
    const election = create(
      'Election',
      { title: `Election ${i}`, description: 'Annual election of the board of the cooperative.', opensAt: '2024-05-01T08:00:00.000Z', closesAt: '2024-05-01T20:00:00.000Z', status: 'draft' },
      ['candidates'],
    );
    const candidates = Array.from({ length: candidatesPerElection }, (_, c) => {
      const candidate = create('Candidate', { name: `Candidate ${i}.${c}`, party: `Party ${c}`, statement: 'For a fair budget.', election });
      addChild(election, 'candidates', candidate);
      return candidate;
    });
    elections.push({ election, candidates });
  }
  for (const { election } of elections)
    apply((d) => {
      d.entities[election].status = 'open';
      d.entities[election].openedAt = new Date().toISOString();
    });
  /** @type {string[]} */
  const voters = [];
  for (let v = 0; v < voterCount; v++) {
    const { election, candidates } = elections[v % e];
    const voter = create(
      'Voter',
      { name: `Voter ${v}`, voterNumber: `V-${v}`, email: `voter${v}@example.org`, district: `District ${v % 50}`, address: `${v} Main Street, Springfield`, birthDate: '1980-01-01' },
      ['elections'],
    );
    addChild(voter, 'elections', election);
    if (v >= unvoted) create('Ballot', { voter, election, candidate: candidates[v % candidatesPerElection], castAt: new Date().toISOString(), channel: 'in-person' });
    voters.push(voter);
  }
  flush();
  return { doc, voters };
}
