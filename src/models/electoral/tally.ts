import { type CRDTEntity, type DomainModel, ownerOf } from '../../domain/index.js';
import { electionAuthority, rolesOf } from './election-authority.js';
import { ElectionRoles, type ElectionStatus } from './electoral-schema.js';

/** What became of a ballot in a tally. */
export const BallotStatus = { counted: 'counted', superseded: 'superseded', invalid: 'invalid' } as const;
export type BallotStatus = (typeof BallotStatus)[keyof typeof BallotStatus];

/** Why a ballot does not count. */
export const BallotReason = {
  incomplete: 'incomplete',
  voterUnknown: 'voter-unknown',
  notVotersDevice: 'not-voters-device',
  notRegistered: 'not-registered',
  notApproved: 'not-approved',
  candidateNotStanding: 'candidate-not-standing',
  neverOpened: 'never-opened',
  beforeOpening: 'before-opening',
  afterClosing: 'after-closing',
  superseded: 'superseded',
} as const;
export type BallotReason = (typeof BallotReason)[keyof typeof BallotReason];

/** One ballot's fate. */
export interface BallotVerdict {
  readonly ballotId: string;
  readonly voterId: string;
  readonly candidateId: string;
  readonly castAt: string;
  readonly status: BallotStatus;
  readonly reason?: BallotReason;
  /** Human-readable reason. */
  readonly detail?: string;
}

/** Votes of one candidate. */
export interface CandidateResult {
  readonly candidateId: string;
  readonly name: string;
  readonly party: string | null;
  readonly votes: number;
}

/** The result of an election, identical on every replica holding the same changes. */
export interface Tally {
  readonly electionId: string;
  /** The election's status, co-organisers' openings and closings included (`statusOf`). */
  readonly status: ElectionStatus;
  /** When voting opened (the earliest opening, if devices opened it concurrently). */
  readonly openedAt: string | null;
  /** When voting closed (the earliest closing). */
  readonly closedAt: string | null;
  /** Every standing candidate, most votes first (then by name and id). */
  readonly results: readonly CandidateResult[];
  readonly counted: number;
  readonly superseded: number;
  readonly invalid: number;
  /** Every ballot for the election, in cast order. */
  readonly ballots: readonly BallotVerdict[];
}

/**
 * Tallies an election from the model's merged state alone, so replicas with the same changes agree.
 * A ballot counts if its voter exists and is registered for the election, its candidate stands in
 * it (references the election and is in its `candidates`), and it was cast while the election was
 * open: `openedAt ≤ castAt ≤ closedAt` (ms; the earliest value where devices opened or closed it
 * concurrently; co-organisers' openings and closings included). With roles enforced, also: the
 * ballot was cast by the voter's own device (the device in both oids), the organiser or an
 * effective co-organiser approved the voter, and candidates stand only if the organiser's device
 * or an effective co-organiser's made them. Of one voter's valid ballots, the earliest by `(castAt, ballot id)`
 * counts and the others are superseded; invalid ones are listed with the reason.
 */
export function tallyElection(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): Tally {
  const window = votingWindow(model, electionId, roles);
  const votes = new Map<string, number>([...window.standing.keys()].map((id) => [id, 0]));
  const countedFor = new Map<string, string>();
  // Cast order must not depend on how a replica happened to store the ballots.
  const ballots = model
    .findBy('Ballot', 'election', electionId)
    .map((ballot) => ({ ballot, cast: castMs(ballot) }))
    .sort((a, b) => (a.cast !== b.cast ? (a.cast < b.cast ? -1 : 1) : a.ballot.oid < b.ballot.oid ? -1 : 1));
  const verdicts: BallotVerdict[] = [];
  for (const { ballot } of ballots) {
    const base = {
      ballotId: ballot.oid,
      voterId: String(ballot.getAttribute('voter') ?? ''),
      candidateId: String(ballot.getAttribute('candidate') ?? ''),
      castAt: String(ballot.getAttribute('castAt') ?? ''),
    };
    const flaw = ballotFlaw(model, window, ballot);
    if (flaw) verdicts.push({ ...base, status: BallotStatus.invalid, ...flaw });
    else if (countedFor.has(base.voterId))
      verdicts.push({
        ...base,
        status: BallotStatus.superseded,
        reason: BallotReason.superseded,
        detail: `voter ${base.voterId} already voted with ballot ${countedFor.get(base.voterId)}`,
      });
    else {
      countedFor.set(base.voterId, ballot.oid);
      votes.set(base.candidateId, votes.get(base.candidateId)! + 1);
      verdicts.push({ ...base, status: BallotStatus.counted });
    }
  }
  const results = [...window.standing].map(([candidateId, candidate]) => ({
    candidateId,
    name: String(candidate.getAttribute('name') ?? ''),
    party: (candidate.getAttribute('party') as string | null | undefined) ?? null,
    votes: votes.get(candidateId)!,
  }));
  // Plain code-unit order, not locale order: every replica must sort alike.
  results.sort((a, b) => b.votes - a.votes || (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.candidateId < b.candidateId ? -1 : 1));
  const count = (status: BallotStatus) => verdicts.filter((v) => v.status === status).length;
  return {
    electionId,
    status: window.status,
    openedAt: window.openedAt,
    closedAt: window.closedAt,
    results,
    counted: count(BallotStatus.counted),
    superseded: count(BallotStatus.superseded),
    invalid: count(BallotStatus.invalid),
    ballots: verdicts,
  };
}

/** What decides whether a ballot of one election is valid. */
export interface VotingWindow {
  readonly election: CRDTEntity;
  readonly status: ElectionStatus;
  readonly openedAt: string | null;
  readonly closedAt: string | null;
  /** Candidates standing (see `standingCandidatesOf`). */
  readonly standing: ReadonlyMap<string, CRDTEntity>;
  readonly roles: ElectionRoles;
  /** Voters the organiser or an effective co-organiser approved; checked only with roles enforced. */
  readonly approved: ReadonlySet<string>;
}

/** The voting window and standing candidates of a live election; throws `ValidationError` if there is none. */
export function votingWindow(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): VotingWindow {
  const { election, status, openedAt, closedAt, standing, approved } = electionAuthority(model, electionId, roles);
  return { election, status, openedAt, closedAt, standing, roles, approved };
}

/** Why a ballot cannot count in its election, whatever the voter's other ballots; undefined if it can. */
export function ballotFlaw(model: DomainModel, window: VotingWindow, ballot: CRDTEntity): { reason: BallotReason; detail: string } | undefined {
  const voterId = ballot.getAttribute('voter');
  const candidateId = ballot.getAttribute('candidate');
  const castAt = ballot.getAttribute('castAt');
  if (typeof voterId !== 'string' || typeof candidateId !== 'string' || typeof castAt !== 'string')
    return { reason: BallotReason.incomplete, detail: 'the ballot lacks its voter, candidate or cast time' };
  const voter = model.get(voterId);
  if (voter?.concept !== 'Voter') return { reason: BallotReason.voterUnknown, detail: `voter ${voterId} does not exist or was deleted` };
  const enforced = window.roles === ElectionRoles.enforced;
  const caster = ownerOf(ballot.oid);
  const votersDevice = ownerOf(voterId);
  if (enforced && (caster === undefined || caster !== votersDevice))
    return {
      reason: BallotReason.notVotersDevice,
      detail: `cast by device ${caster ?? 'unknown'}, not by the voter's own device ${votersDevice ?? '(none: the voter has no device)'}`,
    };
  if (!voter.childOids('elections').includes(window.election.oid))
    return { reason: BallotReason.notRegistered, detail: `voter ${voterId} is not registered for this election` };
  if (enforced && !window.approved.has(voterId))
    return { reason: BallotReason.notApproved, detail: `the organiser has not approved voter ${voterId} for this election` };
  if (!window.standing.has(candidateId))
    return { reason: BallotReason.candidateNotStanding, detail: `candidate ${candidateId} does not stand in this election` };
  if (window.openedAt === null) return { reason: BallotReason.neverOpened, detail: 'the election was never opened' };
  if (Date.parse(castAt) < Date.parse(window.openedAt))
    return { reason: BallotReason.beforeOpening, detail: `cast at ${castAt}, before the election opened at ${window.openedAt}` };
  if (window.closedAt !== null && Date.parse(castAt) > Date.parse(window.closedAt))
    return { reason: BallotReason.afterClosing, detail: `cast at ${castAt}, after the election closed at ${window.closedAt}` };
  return undefined;
}

function castMs(ballot: CRDTEntity): number {
  const castAt = ballot.getAttribute('castAt');
  return typeof castAt === 'string' ? Date.parse(castAt) : Infinity;
}
