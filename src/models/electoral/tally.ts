import { type CRDTEntity, type DomainModel, ownerOf } from '../../domain/index.js';
import type { OpenedChoice } from './ballot-sealing.js';
import { type ClosedRoundAuthority, childrenAt, closedRoundAuthority, lostAfter, standingAt } from './as-of-close.js';
import { electionAuthority, rolesOf } from './election-authority.js';
import { ElectionRoles, type ElectionStatus } from './electoral-schema.js';
import { type VotingHistory, type VotingRound, contextOf, creationDots } from './voting-history.js';

/** What became of a ballot in a tally. */
export const BallotStatus = { counted: 'counted', superseded: 'superseded', invalid: 'invalid', sealed: 'sealed' } as const;
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
  /** A sealed ballot the published key does not open, or a sealed round's key that is not the round's. */
  unreadable: 'unreadable',
  /** A plain ballot in a sealed round, or a sealed one in a plain round. */
  wrongForm: 'wrong-form',
} as const;
export type BallotReason = (typeof BallotReason)[keyof typeof BallotReason];

/** One ballot's fate. */
export interface BallotVerdict {
  readonly ballotId: string;
  readonly voterId: string;
  /** The chosen candidate: empty for a sealed ballot until its round's key is published. */
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
  /** Ballots valid so far whose choice is sealed: while voting is open, or until the key is published. */
  readonly sealed: number;
  /** Every ballot for the election, by round, then in claimed cast order. */
  readonly ballots: readonly BallotVerdict[];
  /** The voting history: rounds, and every opening and closing with its effect. */
  readonly history: VotingHistory;
  /** Published keys that do not open their round's ballots, in words (see `unsealElection`). */
  readonly keyProblems: readonly string[];
  /** Changes made after a round closed that the tally set aside, in words (see `as-of-close.ts`). */
  readonly setAside: readonly string[];
}

/** What `unsealElection` read from the published keys: each sealed ballot's choice or why it did not open. */
export interface UnsealedChoices {
  readonly choices: ReadonlyMap<string, OpenedChoice>;
  readonly problems: readonly string[];
}

/**
 * Tallies an election from the model's merged state alone, so replicas with the same changes agree.
 * A ballot counts if its voter exists (the organiser approved it, with roles enforced; else it
 * registered), its device is the voter's, its candidate stands, and it lies inside a round of
 * voting: it names one of the round's openings, which had not seen it, and the round's closing
 * had seen it (its dots are in the closing's causal context). The time a ballot claims (`castAt`)
 * decides nothing: a ballot made after the close, whatever it claims, is outside the closing's
 * context. A closed round is decided as its closing had seen it: approvals, candidates and
 * deletions it had not seen change nothing (`as-of-close.ts`); a cast ballot stays, even deleted. A sealed ballot counts once
 * its round closed and the published key opened it (`unsealed`). Of one voter's valid ballots
 * the first (by round, then `castAt` and oid: the voter's own choice among its ballots) counts
 * and the others are superseded; invalid ones are listed with the reason.
 */
export function tallyElection(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model), unsealed?: UnsealedChoices): Tally {
  const window = votingWindow(model, electionId, roles);
  // A closed election lists its candidates as its last closing had seen them.
  const standing = window.status === 'closed' ? (window.closedRounds.at(-1)?.standing ?? window.standing) : window.standing;
  const votes = new Map<string, number>([...standing.keys()].map((id) => [id, 0]));
  const countedFor = new Map<string, string>();
  const ballots = ballotsOf(model, window)
    .map((ballot) => ({ ballot, round: roundIndex(window.history, ballot), cast: castMs(ballot) }))
    // Order must not depend on how a replica happened to store the ballots.
    .sort((a, b) => a.round - b.round || (a.cast !== b.cast ? (a.cast < b.cast ? -1 : 1) : a.ballot.oid < b.ballot.oid ? -1 : 1));
  const verdicts: BallotVerdict[] = [];
  for (const { ballot } of ballots) {
    const opened = unsealed?.choices.get(ballot.oid);
    const plain = ballot.getAttribute('candidate');
    const base = {
      ballotId: ballot.oid,
      voterId: String(ballot.getAttribute('voter') ?? ''),
      candidateId: typeof plain === 'string' ? plain : opened && 'candidate' in opened ? opened.candidate : '',
      castAt: String(ballot.getAttribute('castAt') ?? ''),
    };
    const flaw = ballotFlaw(model, window, ballot, opened);
    if (flaw === SEALED) verdicts.push({ ...base, status: countedFor.has(base.voterId) ? BallotStatus.superseded : BallotStatus.sealed });
    else if (flaw) verdicts.push({ ...base, status: BallotStatus.invalid, ...flaw });
    else if (countedFor.has(base.voterId))
      verdicts.push({
        ...base,
        status: BallotStatus.superseded,
        reason: BallotReason.superseded,
        detail: `voter ${base.voterId} already voted with ballot ${countedFor.get(base.voterId)}`,
      });
    else {
      countedFor.set(base.voterId, ballot.oid);
      votes.set(base.candidateId, (votes.get(base.candidateId) ?? 0) + 1);
      verdicts.push({ ...base, status: BallotStatus.counted });
    }
    // A sealed ballot holds its voter's place: a later ballot of the voter cannot count before it opens.
    if (flaw === SEALED && !countedFor.has(base.voterId)) countedFor.set(base.voterId, ballot.oid);
  }
  // A candidate counted in an earlier round may stand no more: its votes are listed all the same.
  const results = [...votes].map(([candidateId, count]) => {
    const candidate = standing.get(candidateId) ?? model.get(candidateId, { includeDeleted: true });
    return {
      candidateId,
      name: String(candidate?.getAttribute('name') ?? ''),
      party: (candidate?.getAttribute('party') as string | null | undefined) ?? null,
      votes: count,
    };
  });
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
    sealed: count(BallotStatus.sealed),
    ballots: verdicts,
    history: window.history,
    keyProblems: unsealed?.problems ?? [],
    setAside: [...new Set(window.closedRounds.flatMap((round) => round?.setAside ?? []))],
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
  readonly history: VotingHistory;
  /** Per round: who could vote and for whom as its closing had seen it; null while it is open. */
  readonly closedRounds: ReadonlyArray<ClosedRoundAuthority | null>;
}

/** The voting window and standing candidates of a live election; throws `ValidationError` if there is none. */
export function votingWindow(model: DomainModel, electionId: string, roles: ElectionRoles = rolesOf(model)): VotingWindow {
  const { election, status, openedAt, closedAt, standing, approved, history } = electionAuthority(model, electionId, roles);
  const enforced = roles === ElectionRoles.enforced;
  const closedRounds = history.rounds.map((round) => (round.closeContext && enforced ? closedRoundAuthority(model, election, round.closeContext) : null));
  return { election, status, openedAt, closedAt, standing, roles, approved, history, closedRounds };
}

/** `ballotFlaw`'s answer for a ballot valid so far whose choice is sealed. */
export const SEALED = 'sealed' as const;

/**
 * Why a ballot cannot count in its election, whatever the voter's other ballots; `SEALED` if it is
 * valid so far but its choice is still sealed; undefined if it counts. `opened` is its choice as
 * the published key opened it, if it is sealed and the key was published.
 */
export function ballotFlaw(
  model: DomainModel,
  window: VotingWindow,
  ballot: CRDTEntity,
  opened?: OpenedChoice,
): { reason: BallotReason; detail: string } | typeof SEALED | undefined {
  const voterId = ballot.getAttribute('voter');
  const plain = ballot.getAttribute('candidate');
  const sealed = ballot.getAttribute('sealed');
  if (typeof voterId !== 'string' || (typeof plain !== 'string' && typeof sealed !== 'string') || typeof ballot.getAttribute('castAt') !== 'string')
    return { reason: BallotReason.incomplete, detail: 'the ballot lacks its voter, choice or cast time' };
  const index = roundIndex(window.history, ballot);
  const round = window.history.rounds[index];
  // A closed round is decided as its closing had seen it: later approvals, removals and deletions change nothing.
  const frozen = window.closedRounds[index] ?? null;
  const closeContext = round?.closeContext ?? null;
  const voter = model.get(voterId, { includeDeleted: true });
  // Deleting a voter afterwards does not withdraw its ballot (ballots stay, see `ballotsOf`).
  if (voter?.concept !== 'Voter' || (closeContext && !standingAt(voter, closeContext).existed))
    return { reason: BallotReason.voterUnknown, detail: closeContext ? `voter ${voterId} did not exist when voting closed` : `voter ${voterId} does not exist` };
  const enforced = window.roles === ElectionRoles.enforced;
  const caster = ownerOf(ballot.oid);
  const votersDevice = ownerOf(voterId);
  if (enforced && (caster === undefined || caster !== votersDevice))
    return {
      reason: BallotReason.notVotersDevice,
      detail: `cast by device ${caster ?? 'unknown'}, not by the voter's own device ${votersDevice ?? '(none: the voter has no device)'}`,
    };
  // An approved voter asked to vote; withdrawing the request afterwards cannot undo a ballot.
  const approved = (frozen?.approved ?? window.approved).has(voterId);
  const registered = closeContext
    ? childrenAt(voter, 'elections', closeContext).includes(window.election.oid) || lostAfter(voter, 'elections', closeContext)
    : voter.childOids('elections').includes(window.election.oid);
  if (!(enforced && approved) && !registered)
    return { reason: BallotReason.notRegistered, detail: `voter ${voterId} is not registered for this election` };
  if (enforced && !approved) return { reason: BallotReason.notApproved, detail: `the organiser has not approved voter ${voterId} for this election` };
  const timing = timingFlaw(window.history, ballot, round);
  if (timing) return timing;
  if ((round!.sealKey !== null) !== (typeof sealed === 'string' && typeof plain !== 'string'))
    return {
      reason: BallotReason.wrongForm,
      detail: round!.sealKey !== null ? 'voting was sealed, but this ballot shows its choice' : 'voting was not sealed, but this ballot is',
    };
  let candidateId = plain;
  if (round!.sealKey !== null) {
    if (round!.close === null || !round!.publishedKeys.length || !opened) return SEALED;
    if ('error' in opened) return { reason: BallotReason.unreadable, detail: opened.error };
    candidateId = opened.candidate;
  }
  if (typeof candidateId !== 'string' || !(frozen?.standing ?? window.standing).has(candidateId))
    return { reason: BallotReason.candidateNotStanding, detail: `candidate ${String(candidateId)} does not stand in this election` };
  return undefined;
}

/**
 * The ballots of an election, deleted ones included: a cast ballot stays in the box. Deleting and
 * restoring it (which the app refuses) could otherwise let a voter pick, after the close, which of
 * its ballots counts, and a deletion register keeps only its latest write.
 */
function ballotsOf(model: DomainModel, window: VotingWindow): CRDTEntity[] {
  return [...model.entities('Ballot', { includeDeleted: true })].filter((ballot) => ballot.getAttribute('election') === window.election.oid);
}

function timingFlaw(history: VotingHistory, ballot: CRDTEntity, round: VotingRound | undefined): { reason: BallotReason; detail: string } | undefined {
  if (!history.rounds.length) return { reason: BallotReason.neverOpened, detail: 'voting was never opened' };
  const opening = ballot.getAttribute('opening');
  if (!round) {
    const detail =
      typeof opening !== 'string'
        ? 'cast before voting opened: it names no opening of voting it saw'
        : `cast before voting opened: the opening it names (${opening}) is not an opening of this election by its organisers`;
    return { reason: BallotReason.beforeOpening, detail };
  }
  const dots = creationDots(ballot);
  const openingEvent = round.openings.find((o) => o.oid === opening)!;
  const openingContext = contextOf(openingEvent);
  if (openingContext && dots.some((dot) => openingContext.covers(dot)))
    return { reason: BallotReason.beforeOpening, detail: 'cast before voting opened: the opening had already seen it' };
  if (round.closeContext && !dots.every((dot) => round.closeContext!.covers(dot)))
    return {
      reason: BallotReason.afterClosing,
      detail: `cast after voting closed: the closing device had not received it when it closed voting, whatever time it claims (${String(ballot.getAttribute('castAt'))})`,
    };
  return undefined;
}

// The index of the round whose openings include the one the ballot names; past the last if none.
function roundIndex(history: VotingHistory, ballot: CRDTEntity): number {
  const opening = ballot.getAttribute('opening');
  const index = history.rounds.findIndex((round) => round.openings.some((o) => o.oid === opening));
  return index === -1 ? history.rounds.length : index;
}

function castMs(ballot: CRDTEntity): number {
  const castAt = ballot.getAttribute('castAt');
  return typeof castAt === 'string' ? Date.parse(castAt) : Infinity;
}
