import { type DomainModel, deviceOf, ownerOf } from '../../domain/index.js';
import { memberNames } from '../../models/electoral/index.js';

/** A connected peer as views name devices: its node id and the name it gave, if any. */
export interface NamedPeer {
  readonly peerId: string;
  readonly displayName: string | null;
}

/**
 * The person behind a device, in words: the name a connected peer of it gave, else the name it
 * keeps in the room (its `Member`), else the name of a voter that device registered, else the
 * start of its id. Peers' words: render as text only.
 */
export function deviceInWords(model: DomainModel, device: string | undefined, peers: readonly NamedPeer[] = []): string {
  if (device === undefined) return 'nobody';
  if (device === deviceOf(model.nodeId)) return 'this device';
  const named = peers.find((peer) => deviceOf(peer.peerId) === device && peer.displayName)?.displayName ?? memberNames(model).get(device);
  if (named) return `“${named}”`;
  const voter = model.schema.concepts.has('Voter') ? model.entities('Voter').find((v) => ownerOf(v.oid) === device) : undefined;
  const name = voter?.getAttribute('name');
  return typeof name === 'string' && name ? `“${name}”` : `device ${device.slice(0, 8)}…`;
}

const ROLE: Readonly<Record<string, string>> = {
  Election: 'the organiser',
  Candidate: 'the organiser who added it',
  Voter: 'the voter',
  Ballot: 'the voter who cast it',
  CoOrganiser: 'the organiser',
  Approval: 'the organiser who approved',
  VotingEvent: 'the organiser who did it',
};

/**
 * Why this device cannot change an entity, in words ("Only the organiser, “Alice”, can change the
 * election “Board”."), or undefined if it can. The model's rule decides; this only says it.
 */
export function whyReadOnly(model: DomainModel, concept: string, oid: string, peers: readonly NamedPeer[] = []): string | undefined {
  const problem = model.localWriteProblem(concept, oid);
  if (problem === undefined) return undefined;
  // A lock (an election that opened or closed) is in words already, and is nobody's to lift.
  if (problem === lockOf(model, concept, oid)) return problem;
  const owner = ownerOf(oid);
  if (owner === undefined) return 'Nobody can change this: it was made before devices owned what they make.';
  const entity = model.get(oid, { includeDeleted: true });
  const label = entity?.getAttribute(concept === 'Election' ? 'title' : concept === 'Ballot' || concept === 'VotingEvent' ? 'election' : 'name');
  const what =
    concept === 'Ballot'
      ? 'this ballot'
      : typeof label === 'string' && label && concept !== 'VotingEvent'
        ? `the ${concept === 'Election' ? 'election' : concept.toLowerCase()} “${label}”`
        : `this ${concept === 'VotingEvent' ? 'opening or closing' : concept.toLowerCase()}`;
  return `Only ${ROLE[concept] ?? 'its owner'}, ${deviceInWords(model, owner, peers)}, can change ${what}.`;
}

/**
 * Why this device is not offered to create a `concept` in a generic editor, in words, or
 * undefined (a model's `createProblem`, see `ElectoralSystemModel.createProblem`; others allow all).
 */
export function whyNotCreatable(model: DomainModel, concept: string): string | undefined {
  const createProblem = (model as { createProblem?: (concept: string) => string | undefined }).createProblem;
  return typeof createProblem === 'function' ? createProblem.call(model, concept) : undefined;
}

/**
 * Why this device may not delete the entity although it may edit it (a model's `lockProblem` with
 * `deleting`: an election that opened stays), in words, or undefined.
 */
export function whyNotDeletable(model: DomainModel, concept: string, oid: string): string | undefined {
  return lockOf(model, concept, oid, true);
}

// Models with election rules lock some writes by state (see `ElectoralSystemModel.lockProblem`); others lock nothing.
function lockOf(model: DomainModel, concept: string, oid: string, deleting = false): string | undefined {
  const lockProblem = (model as { lockProblem?: (concept: string, oid: string, deleting?: boolean) => string | undefined }).lockProblem;
  return typeof lockProblem === 'function' ? lockProblem.call(model, concept, oid, deleting) : undefined;
}
