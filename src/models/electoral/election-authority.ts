import { type CRDTEntity, type DomainModel, ValidationError, ownerOf } from '../../domain/index.js';
import { standingAt } from './as-of-close.js';
import { ElectionRoles, type ElectionStatus } from './electoral-schema.js';
import { type VotingHistory, votingHistoryOf } from './voting-history.js';

/*
 * Who acts for an election, read from merged state alone. Every entity is written only by the
 * device in its oid (checked on arrival, from the change alone); whether a co-organiser's entity
 * counts depends on a grant, which is state, so it is decided here, on reading, never on arrival:
 * a co-organiser's approval that arrives before its grant is kept, and counts from the moment the
 * grant is there, on every replica alike.
 */

/** The roles a model enforces: its `roles` if it has them (an `ElectoralSystemModel`), else open. */
export function rolesOf(model: DomainModel): ElectionRoles {
  return (model as { roles?: ElectionRoles }).roles === ElectionRoles.enforced ? ElectionRoles.enforced : ElectionRoles.open;
}

/**
 * The live election with this oid, or a deleted one whose deletion its last closing had not seen
 * (a closed result stays, see `as-of-close.ts`); throws `ValidationError` if there is none.
 */
export function liveElection(model: DomainModel, electionId: string): CRDTEntity {
  const election = model.get(electionId, { includeDeleted: true });
  if (election?.concept !== 'Election' || (election.isDeleted && !keptByClose(model, election)))
    throw new ValidationError('Election', undefined, 'exists', `no live election ${JSON.stringify(electionId)}`);
  return election;
}

/** True if the election is deleted but its last round's closing had not seen the deletion. */
export function keptByClose(model: DomainModel, election: CRDTEntity): boolean {
  const close = votingHistoryOf(model, election, rolesOf(model)).rounds.at(-1)?.closeContext;
  return close !== null && close !== undefined && !standingAt(election, close).deleted;
}

/**
 * The election's effective co-organisers' device ids, sorted: the `device` of every live
 * `CoOrganiser` grant for it made by the organiser's device (a grant anyone else makes is inert).
 * None with open roles, where everyone organises.
 */
export function coOrganisersOf(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): string[] {
  const organiser = ownerOf(electionId);
  if (roles !== ElectionRoles.enforced || organiser === undefined) return [];
  const devices = new Set<string>();
  for (const grant of model.findBy('CoOrganiser', 'election', electionId)) {
    const device = grant.getAttribute('device');
    if (ownerOf(grant.oid) === organiser && typeof device === 'string' && device !== organiser) devices.add(device);
  }
  return [...devices].sort();
}

/** Live entities of `concept` for the election made by one of `devices` (oid order, so every replica lists them alike). */
export function madeBy(model: DomainModel, concept: string, electionId: string, devices: ReadonlySet<string>): CRDTEntity[] {
  if (!devices.size) return [];
  return [...model.findBy(concept, 'election', electionId).filter((entity) => devices.has(ownerOf(entity.oid) ?? ''))].sort((a, b) =>
    a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0,
  );
}

/**
 * The voters approved for the election: the voters of live `Approval`s made by the organiser or an
 * effective co-organiser, and those of the organiser's older `approvedVoters` relation.
 */
export function approvedVotersOf(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): Set<string> {
  return approvedBy(model, liveElection(model, electionId), new Set(coOrganisersOf(model, electionId, roles)));
}

function approvedBy(model: DomainModel, election: CRDTEntity, coOrganisers: ReadonlySet<string>): Set<string> {
  // `approvedVoters` holds the organiser's approvals made before they became `Approval`s (which keep their deletion).
  const approved = new Set(election.childOids('approvedVoters'));
  const organiser = ownerOf(election.oid);
  const approvers = organiser === undefined ? coOrganisers : new Set([...coOrganisers, organiser]);
  for (const approval of madeBy(model, 'Approval', election.oid, approvers)) {
    const voter = approval.getAttribute('voter');
    if (typeof voter === 'string') approved.add(voter);
  }
  return approved;
}

/**
 * Candidates standing in the election: live, referencing it, and either in its `candidates` (with
 * roles enforced: made by the organiser's device) or, with roles enforced, made by an effective
 * co-organiser. The organiser's come first in relation order, then the co-organisers' by oid.
 */
export function standingCandidatesOf(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): Map<string, CRDTEntity> {
  return standingBy(model, liveElection(model, electionId), roles, new Set(coOrganisersOf(model, electionId, roles)));
}

function standingBy(model: DomainModel, election: CRDTEntity, roles: ElectionRoles, coOrganisers: ReadonlySet<string>): Map<string, CRDTEntity> {
  const electionId = election.oid;
  const organiser = ownerOf(electionId);
  const enforced = roles === ElectionRoles.enforced;
  const standing = new Map<string, CRDTEntity>();
  for (const id of election.childOids('candidates')) {
    const candidate = model.get(id);
    if (candidate?.concept !== 'Candidate' || candidate.getAttribute('election') !== electionId) continue;
    if (enforced && (organiser === undefined || ownerOf(id) !== organiser)) continue;
    standing.set(id, candidate);
  }
  for (const candidate of madeBy(model, 'Candidate', electionId, coOrganisers)) standing.set(candidate.oid, candidate);
  return standing;
}

/** When voting opened and closed, and the status that follows. */
export interface VotingStamps {
  readonly status: ElectionStatus;
  /** When the first round opened, as its opening claims (shown, not decisive: see `voting-history.ts`). */
  readonly openedAt: string | null;
  /** When the last round closed, as its closing claims (null while open). */
  readonly closedAt: string | null;
}

/**
 * The election's status and stamps, from its voting history: draft until a voting event of the
 * organiser or a co-organiser opens it, then open or closed as the last round is (see
 * `votingHistoryOf`: revoking a co-organiser does not undo what it opened or closed).
 */
export function votingStampsOf(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): VotingStamps {
  const { status, openedAt, closedAt } = votingHistoryOf(model, liveElection(model, electionId), roles);
  return { status, openedAt, closedAt };
}

/** Everything that decides an election's ballots, with its co-organisers looked up once. */
export interface ElectionAuthority extends VotingStamps {
  readonly election: CRDTEntity;
  readonly history: VotingHistory;
  readonly coOrganisers: ReadonlySet<string>;
  readonly standing: Map<string, CRDTEntity>;
  readonly approved: Set<string>;
}

/** `votingStampsOf`, `standingCandidatesOf` and `approvedVotersOf` of a live election at once. */
export function electionAuthority(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): ElectionAuthority {
  const election = liveElection(model, electionId);
  const coOrganisers = new Set(coOrganisersOf(model, electionId, roles));
  const history = votingHistoryOf(model, election, roles);
  return {
    election,
    coOrganisers,
    history,
    status: history.status,
    openedAt: history.openedAt,
    closedAt: history.closedAt,
    standing: standingBy(model, election, roles, coOrganisers),
    approved: approvedBy(model, election, coOrganisers),
  };
}
