import { type CRDTEntity, type Entities, ValidationError } from '../../domain/index.js';
import { sealChoice } from './ballot-sealing.js';
import { clockStamp, electionIn, liveVoter } from './election-guards.js';
import { type BallotChannel, ElectionStatus } from './electoral-schema.js';
import type { ElectoralModelWrites, ElectoralSystemModel } from './electoral-system-model.js';
import { SEALED, ballotFlaw, votingWindow } from './tally.js';

/** What `castBallot` takes. */
export interface BallotInput {
  readonly voterId: string;
  readonly electionId: string;
  readonly candidateId: string;
  readonly channel?: BallotChannel;
}

/**
 * The ballot facet of an `ElectoralSystemModel`: casting ballots, open or sealed, under the rules
 * of the election's current round, and the ballots of an election. The model passes its calls on
 * to it, and it calls back through the model, so a subclass overriding a method of the model sees
 * its own method used here too.
 */
export class BallotBox {
  constructor(
    private readonly model: ElectoralSystemModel,
    private readonly writes: ElectoralModelWrites,
  ) {}

  /**
   * Casts a ballot in an election that is not sealed: the election must be open, the voter
   * registered for it and without a ballot, the candidate standing in it; with roles enforced, the
   * voter must be this device's own and approved. The ballot names the opening it was cast under;
   * `castAt` is stamped from the hybrid clock (shown only: it decides nothing).
   */
  castBallot(input: BallotInput): CRDTEntity {
    const { election, voter, opening } = this.#ballotChecks(input);
    if (election.getAttribute('sealed') === true)
      throw new ValidationError('Ballot', 'candidate', 'sealed', 'this election seals ballots: cast with castSealedBallot');
    return this.writes.createManaged('Ballot', {
      voter: voter.oid,
      election: election.oid,
      candidate: input.candidateId,
      castAt: clockStamp(this.model),
      channel: input.channel,
      opening,
    });
  }

  /**
   * Casts a sealed ballot: as `castBallot`, but the choice is encrypted to the round's public key
   * and bound to this ballot, voter, election and round; nobody reads it before the device that
   * opened the round publishes its key after the close.
   */
  async castSealedBallot(input: BallotInput): Promise<CRDTEntity> {
    const first = this.#ballotChecks(input);
    if (first.election.getAttribute('sealed') !== true) throw new ValidationError('Ballot', 'sealed', 'sealed', 'this election does not seal ballots');
    const oid = this.writes.newOid('Ballot');
    const sealed = await sealChoice(first.sealKey!, input.candidateId, { election: first.election.oid, opening: first.opening, voter: first.voter.oid, ballot: oid });
    // Encrypting took a while: voting may have closed, or another tab voted, meanwhile.
    const { election, voter, opening } = this.#ballotChecks(input);
    if (opening !== first.opening) throw new ValidationError('Election', 'status', 'status', 'voting closed and reopened while the ballot was being sealed; vote again');
    return this.writes.createManaged('Ballot', { voter: voter.oid, election: election.oid, castAt: clockStamp(this.model), channel: input.channel, opening, sealed }, { oid });
  }

  #ballotChecks(input: BallotInput): { election: CRDTEntity; voter: CRDTEntity; opening: string; sealKey: string | null } {
    const election = electionIn(this.model, input.electionId, [ElectionStatus.open], 'ballots can only be cast while the election is open');
    const voter = liveVoter(this.model, input.voterId);
    if (!this.model.isMyVoter(voter.oid))
      throw new ValidationError('Ballot', 'voter', 'not-voters-device', `only the voter's own device can vote as ${String(voter.getAttribute('name'))}`);
    if (!voter.childOids('elections').includes(election.oid))
      throw new ValidationError('Ballot', 'voter', 'registered', `voter ${voter.oid} is not registered for this election`);
    if (!this.model.isApproved(election.oid, voter.oid))
      throw new ValidationError('Ballot', 'voter', 'not-approved', `the organiser has not approved ${String(voter.getAttribute('name'))} for this election yet`);
    const window = votingWindow(this.model, election.oid);
    if (!window.standing.has(input.candidateId))
      throw new ValidationError('Ballot', 'candidate', 'candidate', `${input.candidateId} does not stand in this election`);
    // Deleted ballots too: a cast ballot stays (see `tallyElection`). Looked up by voter, not
    // scanned: a scan of every ballot per cast made filling a room quadratic.
    const voted = this.model.findBy('Ballot', 'voter', voter.oid, { includeDeleted: true }).find((ballot) => {
      if (ballot.getAttribute('election') !== election.oid) return false;
      const flaw = ballotFlaw(this.model, window, ballot);
      return flaw === undefined || flaw === SEALED;
    });
    if (voted) throw new ValidationError('Ballot', 'voter', 'already-voted', `voter ${voter.oid} has already voted in this election`);
    const round = window.history.rounds[window.history.rounds.length - 1]!;
    return { election, voter, opening: round.openings[0]!.oid, sealKey: round.sealKey };
  }

  /** Live ballots of an election. */
  ballots(electionId: string): Entities {
    return this.model.findBy('Ballot', 'election', electionId);
  }
}
