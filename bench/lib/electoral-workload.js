// The electoral workload both sides build: 10 open elections with 4 candidates each, voters
// registered for one election each (6 attributes), and one ballot from each voter but 50, for `n`
// entities in all (n = 1,000 gives 500 voters and 450 ballots). Ours is an `ElectoralSystemModel`
// built through its operations; Yjs is one `Y.Doc` whose top-level map holds one `Y.Map` per entity
// (its concept under `type`, its attributes, and a nested `Y.Map` of child oids per relation), each
// operation in its own transaction as an app would make it. Every string is built afresh on both
// sides, so neither shares memory with the other or with the caller. The Automerge side is in
// automerge-workload.js (Node only: browser pages import this file).
import { nanoid } from 'nanoid';
import * as Y from 'yjs';

/** @typedef {import('./load-core.js').Core} Core */
/** @typedef {ReturnType<Core['ElectoralSystemModel']['prototype']['registerVoter']>} Entity */

/**
 * How many of each entity the workload of `n` entities holds.
 * @param {number} n
 */
function shape(n) {
  if (n < 100 || n % 2) throw new Error('the workload needs an even number of at least 100 entities');
  return { elections: 10, candidatesPerElection: 4, voters: (n - 50 + 50) / 2, unvoted: 50 };
}

/**
 * Builds our model of `n` entities.
 * @param {Pick<Core, 'ElectoralSystemModel'>} core
 * @param {number} n
 * @param {string} nodeId
 */
export function buildOurs(core, n, nodeId) {
  const { elections: e, candidatesPerElection, voters: voterCount, unvoted } = shape(n);
  const model = new core.ElectoralSystemModel({ modelId: 'bench', nodeId, roles: 'open' });
  const elections = [];
  for (let i = 0; i < e; i++) {
    const election = model.createElection({
      title: `Election ${i}`,
      description: 'Annual election of the board of the cooperative.',
      opensAt: '2024-05-01T08:00:00.000Z',
      closesAt: '2024-05-01T20:00:00.000Z',
    });
    const candidates = Array.from({ length: candidatesPerElection }, (_, c) =>
      model.addCandidate(election.oid, { name: `Candidate ${i}.${c}`, party: `Party ${c}`, statement: 'For a fair budget.' }),
    );
    elections.push({ election, candidates });
  }
  for (const { election } of elections) model.openElection(election.oid);
  /** @type {Entity[]} */
  const voters = [];
  for (let v = 0; v < voterCount; v++) {
    const { election, candidates } = elections[v % e];
    const voter = model.registerVoter({
      name: `Voter ${v}`,
      voterNumber: `V-${v}`,
      email: `voter${v}@example.org`,
      district: `District ${v % 50}`,
      address: `${v} Main Street, Springfield`,
      birthDate: '1980-01-01',
    });
    model.registerForElection(voter.oid, election.oid);
    // A room session's model enforces election roles: its organiser approves the voter first.
    if (model.roles === 'enforced') model.approveVoter(election.oid, voter.oid);
    if (v >= unvoted) model.castBallot({ voterId: voter.oid, electionId: election.oid, candidateId: candidates[v % candidatesPerElection].oid, channel: 'in-person' });
    voters.push(voter);
  }
  return { model, voters };
}

/**
 * The operations of the workload for a document of maps (the Yjs and Automerge sides): each entity
 * a map with its concept under `type`, its attributes, and a map of child oids per relation.
 * @typedef {object} MapOperations
 * @property {(type: string, attributes: Record<string, string>, relations?: string[]) => string} create a new entity; returns its oid
 * @property {(parent: string, relation: string, child: string) => void} addChild
 * @property {(oid: string, values: Record<string, string>) => void} set attributes of one entity, in one operation
 */

/**
 * Runs the workload of `n` entities as map operations, in the order an app would make them;
 * returns the voters' oids.
 * @param {number} n
 * @param {MapOperations} operations
 */
export function buildMaps(n, { create, addChild, set }) {
  const { elections: e, candidatesPerElection, voters: voterCount, unvoted } = shape(n);
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
  for (const { election } of elections) set(election, { status: 'open', openedAt: new Date().toISOString() });
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
  return voters;
}

/**
 * Builds the same `n` entities as a Yjs document, each operation in its own transaction.
 * @param {number} n
 */
export function buildYjs(n) {
  const doc = new Y.Doc();
  /** @type {Y.Map<Y.Map<any>>} */
  const entities = doc.getMap('entities');
  const voters = buildMaps(n, {
    create(type, attributes, relations = []) {
      const oid = nanoid();
      const entity = new Y.Map();
      doc.transact(() => {
        entities.set(oid, entity);
        entity.set('type', type);
        for (const [name, value] of Object.entries(attributes)) entity.set(name, value);
        for (const relation of relations) entity.set(relation, new Y.Map());
      });
      return oid;
    },
    addChild: (parent, relation, child) => doc.transact(() => entities.get(parent)?.get(relation).set(child, true)),
    set: (oid, values) =>
      doc.transact(() => {
        for (const [name, value] of Object.entries(values)) entities.get(oid)?.set(name, value);
      }),
  });
  return { doc, voters: voters.map((oid) => /** @type {Y.Map<any>} */ (entities.get(oid))) };
}
