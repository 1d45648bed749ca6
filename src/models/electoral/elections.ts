import { type CRDTEntity, Entities, ValidationError, isIsoDate, ownerOf } from '../../domain/index.js';
import { keptByClose, standingCandidatesOf } from './election-authority.js';
import { electionIn, organiserOnly } from './election-guards.js';
import { ElectionRoles, ElectionStatus } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';
import { type Tally, type UnsealedChoices, tallyElection } from './tally.js';

/** What `createElection` takes. Dates are ISO strings; `opensAt`/`closesAt` are the planned window. */
export interface ElectionInput {
  readonly title: string;
  readonly description?: string;
  readonly opensAt?: string;
  readonly closesAt?: string;
  /** Seal ballots until the close (see `ballot-sealing.ts`). Default false here; the app's default is true. */
  readonly sealed?: boolean;
  /** Show results while voting is open (only without sealing). Default false. */
  readonly liveResults?: boolean;
}

/** What `addCandidate` takes. */
export interface CandidateInput {
  readonly name: string;
  readonly party?: string;
  readonly statement?: string;
}

/**
 * The elections facet of an `ElectoralSystemModel`: elections, the candidates standing in them,
 * and their tally. The model passes its calls on to it, and it calls back through the model, so a
 * subclass overriding a method of the model sees its own method used here too.
 */
export class Elections {
  constructor(private readonly model: ElectoralSystemModel) {}

  /** Creates an election in draft. */
  createElection(input: ElectionInput): CRDTEntity {
    if (input.opensAt !== undefined && input.closesAt !== undefined && isIsoDate(input.opensAt) && isIsoDate(input.closesAt))
      if (Date.parse(input.closesAt) <= Date.parse(input.opensAt))
        throw new ValidationError('Election', 'closesAt', 'order', 'the election must close after it opens');
    if (input.sealed && input.liveResults)
      throw new ValidationError('Election', 'liveResults', 'sealed', 'sealed ballots cannot show results before the close');
    return this.model.create('Election', { ...input });
  }

  /** True if the election's ballots are sealed until the close. */
  isSealed(electionId: string): boolean {
    return electionIn(this.model, electionId).getAttribute('sealed') === true;
  }

  /** Adds a candidate to a draft election: the organiser's joins `candidates`; a co-organiser's stands by its grant. */
  addCandidate(electionId: string, input: CandidateInput): CRDTEntity {
    const election = electionIn(this.model, electionId, [ElectionStatus.draft], 'candidates can only be added while the election is a draft');
    organiserOnly(this.model, election.oid, 'add candidates');
    const candidate = this.model.create('Candidate', { ...input, election: election.oid });
    if (this.model.isOwner(election.oid)) election.addChild('candidates', candidate);
    return candidate;
  }

  /**
   * Withdraws a candidate from a draft election (the candidate is deleted). Each organiser withdraws
   * the candidates it added; the organiser drops a co-organiser's candidates by revoking it.
   */
  removeCandidate(electionId: string, candidateId: string): void {
    const election = electionIn(this.model, electionId, [ElectionStatus.draft], 'candidates can only be removed while the election is a draft');
    organiserOnly(this.model, election.oid, 'remove candidates');
    if (!this.model.candidates(election.oid).has(candidateId))
      throw new ValidationError('Election', 'candidates', 'candidate', `${candidateId} does not stand in this election`);
    if (this.model.roles === ElectionRoles.enforced && ownerOf(candidateId) !== this.model.deviceId)
      throw new ValidationError(
        'Election',
        'candidates',
        'organiser',
        this.model.isOwner(election.oid)
          ? 'a co-organiser added this candidate: only it can withdraw it (or remove the co-organiser)'
          : 'only the organiser can withdraw the candidates it added',
      );
    if (election.childOids('candidates').includes(candidateId)) election.removeChild('candidates', candidateId);
    this.model.delete(candidateId);
  }

  /** The tally of an election (see `tallyElection`); sealed choices count once `unsealed` (from `unsealElection`) opens them. */
  tally(electionId: string, unsealed?: UnsealedChoices): Tally {
    return tallyElection(this.model, electionId, this.model.roles, unsealed);
  }

  /** Live elections, and deleted ones whose last closing had not seen the deletion (their result stays). */
  elections(): Entities {
    return this.model.entities('Election', { includeDeleted: true }).filter((election) => !election.isDeleted || keptByClose(this.model, election));
  }

  /** Live candidates standing in an election: the organiser's, then effective co-organisers' (see `standingCandidatesOf`). */
  candidates(electionId: string): Entities {
    return new Entities(standingCandidatesOf(this.model, electionId, this.model.roles).values());
  }
}
