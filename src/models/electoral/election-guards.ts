import { type CRDTEntity, ValidationError } from '../../domain/index.js';
import { liveElection } from './election-authority.js';
import { ElectionRoles, type ElectionStatus } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';

// The checks the electoral operations start from (the model's and its facets'). Each throws
// `ValidationError` before anything is written.

/** The live election (see `liveElection`), in one of `statuses` if given (else `message` says why not). */
export function electionIn(model: ElectoralSystemModel, electionId: string, statuses?: readonly ElectionStatus[], message = ''): CRDTEntity {
  const election = liveElection(model, electionId);
  if (!statuses) return election;
  const status = model.statusOf(election.oid);
  if (!statuses.includes(status)) throw new ValidationError('Election', 'status', 'status', `${message} (it is ${status})`);
  return election;
}

/** Refuses what only the election's organiser or an effective co-organiser may do. */
export function organiserOnly(model: ElectoralSystemModel, electionId: string, action: string): void {
  if (!model.isOrganiser(electionId)) throw new ValidationError('Election', undefined, 'organiser', `only the organiser of this election can ${action}`);
}

/** Refuses what only exists with roles enforced. */
export function enforcedOnly(model: ElectoralSystemModel, what: string): void {
  if (model.roles !== ElectionRoles.enforced)
    throw new ValidationError('Election', undefined, 'roles', `${what} need election roles enforced (with open roles everyone organises)`);
}

/** The live voter with this oid. */
export function liveVoter(model: ElectoralSystemModel, voterId: string): CRDTEntity {
  const voter = model.get(voterId);
  if (voter?.concept !== 'Voter') throw new ValidationError('Voter', undefined, 'exists', `no live voter ${JSON.stringify(voterId)}`);
  return voter;
}

/** Refuses what only the voter's own device may do. */
export function ownVoterOnly(model: ElectoralSystemModel, voterId: string, action: string): void {
  if (!model.isMyVoter(voterId)) throw new ValidationError('Voter', undefined, 'voter', `only the voter's own device can ${action}`);
}

/** The hybrid clock's reading as an ISO date: never behind any write this replica has seen. */
export function clockStamp(model: ElectoralSystemModel): string {
  return new Date(model.clock.now().ms).toISOString();
}
