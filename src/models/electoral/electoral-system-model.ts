import type { NodeId } from '../../crdt/index.js';
import {
  type AttributeChange,
  type AttributeValue,
  type AttributeValues,
  type CRDTEntity,
  type ConflictResolution,
  type CreateOptions,
  DEVICE_ID_CHARS,
  DomainModel,
  type DomainModelOptions,
  type Entities,
  type ModelChange,
  ValidationError,
  deviceOf,
  ownedOid,
  ownerOf,
} from '../../domain/index.js';
import { type BallotInput, BallotBox } from './ballot-box.js';
import { CoOrganisers } from './co-organisers.js';
import { type CandidateInput, type ElectionInput, Elections } from './elections.js';
import { createProblemOf, lockProblemOf } from './election-locks.js';
import { ElectionRoles, ElectionStatus, electoralSchema } from './electoral-schema.js';
import type { Tally, UnsealedChoices } from './tally.js';
import { type VoterInput, VoterRoll } from './voter-roll.js';
import type { VotingHistory } from './voting-history.js';
import { VotingPeriod } from './voting-period.js';

/** Options of an `ElectoralSystemModel`: a `DomainModel`'s, with the schema fixed. */
export interface ElectoralSystemModelOptions extends Omit<DomainModelOptions, 'schema'> {
  /**
   * `enforced` (default): ownership rules over verified authors (see `ElectionRoles`); the node id
   * must start with a device id, and `newId`, if given, must make 21 URL-safe characters (the
   * random part of an owned oid). `open`: no ownership rules.
   */
  readonly roles?: ElectionRoles;
}

/** What the model's facets may do beyond its public API: make entities as only the model does. */
export interface ElectoralModelWrites {
  /** The model's `createManaged`: ballots and voting events carry managed attributes. */
  createManaged(concept: string, values: AttributeValues, options?: CreateOptions): CRDTEntity;
  /** The model's `newOid`: a sealed ballot's oid is bound into its sealed choice before it is made. */
  newOid(concept: string): string;
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
 *
 * The model keeps the rules (ownership here, the locks of an election's state in
 * `election-locks.ts`) and composes facets that hold the operations and queries: `Elections`,
 * `CoOrganisers`, `VoterRoll`, `VotingPeriod` and `BallotBox`. Its methods pass calls on to them.
 */
export class ElectoralSystemModel extends DomainModel {
  /** Whether ownership rules apply (see `ElectionRoles`). */
  readonly roles: ElectionRoles;
  /** This replica's device id (the first 32 characters of its node id), if it has one. */
  readonly deviceId: string | undefined;
  // The facets: each holds the operations and queries of one part of the model and acts through
  // the model's own methods.
  readonly #elections = new Elections(this);
  readonly #coOrganisers = new CoOrganisers(this);
  readonly #voterRoll = new VoterRoll(this);
  readonly #writes: ElectoralModelWrites = {
    createManaged: (concept, values, options) => this.createManaged(concept, values, options),
    newOid: (concept) => this.newOid(concept),
  };
  readonly #votingPeriod = new VotingPeriod(this, this.#writes);
  readonly #ballotBox = new BallotBox(this, this.#writes);

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

  /** Why no device may now change this entity, in words, or undefined (see `lockProblemOf`). */
  lockProblem(concept: string, oid: string, deleting = false): string | undefined {
    return lockProblemOf(this, concept, oid, deleting);
  }

  /** Why a generic editor (the model explorer) should not offer to create a `concept` here, in words, or undefined (see `createProblemOf`). */
  createProblem(concept: string): string | undefined {
    return createProblemOf(this, concept);
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

  // ---------------------------------------------------------------- co-organisers

  // Each passes the call on to the `CoOrganisers` facet (co-organisers.ts), where it is documented.

  organiserOf(electionId: string): string | undefined {
    return this.#coOrganisers.organiserOf(electionId);
  }

  isOwner(electionId: string, node: string = this.nodeId): boolean {
    return this.#coOrganisers.isOwner(electionId, node);
  }

  isOrganiser(electionId: string, node: string = this.nodeId): boolean {
    return this.#coOrganisers.isOrganiser(electionId, node);
  }

  coOrganisersOf(electionId: string): string[] {
    return this.#coOrganisers.coOrganisersOf(electionId);
  }

  addCoOrganiser(electionId: string, deviceId: string): CRDTEntity {
    return this.#coOrganisers.addCoOrganiser(electionId, deviceId);
  }

  removeCoOrganiser(electionId: string, deviceId: string): boolean {
    return this.#coOrganisers.removeCoOrganiser(electionId, deviceId);
  }

  // ---------------------------------------------------------------- voter roll

  // Each passes the call on to the `VoterRoll` facet (voter-roll.ts), where it is documented.

  voters(): Entities {
    return this.#voterRoll.voters();
  }

  voterByNumber(voterNumber: string): CRDTEntity | undefined {
    return this.#voterRoll.voterByNumber(voterNumber);
  }

  isMyVoter(voterId: string): boolean {
    return this.#voterRoll.isMyVoter(voterId);
  }

  myVoters(): Entities {
    return this.#voterRoll.myVoters();
  }

  myVoter(): CRDTEntity | undefined {
    return this.#voterRoll.myVoter();
  }

  registerVoter(input: VoterInput): CRDTEntity {
    return this.#voterRoll.registerVoter(input);
  }

  registerForElection(voterId: string, electionId: string): void {
    this.#voterRoll.registerForElection(voterId, electionId);
  }

  unregisterFromElection(voterId: string, electionId: string): void {
    this.#voterRoll.unregisterFromElection(voterId, electionId);
  }

  approveVoter(electionId: string, voterId: string): boolean {
    return this.#voterRoll.approveVoter(electionId, voterId);
  }

  revokeVoter(electionId: string, voterId: string): boolean {
    return this.#voterRoll.revokeVoter(electionId, voterId);
  }

  isApproved(electionId: string, voterId: string): boolean {
    return this.#voterRoll.isApproved(electionId, voterId);
  }

  approvedVoters(electionId: string): ReadonlySet<string> {
    return this.#voterRoll.approvedVoters(electionId);
  }

  pendingVoters(electionId: string): Entities {
    return this.#voterRoll.pendingVoters(electionId);
  }

  // ---------------------------------------------------------------- voting period

  // Each passes the call on to the `VotingPeriod` facet (voting-period.ts), where it is documented.

  statusOf(electionId: string): ElectionStatus {
    return this.#votingPeriod.statusOf(electionId);
  }

  votingHistory(electionId: string): VotingHistory {
    return this.#votingPeriod.votingHistory(electionId);
  }

  openElection(electionId: string, options: { readonly sealKey?: string } = {}): CRDTEntity {
    return this.#votingPeriod.openElection(electionId, options);
  }

  closeElection(electionId: string): CRDTEntity {
    return this.#votingPeriod.closeElection(electionId);
  }

  ballotsCountingAtClose(electionId: string): number {
    return this.#votingPeriod.ballotsCountingAtClose(electionId);
  }

  publishRoundKey(electionId: string, openingId: string, privateKey: string): CRDTEntity {
    return this.#votingPeriod.publishRoundKey(electionId, openingId, privateKey);
  }

  // ---------------------------------------------------------------- elections and candidates

  // Each passes the call on to the `Elections` facet (elections.ts), where it is documented.

  elections(): Entities {
    return this.#elections.elections();
  }

  createElection(input: ElectionInput): CRDTEntity {
    return this.#elections.createElection(input);
  }

  isSealed(electionId: string): boolean {
    return this.#elections.isSealed(electionId);
  }

  candidates(electionId: string): Entities {
    return this.#elections.candidates(electionId);
  }

  addCandidate(electionId: string, input: CandidateInput): CRDTEntity {
    return this.#elections.addCandidate(electionId, input);
  }

  removeCandidate(electionId: string, candidateId: string): void {
    this.#elections.removeCandidate(electionId, candidateId);
  }

  tally(electionId: string, unsealed?: UnsealedChoices): Tally {
    return this.#elections.tally(electionId, unsealed);
  }

  // ---------------------------------------------------------------- ballots

  // Each passes the call on to the `BallotBox` facet (ballot-box.ts), where it is documented.

  castBallot(input: BallotInput): CRDTEntity {
    return this.#ballotBox.castBallot(input);
  }

  castSealedBallot(input: BallotInput): Promise<CRDTEntity> {
    return this.#ballotBox.castSealedBallot(input);
  }

  ballots(electionId: string): Entities {
    return this.#ballotBox.ballots(electionId);
  }
}

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
