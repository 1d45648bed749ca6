import { type CRDTEntity, Entities, ValidationError, ownerOf } from '../../domain/index.js';
import { approvedVotersOf } from './election-authority.js';
import { electionIn, liveVoter, organiserOnly, ownVoterOnly } from './election-guards.js';
import { ElectionRoles, ElectionStatus } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';

/** What `registerVoter` takes. */
export interface VoterInput {
  readonly name: string;
  readonly voterNumber: string;
  readonly email?: string;
  readonly district?: string;
  readonly address?: string;
  readonly birthDate?: string;
}

/**
 * The voter-roll facet of an `ElectoralSystemModel`: voters, their registration for elections
 * (from the voter's own device) and the organisers' approvals of it, and the queries over them.
 * The model passes its calls on to it, and it calls back through the model, so a subclass
 * overriding a method of the model sees its own method used here too.
 */
export class VoterRoll {
  constructor(private readonly model: ElectoralSystemModel) {}

  /** Live voters. */
  voters(): Entities {
    return this.model.entities('Voter');
  }

  /** The live voter with this voter number. */
  voterByNumber(voterNumber: string): CRDTEntity | undefined {
    return this.model.findBy('Voter', 'voterNumber', voterNumber).first();
  }

  /** True if this replica's device registered the voter (and so is the only one whose ballots for it count). */
  isMyVoter(voterId: string): boolean {
    if (this.model.roles === ElectionRoles.open) return true;
    return ownerOf(voterId) === this.model.deviceId;
  }

  /** Live voters this device registered, sorted by oid. With open roles, none: nobody owns a voter. */
  myVoters(): Entities {
    if (this.model.roles === ElectionRoles.open) return new Entities([]);
    return this.model
      .voters()
      .filter((voter) => ownerOf(voter.oid) === this.model.deviceId)
      .sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  }

  /** This device's voter (the first of `myVoters`), if it registered one. */
  myVoter(): CRDTEntity | undefined {
    return this.model.myVoters().first();
  }

  /**
   * Registers a voter; the voter number must be unique in the model. With roles enforced the voter
   * belongs to this device: only it can edit the voter, register it for elections and vote as it.
   */
  registerVoter(input: VoterInput): CRDTEntity {
    return this.model.create('Voter', { ...input });
  }

  /** Registers a voter for an election that is not closed: with roles enforced, a request the organiser approves. */
  registerForElection(voterId: string, electionId: string): void {
    const voter = liveVoter(this.model, voterId);
    electionIn(this.model, electionId, [ElectionStatus.draft, ElectionStatus.open], 'voters cannot register for a closed election');
    ownVoterOnly(this.model, voter.oid, 'register it for an election');
    voter.addChild('elections', electionId);
  }

  /** Takes a voter off a draft election's register. */
  unregisterFromElection(voterId: string, electionId: string): void {
    const voter = liveVoter(this.model, voterId);
    electionIn(this.model, electionId, [ElectionStatus.draft], 'voters can only be unregistered while the election is a draft');
    ownVoterOnly(this.model, voter.oid, 'unregister it');
    voter.removeChild('elections', electionId);
  }

  /**
   * The organiser or a co-organiser approves a voter who registered for an election that is not
   * closed, with an `Approval` of its own. False if the voter is approved already.
   */
  approveVoter(electionId: string, voterId: string): boolean {
    const election = electionIn(this.model, electionId, [ElectionStatus.draft, ElectionStatus.open], 'voters can only be approved before the election closes');
    organiserOnly(this.model, election.oid, 'approve voters');
    const voter = liveVoter(this.model, voterId);
    if (!voter.childOids('elections').includes(election.oid))
      throw new ValidationError('Election', 'approvedVoters', 'registered', `voter ${voter.oid} has not registered for this election`);
    if (this.model.isApproved(election.oid, voter.oid)) return false;
    // An entity, not a relation item: its deletion stays in state, so a closed round can set it aside.
    this.model.create('Approval', { election: election.oid, voter: voter.oid });
    return true;
  }

  /**
   * Withdraws this device's approval of a voter while the election is a draft: its `Approval`s
   * (and, for the organiser, an older `approvedVoters` item). Another organiser's approval stays.
   * False if this device had not approved the voter.
   */
  revokeVoter(electionId: string, voterId: string): boolean {
    const election = electionIn(this.model, electionId, [ElectionStatus.draft], 'approvals can only be withdrawn while the election is a draft');
    organiserOnly(this.model, election.oid, 'withdraw approvals');
    const listed = this.model.isOwner(election.oid) && election.removeChild('approvedVoters', voterId);
    const own = this.model
      .findBy('Approval', 'voter', voterId)
      .filter((a) => a.getAttribute('election') === election.oid && ownerOf(a.oid) === this.model.deviceId);
    for (const approval of own) this.model.delete(approval.oid);
    return listed || own.count > 0;
  }

  /**
   * True if the organiser or an effective co-organiser approved the voter for the election (always
   * true with open roles, which have no approval).
   */
  isApproved(electionId: string, voterId: string): boolean {
    if (this.model.roles === ElectionRoles.open) return true;
    const election = electionIn(this.model, electionId);
    if (election.childOids('approvedVoters').includes(voterId)) return true;
    // By voter, not by election: a voter has few approvals, an election may have thousands.
    const approvals = this.model.findBy('Approval', 'voter', voterId).filter((approval) => approval.getAttribute('election') === election.oid);
    if (!approvals.count) return false;
    const approvers = [...this.model.coOrganisersOf(election.oid), ownerOf(election.oid)];
    return approvals.find((approval) => approvers.includes(ownerOf(approval.oid) ?? '')) !== undefined;
  }

  /** Every voter approved for the election, by the organiser or an effective co-organiser (see `isApproved`). */
  approvedVoters(electionId: string): ReadonlySet<string> {
    return approvedVotersOf(this.model, electionId, this.model.roles);
  }

  /** Live voters who registered for the election and wait for approval (none with open roles). */
  pendingVoters(electionId: string): Entities {
    electionIn(this.model, electionId);
    if (this.model.roles === ElectionRoles.open) return new Entities([]);
    const approved = this.model.approvedVoters(electionId);
    return this.model.voters().filter((voter) => voter.childOids('elections').includes(electionId) && !approved.has(voter.oid));
  }
}
