import { ElectionRoles, ElectionStatus } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';
import { votingHistoryOf } from './voting-history.js';

// What an election's state locks: the model refuses such local changes (`lockProblem`), and
// views offer only what it accepts (`localWriteProblem`, `createProblem`).

// Concepts whose `election` reference ties them to one election's record.
const ELECTION_PARTS: ReadonlySet<string> = new Set(['Candidate', 'Ballot', 'Approval', 'VotingEvent', 'CoOrganiser']);

/**
 * Why no device may now change this entity, in words, or undefined: an opening or closing
 * stays (only a reopening undoes a closing), and so does a cast ballot; candidates and approvals
 * change only in a draft; with `deleting`, an election leaves only as a draft. Every replica also sets such changes aside when it tallies a closed round
 * (see `as-of-close.ts`); refusing them here keeps honest devices from making them at all.
 */
export function lockProblemOf(model: ElectoralSystemModel, concept: string, oid: string, deleting = false): string | undefined {
  const entity = model.get(oid, { includeDeleted: true });
  if (!entity) return undefined;
  const electionId = entity.concept === 'Election' ? oid : ELECTION_PARTS.has(entity.concept) ? entity.getAttribute('election') : undefined;
  if (typeof electionId !== 'string') return undefined;
  const election = model.get(electionId, { includeDeleted: true });
  if (election?.concept !== 'Election') return undefined;
  const status = votingHistoryOf(model, election, model.roles).status;
  const title = `the election “${String(election.getAttribute('title') ?? '')}”`;
  if (concept === 'VotingEvent') return `Openings and closings of ${title} stay as they are; only the organiser can reopen voting.`;
  if (concept === 'Ballot') return `A ballot cast in ${title} stays as it was cast.`;
  if (status === ElectionStatus.draft) return undefined;
  const state = status === ElectionStatus.open ? 'is open' : 'has closed';
  if (concept === 'Candidate' || concept === 'Approval')
    return `Voting in ${title} ${state}: its ${concept === 'Candidate' ? 'candidates' : 'approvals'} stay as they are${status === ElectionStatus.closed ? ' (the organiser can reopen voting)' : ''}.`;
  if (concept === 'Election' && deleting) return `Voting in ${title} ${state}: the election and its result stay (it can be deleted only as a draft).`;
  return undefined;
}

/**
 * Why a generic editor (the model explorer) should not offer to create a `concept` here, in
 * words, or undefined: with roles enforced, ballots, openings and closings, approvals,
 * co-organisers, the room's name and a device's name are made by their own operations, which
 * check who may; a candidate only by a device organising an election still in draft. (An entity
 * made otherwise changes no tally: it is not the organiser's, or not cast as a ballot is.)
 */
export function createProblemOf(model: ElectoralSystemModel, concept: string): string | undefined {
  if (model.roles !== ElectionRoles.enforced) return undefined;
  switch (concept) {
    case 'Ballot':
      return 'Ballots are cast under “Your ballot” in the Elections tab, by each voter’s own device.';
    case 'VotingEvent':
      return 'Voting is opened and closed in the Elections tab, by an election’s organiser.';
    case 'Approval':
      return 'Voters are approved under “Voters” in the Elections tab, by an election’s organiser.';
    case 'CoOrganiser':
      return 'Co-organisers are added under “Co-organisers” in the Elections tab, by an election’s organiser.';
    case 'Room':
      return 'The room’s name is given by the device that created the room.';
    case 'Member':
      return 'Each device names itself, under Details at the top of the room.';
    case 'Candidate':
      return model.elections().find((election) => model.isOrganiser(election.oid) && model.statusOf(election.oid) === ElectionStatus.draft)
        ? undefined
        : 'Only the organiser of an election still in draft can add candidates to it.';
    default:
      return undefined;
  }
}
