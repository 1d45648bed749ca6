import type { NodeId } from '../../crdt/index.js';
import {
  type AttributeChange,
  type AttributeValue,
  type CRDTEntity,
  type ConflictResolution,
  DEVICE_ID_CHARS,
  DomainModel,
  type DomainModelOptions,
  Entities,
  type ModelChange,
  ValidationError,
  deviceOf,
  isIsoDate,
  ownedOid,
  ownerOf,
} from '../../domain/index.js';
import { sealChoice } from './ballot-sealing.js';
import { approvedVotersOf, coOrganisersOf, electionAuthority, keptByClose, liveElection, standingCandidatesOf, votingStampsOf } from './election-authority.js';
import { type BallotChannel, ElectionRoles, ElectionStatus, VotingAction, electoralSchema } from './electoral-schema.js';
import { SEALED, type Tally, type UnsealedChoices, ballotFlaw, tallyElection, votingWindow } from './tally.js';
import { type VotingHistory, type VotingRound, votingHistoryOf } from './voting-history.js';

/** Options of an `ElectoralSystemModel`: a `DomainModel`'s, with the schema fixed. */
export interface ElectoralSystemModelOptions extends Omit<DomainModelOptions, 'schema'> {
  /**
   * `enforced` (default): ownership rules over verified authors (see `ElectionRoles`); the node id
   * must start with a device id, and `newId`, if given, must make 21 URL-safe characters (the
   * random part of an owned oid). `open`: no ownership rules.
   */
  readonly roles?: ElectionRoles;
}

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
 *
 * With roles enforced (the default), every entity's oid names the device that made it, and only
 * that device's changes to it are accepted, locally and from peers (whose authorship the sync
 * layer verifies): the creator of an election is its organiser, who alone edits it, its
 * candidates and its approved voters, and opens and closes it; a voter registers from its own
 * device and only ballots cast by that device count. Rules depend on ids alone, never on mutable
 * state, so every replica refuses the same changes whatever order they arrive in.
 *
 * The organiser may grant other devices co-organisation (`addCoOrganiser`). A co-organiser acts
 * through entities of its own (an `Approval`, a `Candidate`, a `VotingEvent`), which the rule
 * above already keeps to its device; they count wherever the merged state holds the organiser's
 * live grant (see `election-authority.ts`), so every replica decides alike in any arrival order.
 */
export class ElectoralSystemModel extends DomainModel {
  /** Whether ownership rules apply (see `ElectionRoles`). */
  readonly roles: ElectionRoles;
  /** This replica's device id (the first 32 characters of its node id), if it has one. */
  readonly deviceId: string | undefined;

  constructor(options: ElectoralSystemModelOptions) {
    super({ ...options, schema: electoralSchema });
    this.roles = options.roles ?? ElectionRoles.enforced;
    if (this.roles !== ElectionRoles.enforced && this.roles !== ElectionRoles.open) throw new Error(`unknown roles ${JSON.stringify(this.roles)}`);
    this.deviceId = deviceOf(this.nodeId);
    if (this.roles === ElectionRoles.enforced && this.deviceId === undefined)
      throw new Error(
        `roles 'enforced' need a node id that starts with a ${DEVICE_ID_CHARS}-character device id, not ${JSON.stringify(this.nodeId)}; pass roles: 'open' for a model without device identities`,
      );
  }

  /** An empty electoral model with this one's roles, node, sequence position and clock. */
  override emptyCopy(): ElectoralSystemModel {
    return new ElectoralSystemModel({ ...this.copyOptions(), roles: this.roles });
  }

  protected override authorizationProblem(concept: string, oid: string, author: NodeId): string | undefined {
    if (this.roles === ElectionRoles.open) return undefined;
    const owner = ownerOf(oid);
    const device = deviceOf(author);
    if (owner !== undefined && owner === device) return undefined;
    const by = device === undefined ? `node ${author}, which has no device id` : `device ${device}`;
    if (owner === undefined) return `${concept} ${oid} names no owning device, so nobody may change it (changed by ${by})`;
    return `only ${OWNER_ROLE[concept] ?? 'the owning device'} (device ${owner}) may change ${concept} ${oid}, not ${by}`;
  }

  /**
   * Ownership first, then `lockProblem`: views offer only what the model accepts now (an election's
   * own deletion is refused separately, see `lockProblem`).
   */
  override localWriteProblem(concept: string, oid: string): string | undefined {
    return super.localWriteProblem(concept, oid) ?? this.lockProblem(concept, oid);
  }

  /**
   * Why no device may now change this entity, in words, or undefined: an opening or closing
   * stays (only a reopening undoes a closing), and so does a cast ballot; candidates and approvals
   * change only in a draft; with `deleting`, an election leaves only as a draft. Every replica also sets such changes aside when it tallies a closed round
   * (see `as-of-close.ts`); refusing them here keeps honest devices from making them at all.
   */
  lockProblem(concept: string, oid: string, deleting = false): string | undefined {
    const entity = this.get(oid, { includeDeleted: true });
    if (!entity) return undefined;
    const electionId = entity.concept === 'Election' ? oid : ELECTION_PARTS.has(entity.concept) ? entity.getAttribute('election') : undefined;
    if (typeof electionId !== 'string') return undefined;
    const election = this.get(electionId, { includeDeleted: true });
    if (election?.concept !== 'Election') return undefined;
    const status = votingHistoryOf(this, election, this.roles).status;
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
  createProblem(concept: string): string | undefined {
    if (this.roles !== ElectionRoles.enforced) return undefined;
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
        return this.elections().find((election) => this.isOrganiser(election.oid) && this.statusOf(election.oid) === ElectionStatus.draft)
          ? undefined
          : 'Only the organiser of an election still in draft can add candidates to it.';
      default:
        return undefined;
    }
  }

  override update(oid: string, values: Parameters<DomainModel['update']>[1]): void {
    this.#unlocked(oid);
    super.update(oid, values);
  }

  override delete(oid: string): boolean {
    this.#unlocked(oid, true);
    return super.delete(oid);
  }

  override restore(oid: string): boolean {
    this.#unlocked(oid);
    return super.restore(oid);
  }

  // Settling a conflict writes the entity like an edit does: a lock refuses it alike (settling a
  // deletion deletes nothing new, so an election's own deletion rule does not apply).
  override resolveConflicts(conflictingChanges: readonly ModelChange[], choose?: (change: AttributeChange) => AttributeValue): ConflictResolution {
    for (const change of conflictingChanges) if (change.kind === 'attribute') this.#unlocked(change.oid);
    return super.resolveConflicts(conflictingChanges, choose);
  }

  override addChild(oid: string, relation: string, child: string): boolean {
    // Approving goes on while voting is open.
    if (relation !== 'approvedVoters' || this.get(oid)?.concept !== 'Election' || this.statusOf(oid) === ElectionStatus.closed) this.#unlocked(oid, false, relation);
    return super.addChild(oid, relation, child);
  }

  override removeChild(oid: string, relation: string, child: string): boolean {
    this.#unlocked(oid, false, relation);
    return super.removeChild(oid, relation, child);
  }

  // Throws the `lockProblem`, if any; an election's own relations lock like candidates and approvals.
  #unlocked(oid: string, deleting = false, relation?: string): void {
    const entity = this.get(oid, { includeDeleted: true });
    if (!entity) return;
    const concept = entity.concept === 'Election' && (relation === 'candidates' || relation === 'approvedVoters') ? (relation === 'candidates' ? 'Candidate' : 'Approval') : entity.concept;
    const problem = this.lockProblem(concept, oid, deleting);
    if (problem) throw new ValidationError(entity.concept, relation, 'locked', problem);
  }

  protected override authorizationRule(concept: string): string {
    return concept === 'Election' || concept === 'Candidate' ? 'organiser' : concept === 'Voter' ? 'voter' : 'owner';
  }

  // Owned oids even through the generic `create` (the model explorer uses it).
  protected override newOid(concept: string): string {
    return this.roles === ElectionRoles.enforced ? ownedOid(this.nodeId, super.newOid(concept)) : super.newOid(concept);
  }

  /** The device organising an election (the one whose id starts its oid, its creator); undefined with open roles. */
  organiserOf(electionId: string): string | undefined {
    return this.roles === ElectionRoles.enforced ? ownerOf(electionId) : undefined;
  }

  /**
   * True if `node` (default: this replica) is the election's organiser, its creator: the only one
   * who edits its title, description and dates, and grants and revokes co-organisers.
   */
  isOwner(electionId: string, node: string = this.nodeId): boolean {
    if (this.roles === ElectionRoles.open) return true;
    const organiser = ownerOf(electionId);
    return organiser !== undefined && organiser === deviceOf(node);
  }

  /**
   * True if `node` (default: this replica) may open and close the election, add candidates and
   * approve voters: its organiser or an effective co-organiser.
   */
  isOrganiser(electionId: string, node: string = this.nodeId): boolean {
    if (this.isOwner(electionId, node)) return true;
    const device = deviceOf(node);
    return device !== undefined && this.coOrganisersOf(electionId).includes(device);
  }

  /** Device ids of the election's effective co-organisers (granted by its organiser, not revoked), sorted. None with open roles. */
  coOrganisersOf(electionId: string): string[] {
    return coOrganisersOf(this, electionId, this.roles);
  }

  /**
   * The organiser grants `deviceId` (a 32-character device id, not its own) co-organisation of the
   * election: it may then approve voters, add candidates to a draft and open and close voting, not
   * edit the election itself. Returns the grant.
   */
  addCoOrganiser(electionId: string, deviceId: string): CRDTEntity {
    const election = this.#election(electionId);
    this.#enforcedOnly('co-organisers');
    if (!this.isOwner(election.oid)) throw new ValidationError('CoOrganiser', undefined, 'organiser', 'only the organiser of this election can add co-organisers');
    if (!DEVICE_ID.test(deviceId))
      throw new ValidationError('CoOrganiser', 'device', 'pattern', `a device id is ${DEVICE_ID_CHARS} letters, digits, "-" or "_", not ${JSON.stringify(deviceId)}`);
    if (deviceId === ownerOf(election.oid))
      throw new ValidationError('CoOrganiser', 'device', 'organiser', 'the organiser cannot be its own co-organiser');
    if (this.coOrganisersOf(election.oid).includes(deviceId))
      throw new ValidationError('CoOrganiser', 'device', 'exists', `device ${deviceId} is a co-organiser of this election already`);
    return this.create('CoOrganiser', { election: election.oid, device: deviceId });
  }

  /** The organiser revokes a co-organiser: its grants are deleted. What it did stops counting. False if it was none. */
  removeCoOrganiser(electionId: string, deviceId: string): boolean {
    const election = this.#election(electionId);
    this.#enforcedOnly('co-organisers');
    if (!this.isOwner(election.oid)) throw new ValidationError('CoOrganiser', undefined, 'organiser', 'only the organiser of this election can remove co-organisers');
    const grants = this.#ownGrants(election.oid).filter((grant) => grant.getAttribute('device') === deviceId);
    for (const grant of grants) this.delete(grant.oid);
    return grants.count > 0;
  }

  /** The status of an election, co-organisers' openings and closings included (see `votingStampsOf`). */
  statusOf(electionId: string): ElectionStatus {
    return votingStampsOf(this, electionId, this.roles).status;
  }

  /** True if this replica's device registered the voter (and so is the only one whose ballots for it count). */
  isMyVoter(voterId: string): boolean {
    if (this.roles === ElectionRoles.open) return true;
    return ownerOf(voterId) === this.deviceId;
  }

  /** Live voters this device registered, sorted by oid. With open roles, none: nobody owns a voter. */
  myVoters(): Entities {
    if (this.roles === ElectionRoles.open) return new Entities([]);
    return this.voters()
      .filter((voter) => ownerOf(voter.oid) === this.deviceId)
      .sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  }

  /** This device's voter (the first of `myVoters`), if it registered one. */
  myVoter(): CRDTEntity | undefined {
    return this.myVoters().first();
  }

  /** Creates an election in draft. */
  createElection(input: ElectionInput): CRDTEntity {
    if (input.opensAt !== undefined && input.closesAt !== undefined && isIsoDate(input.opensAt) && isIsoDate(input.closesAt))
      if (Date.parse(input.closesAt) <= Date.parse(input.opensAt))
        throw new ValidationError('Election', 'closesAt', 'order', 'the election must close after it opens');
    if (input.sealed && input.liveResults)
      throw new ValidationError('Election', 'liveResults', 'sealed', 'sealed ballots cannot show results before the close');
    return this.create('Election', { ...input });
  }

  /** True if the election's ballots are sealed until the close. */
  isSealed(electionId: string): boolean {
    return this.#election(electionId).getAttribute('sealed') === true;
  }

  /** The election's voting history: rounds, and every opening and closing with what it did (see `voting-history.ts`). */
  votingHistory(electionId: string): VotingHistory {
    return electionAuthority(this, electionId, this.roles).history;
  }

  /** Adds a candidate to a draft election: the organiser's joins `candidates`; a co-organiser's stands by its grant. */
  addCandidate(electionId: string, input: CandidateInput): CRDTEntity {
    const election = this.#election(electionId, [ElectionStatus.draft], 'candidates can only be added while the election is a draft');
    this.#organiserOnly(election.oid, 'add candidates');
    const candidate = this.create('Candidate', { ...input, election: election.oid });
    if (this.isOwner(election.oid)) election.addChild('candidates', candidate);
    return candidate;
  }

  /**
   * Withdraws a candidate from a draft election (the candidate is deleted). Each organiser withdraws
   * the candidates it added; the organiser drops a co-organiser's candidates by revoking it.
   */
  removeCandidate(electionId: string, candidateId: string): void {
    const election = this.#election(electionId, [ElectionStatus.draft], 'candidates can only be removed while the election is a draft');
    this.#organiserOnly(election.oid, 'remove candidates');
    if (!this.candidates(election.oid).has(candidateId))
      throw new ValidationError('Election', 'candidates', 'candidate', `${candidateId} does not stand in this election`);
    if (this.roles === ElectionRoles.enforced && ownerOf(candidateId) !== this.deviceId)
      throw new ValidationError(
        'Election',
        'candidates',
        'organiser',
        this.isOwner(election.oid)
          ? 'a co-organiser added this candidate: only it can withdraw it (or remove the co-organiser)'
          : 'only the organiser can withdraw the candidates it added',
      );
    if (election.childOids('candidates').includes(candidateId)) election.removeChild('candidates', candidateId);
    this.delete(candidateId);
  }

  /**
   * Registers a voter; the voter number must be unique in the model. With roles enforced the voter
   * belongs to this device: only it can edit the voter, register it for elections and vote as it.
   */
  registerVoter(input: VoterInput): CRDTEntity {
    return this.create('Voter', { ...input });
  }

  /** Registers a voter for an election that is not closed: with roles enforced, a request the organiser approves. */
  registerForElection(voterId: string, electionId: string): void {
    const voter = this.#voter(voterId);
    this.#election(electionId, [ElectionStatus.draft, ElectionStatus.open], 'voters cannot register for a closed election');
    this.#ownVoterOnly(voter.oid, 'register it for an election');
    voter.addChild('elections', electionId);
  }

  /** Takes a voter off a draft election's register. */
  unregisterFromElection(voterId: string, electionId: string): void {
    const voter = this.#voter(voterId);
    this.#election(electionId, [ElectionStatus.draft], 'voters can only be unregistered while the election is a draft');
    this.#ownVoterOnly(voter.oid, 'unregister it');
    voter.removeChild('elections', electionId);
  }

  /**
   * The organiser or a co-organiser approves a voter who registered for an election that is not
   * closed, with an `Approval` of its own. False if the voter is approved already.
   */
  approveVoter(electionId: string, voterId: string): boolean {
    const election = this.#election(electionId, [ElectionStatus.draft, ElectionStatus.open], 'voters can only be approved before the election closes');
    this.#organiserOnly(election.oid, 'approve voters');
    const voter = this.#voter(voterId);
    if (!voter.childOids('elections').includes(election.oid))
      throw new ValidationError('Election', 'approvedVoters', 'registered', `voter ${voter.oid} has not registered for this election`);
    if (this.isApproved(election.oid, voter.oid)) return false;
    // An entity, not a relation item: its deletion stays in state, so a closed round can set it aside.
    this.create('Approval', { election: election.oid, voter: voter.oid });
    return true;
  }

  /**
   * Withdraws this device's approval of a voter while the election is a draft: its `Approval`s
   * (and, for the organiser, an older `approvedVoters` item). Another organiser's approval stays.
   * False if this device had not approved the voter.
   */
  revokeVoter(electionId: string, voterId: string): boolean {
    const election = this.#election(electionId, [ElectionStatus.draft], 'approvals can only be withdrawn while the election is a draft');
    this.#organiserOnly(election.oid, 'withdraw approvals');
    const listed = this.isOwner(election.oid) && election.removeChild('approvedVoters', voterId);
    const own = this.findBy('Approval', 'voter', voterId).filter((a) => a.getAttribute('election') === election.oid && ownerOf(a.oid) === this.deviceId);
    for (const approval of own) this.delete(approval.oid);
    return listed || own.count > 0;
  }

  /**
   * True if the organiser or an effective co-organiser approved the voter for the election (always
   * true with open roles, which have no approval).
   */
  isApproved(electionId: string, voterId: string): boolean {
    if (this.roles === ElectionRoles.open) return true;
    const election = this.#election(electionId);
    if (election.childOids('approvedVoters').includes(voterId)) return true;
    // By voter, not by election: a voter has few approvals, an election may have thousands.
    const approvals = this.findBy('Approval', 'voter', voterId).filter((approval) => approval.getAttribute('election') === election.oid);
    if (!approvals.count) return false;
    const approvers = [...this.coOrganisersOf(election.oid), ownerOf(election.oid)];
    return approvals.find((approval) => approvers.includes(ownerOf(approval.oid) ?? '')) !== undefined;
  }

  /** Every voter approved for the election, by the organiser or an effective co-organiser (see `isApproved`). */
  approvedVoters(electionId: string): ReadonlySet<string> {
    return approvedVotersOf(this, electionId, this.roles);
  }

  /** Live voters who registered for the election and wait for approval (none with open roles). */
  pendingVoters(electionId: string): Entities {
    this.#election(electionId);
    if (this.roles === ElectionRoles.open) return new Entities([]);
    const approved = this.approvedVoters(electionId);
    return this.voters().filter((voter) => voter.childOids('elections').includes(electionId) && !approved.has(voter.oid));
  }

  /**
   * Opens a draft election with at least one candidate, or (the organiser only) reopens a closed
   * one: a `VotingEvent` carrying this device's causal context, so ballots name it and every
   * replica can tell, from causality, which ballots came after it. A sealed election opens with
   * `sealKey`, the public key of a pair this device made and keeps (see `openSealedElection`).
   * Returns the opening.
   */
  openElection(electionId: string, options: { readonly sealKey?: string } = {}): CRDTEntity {
    const election = this.#election(electionId, [ElectionStatus.draft, ElectionStatus.closed], 'voting is open already');
    const reopening = this.statusOf(election.oid) === ElectionStatus.closed;
    if (reopening && !this.isOwner(election.oid))
      throw new ValidationError('Election', undefined, 'organiser', 'only the organiser of this election can reopen voting');
    this.#organiserOnly(election.oid, 'open it');
    if (!this.candidates(election.oid).count) throw new ValidationError('Election', 'candidates', 'candidate', 'an election needs a candidate to open');
    const sealed = election.getAttribute('sealed') === true;
    if (sealed && !options.sealKey)
      throw new ValidationError('Election', 'sealed', 'sealed', 'a sealed election opens with a key this device holds (openSealedElection)');
    if (!sealed && options.sealKey) throw new ValidationError('Election', 'sealed', 'sealed', 'this election is not sealed');
    return this.#votingEvent(election.oid, VotingAction.open, sealed ? { sealKey: options.sealKey } : {});
  }

  /**
   * Closes open voting: a `VotingEvent` carrying this device's causal context. Exactly the ballots
   * this device has received by now count; a ballot arriving later, whatever time it claims, is
   * cast after voting closed, on every replica. Returns the closing.
   */
  closeElection(electionId: string): CRDTEntity {
    const election = this.#election(electionId, [ElectionStatus.open], 'only an open election can be closed');
    this.#organiserOnly(election.oid, 'close it');
    return this.#votingEvent(election.oid, VotingAction.close, {});
  }

  /** The ballots that count if this device closes voting now (the count a close confirmation states); sealed ones included. */
  ballotsCountingAtClose(electionId: string): number {
    const tally = this.tally(electionId);
    return tally.counted + tally.sealed;
  }

  /**
   * Publishes the private key (base64url PKCS #8) of a closed round this device opened, so every
   * device can open its sealed ballots. Returns the `unseal` event.
   */
  publishRoundKey(electionId: string, openingId: string, privateKey: string): CRDTEntity {
    const election = this.#election(electionId);
    const round = this.#roundOf(election.oid, openingId);
    if (!round?.close) throw new ValidationError('VotingEvent', 'key', 'status', 'a round’s key is published only after it closed');
    if (this.roles === ElectionRoles.enforced && ownerOf(openingId) !== this.deviceId)
      throw new ValidationError('VotingEvent', 'key', 'owner', 'only the device that opened the round holds its key');
    return this.createManaged('VotingEvent', { election: election.oid, action: VotingAction.unseal, at: this.#stamp(), opening: openingId, key: privateKey });
  }

  /** The round (of the election's history) one of whose openings is `openingId`. */
  #roundOf(electionId: string, openingId: string): VotingRound | undefined {
    return this.votingHistory(electionId).rounds.find((round) => round.openings.some((o) => o.oid === openingId));
  }

  #votingEvent(electionId: string, action: VotingAction, extra: { sealKey?: string }): CRDTEntity {
    // What this device has seen before the event: the event's own dots come after it.
    const context = JSON.stringify(this.version.toJSON());
    return this.createManaged('VotingEvent', { election: electionId, action, at: this.#stamp(), context, ...extra });
  }

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
    return this.createManaged('Ballot', {
      voter: voter.oid,
      election: election.oid,
      candidate: input.candidateId,
      castAt: this.#stamp(),
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
    const oid = this.newOid('Ballot');
    const sealed = await sealChoice(first.sealKey!, input.candidateId, { election: first.election.oid, opening: first.opening, voter: first.voter.oid, ballot: oid });
    // Encrypting took a while: voting may have closed, or another tab voted, meanwhile.
    const { election, voter, opening } = this.#ballotChecks(input);
    if (opening !== first.opening) throw new ValidationError('Election', 'status', 'status', 'voting closed and reopened while the ballot was being sealed; vote again');
    return this.createManaged('Ballot', { voter: voter.oid, election: election.oid, castAt: this.#stamp(), channel: input.channel, opening, sealed }, { oid });
  }

  #ballotChecks(input: BallotInput): { election: CRDTEntity; voter: CRDTEntity; opening: string; sealKey: string | null } {
    const election = this.#election(input.electionId, [ElectionStatus.open], 'ballots can only be cast while the election is open');
    const voter = this.#voter(input.voterId);
    if (!this.isMyVoter(voter.oid))
      throw new ValidationError('Ballot', 'voter', 'not-voters-device', `only the voter's own device can vote as ${String(voter.getAttribute('name'))}`);
    if (!voter.childOids('elections').includes(election.oid))
      throw new ValidationError('Ballot', 'voter', 'registered', `voter ${voter.oid} is not registered for this election`);
    if (!this.isApproved(election.oid, voter.oid))
      throw new ValidationError('Ballot', 'voter', 'not-approved', `the organiser has not approved ${String(voter.getAttribute('name'))} for this election yet`);
    const window = votingWindow(this, election.oid);
    if (!window.standing.has(input.candidateId))
      throw new ValidationError('Ballot', 'candidate', 'candidate', `${input.candidateId} does not stand in this election`);
    // Deleted ballots too: a cast ballot stays (see `tallyElection`).
    const voted = this.entities('Ballot', { includeDeleted: true }).find((ballot) => {
      if (ballot.getAttribute('election') !== election.oid || ballot.getAttribute('voter') !== voter.oid) return false;
      const flaw = ballotFlaw(this, window, ballot);
      return flaw === undefined || flaw === SEALED;
    });
    if (voted) throw new ValidationError('Ballot', 'voter', 'already-voted', `voter ${voter.oid} has already voted in this election`);
    const round = window.history.rounds[window.history.rounds.length - 1]!;
    return { election, voter, opening: round.openings[0]!.oid, sealKey: round.sealKey };
  }

  /** The tally of an election (see `tallyElection`); sealed choices count once `unsealed` (from `unsealElection`) opens them. */
  tally(electionId: string, unsealed?: UnsealedChoices): Tally {
    return tallyElection(this, electionId, this.roles, unsealed);
  }

  /** Live elections, and deleted ones whose last closing had not seen the deletion (their result stays). */
  elections(): Entities {
    return this.entities('Election', { includeDeleted: true }).filter((election) => !election.isDeleted || keptByClose(this, election));
  }

  /** Live candidates standing in an election: the organiser's, then effective co-organisers' (see `standingCandidatesOf`). */
  candidates(electionId: string): Entities {
    return new Entities(standingCandidatesOf(this, electionId, this.roles).values());
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
    const election = liveElection(this, electionId);
    if (!statuses) return election;
    const status = this.statusOf(election.oid);
    if (!statuses.includes(status)) throw new ValidationError('Election', 'status', 'status', `${message} (it is ${status})`);
    return election;
  }

  // Live grants the organiser made for the election, effective or not (a grant for itself is inert).
  #ownGrants(electionId: string): Entities {
    const organiser = ownerOf(electionId);
    return this.findBy('CoOrganiser', 'election', electionId).filter((grant) => ownerOf(grant.oid) === organiser);
  }

  #enforcedOnly(what: string): void {
    if (this.roles !== ElectionRoles.enforced)
      throw new ValidationError('Election', undefined, 'roles', `${what} need election roles enforced (with open roles everyone organises)`);
  }

  #organiserOnly(electionId: string, action: string): void {
    if (!this.isOrganiser(electionId)) throw new ValidationError('Election', undefined, 'organiser', `only the organiser of this election can ${action}`);
  }

  #ownVoterOnly(voterId: string, action: string): void {
    if (!this.isMyVoter(voterId)) throw new ValidationError('Voter', undefined, 'voter', `only the voter's own device can ${action}`);
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

// Concepts whose `election` reference ties them to one election's record.
const ELECTION_PARTS: ReadonlySet<string> = new Set(['Candidate', 'Ballot', 'Approval', 'VotingEvent', 'CoOrganiser']);

const DEVICE_ID = new RegExp(`^[A-Za-z0-9_-]{${DEVICE_ID_CHARS}}$`);

// Who the owning device of each concept is, for refusal messages.
const OWNER_ROLE: Readonly<Record<string, string>> = {
  Election: "the organiser's device",
  Candidate: 'the device that added it',
  CoOrganiser: "the organiser's device that granted it",
  Approval: 'the device that approved',
  VotingEvent: 'the device that opened or closed voting',
  Voter: "the voter's own device",
  Ballot: 'the device that cast it',
  Room: 'the device that created the room',
  Member: "the member's own device",
};
