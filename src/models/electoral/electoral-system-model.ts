import { type CRDTEntity, DomainModel, type DomainModelOptions, type Entities, ValidationError, isIsoDate } from '../../domain/index.js';
import { type BallotChannel, ElectionStatus, electoralSchema } from './electoral-schema.js';
import { type Tally, ballotFlaw, tallyElection, votingWindow } from './tally.js';

/** Options of an `ElectoralSystemModel`: a `DomainModel`'s, with the schema fixed. */
export type ElectoralSystemModelOptions = Omit<DomainModelOptions, 'schema'>;

/** What `createElection` takes. Dates are ISO strings; `opensAt`/`closesAt` are the planned window. */
export interface ElectionInput {
  readonly title: string;
  readonly description?: string;
  readonly opensAt?: string;
  readonly closesAt?: string;
}

/** What `addCandidate` takes. */
export interface CandidateInput {
  readonly name: string;
  readonly party?: string;
  readonly statement?: string;
}

/** What `registerVoter` takes. */
export interface VoterInput {
  readonly name: string;
  readonly voterNumber: string;
  readonly email?: string;
  readonly district?: string;
  readonly address?: string;
  readonly birthDate?: string;
}

/** What `castBallot` takes. */
export interface BallotInput {
  readonly voterId: string;
  readonly electionId: string;
  readonly candidateId: string;
  readonly channel?: BallotChannel;
}

/**
 * The seed's `ElectoralSystemModel`: elections, candidates, voters and ballots as a replicated
 * domain model. The convenience operations check the domain rules locally and throw
 * `ValidationError`; `tally` applies the same rules to the merged state, deterministically, so
 * ballots accepted by devices that were offline are settled identically everywhere.
 */
export class ElectoralSystemModel extends DomainModel {
  constructor(options: ElectoralSystemModelOptions) {
    super({ ...options, schema: electoralSchema });
  }

  /** Creates an election in draft. */
  createElection(input: ElectionInput): CRDTEntity {
    if (input.opensAt !== undefined && input.closesAt !== undefined && isIsoDate(input.opensAt) && isIsoDate(input.closesAt))
      if (Date.parse(input.closesAt) <= Date.parse(input.opensAt))
        throw new ValidationError('Election', 'closesAt', 'order', 'the election must close after it opens');
    return this.create('Election', { ...input });
  }

  /** Adds a candidate to a draft election. */
  addCandidate(electionId: string, input: CandidateInput): CRDTEntity {
    const election = this.#election(electionId, [ElectionStatus.draft], 'candidates can only be added while the election is a draft');
    const candidate = this.create('Candidate', { ...input, election: election.oid });
    election.addChild('candidates', candidate);
    return candidate;
  }

  /** Withdraws a candidate from a draft election (the candidate is deleted). */
  removeCandidate(electionId: string, candidateId: string): void {
    const election = this.#election(electionId, [ElectionStatus.draft], 'candidates can only be removed while the election is a draft');
    if (!election.childOids('candidates').includes(candidateId))
      throw new ValidationError('Election', 'candidates', 'candidate', `${candidateId} does not stand in this election`);
    election.removeChild('candidates', candidateId);
    this.delete(candidateId);
  }

  /** Registers a voter; the voter number must be unique in the model. */
  registerVoter(input: VoterInput): CRDTEntity {
    return this.create('Voter', { ...input });
  }

  /** Registers a voter for an election that is not closed. */
  registerForElection(voterId: string, electionId: string): void {
    const voter = this.#voter(voterId);
    this.#election(electionId, [ElectionStatus.draft, ElectionStatus.open], 'voters cannot register for a closed election');
    voter.addChild('elections', electionId);
  }

  /** Takes a voter off a draft election's register. */
  unregisterFromElection(voterId: string, electionId: string): void {
    const voter = this.#voter(voterId);
    this.#election(electionId, [ElectionStatus.draft], 'voters can only be unregistered while the election is a draft');
    voter.removeChild('elections', electionId);
  }

  /** Opens a draft election with at least one candidate, stamping `openedAt` from the hybrid clock. */
  openElection(electionId: string): void {
    const election = this.#election(electionId, [ElectionStatus.draft], 'only a draft election can be opened');
    if (!election.getChild('candidates').count) throw new ValidationError('Election', 'candidates', 'candidate', 'an election needs a candidate to open');
    this.updateManaged(election.oid, { status: ElectionStatus.open, openedAt: this.#stamp() });
  }

  /** Closes an open election, stamping `closedAt`. */
  closeElection(electionId: string): void {
    const election = this.#election(electionId, [ElectionStatus.open], 'only an open election can be closed');
    this.updateManaged(election.oid, { status: ElectionStatus.closed, closedAt: this.#stamp() });
  }

  /**
   * Casts a ballot: the election must be open, the voter registered for it and without a counted
   * ballot, the candidate standing in it. `castAt` is stamped from the hybrid clock.
   */
  castBallot(input: BallotInput): CRDTEntity {
    const election = this.#election(input.electionId, [ElectionStatus.open], 'ballots can only be cast while the election is open');
    const voter = this.#voter(input.voterId);
    if (!voter.childOids('elections').includes(election.oid))
      throw new ValidationError('Ballot', 'voter', 'registered', `voter ${voter.oid} is not registered for this election`);
    if (!election.childOids('candidates').includes(input.candidateId) || this.get(input.candidateId)?.getAttribute('election') !== election.oid)
      throw new ValidationError('Ballot', 'candidate', 'candidate', `${input.candidateId} does not stand in this election`);
    const window = votingWindow(this, election.oid);
    const voted = this.findBy('Ballot', 'voter', voter.oid).find(
      (ballot) => ballot.getAttribute('election') === election.oid && !ballotFlaw(this, window, ballot),
    );
    if (voted) throw new ValidationError('Ballot', 'voter', 'already-voted', `voter ${voter.oid} has already voted in this election`);
    return this.createManaged('Ballot', {
      voter: voter.oid,
      election: election.oid,
      candidate: input.candidateId,
      castAt: this.#stamp(),
      channel: input.channel,
    });
  }

  /** The tally of an election (see `tallyElection`). */
  tally(electionId: string): Tally {
    return tallyElection(this, electionId);
  }

  /** Live elections. */
  elections(): Entities {
    return this.entities('Election');
  }

  /** Live candidates standing in an election. */
  candidates(electionId: string): Entities {
    return this.#election(electionId).getChild('candidates');
  }

  /** Live voters. */
  voters(): Entities {
    return this.entities('Voter');
  }

  /** The live voter with this voter number. */
  voterByNumber(voterNumber: string): CRDTEntity | undefined {
    return this.findBy('Voter', 'voterNumber', voterNumber).first();
  }

  /** Live ballots of an election. */
  ballots(electionId: string): Entities {
    return this.findBy('Ballot', 'election', electionId);
  }

  #election(electionId: string, statuses?: readonly ElectionStatus[], message = ''): CRDTEntity {
    const election = this.get(electionId);
    if (election?.concept !== 'Election') throw new ValidationError('Election', undefined, 'exists', `no live election ${JSON.stringify(electionId)}`);
    if (statuses && !statuses.includes(election.getAttribute('status') as ElectionStatus))
      throw new ValidationError('Election', 'status', 'status', `${message} (it is ${String(election.getAttribute('status'))})`);
    return election;
  }

  #voter(voterId: string): CRDTEntity {
    const voter = this.get(voterId);
    if (voter?.concept !== 'Voter') throw new ValidationError('Voter', undefined, 'exists', `no live voter ${JSON.stringify(voterId)}`);
    return voter;
  }

  // The hybrid clock's reading as an ISO date: never behind any write this replica has seen.
  #stamp(): string {
    return new Date(this.clock.now().ms).toISOString();
  }
}
