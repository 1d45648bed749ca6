import { type CRDTEntity, ValidationError, ownerOf } from '../../domain/index.js';
import { electionAuthority, votingStampsOf } from './election-authority.js';
import { clockStamp, electionIn, organiserOnly } from './election-guards.js';
import { ElectionRoles, ElectionStatus, VotingAction } from './electoral-schema.js';
import type { ElectoralModelWrites, ElectoralSystemModel } from './electoral-system-model.js';
import type { VotingHistory, VotingRound } from './voting-history.js';

/**
 * The voting-period facet of an `ElectoralSystemModel`: an election's status and voting history,
 * and the `VotingEvent`s that open, close and unseal it. The model passes its calls on to it, and
 * it calls back through the model, so a subclass overriding a method of the model sees its own
 * method used here too.
 */
export class VotingPeriod {
  constructor(
    private readonly model: ElectoralSystemModel,
    private readonly writes: ElectoralModelWrites,
  ) {}

  /** The status of an election, co-organisers' openings and closings included (see `votingStampsOf`). */
  statusOf(electionId: string): ElectionStatus {
    return votingStampsOf(this.model, electionId, this.model.roles).status;
  }

  /** The election's voting history: rounds, and every opening and closing with what it did (see `voting-history.ts`). */
  votingHistory(electionId: string): VotingHistory {
    return electionAuthority(this.model, electionId, this.model.roles).history;
  }

  /**
   * Opens a draft election with at least one candidate, or (the organiser only) reopens a closed
   * one: a `VotingEvent` carrying this device's causal context, so ballots name it and every
   * replica can tell, from causality, which ballots came after it. A sealed election opens with
   * `sealKey`, the public key of a pair this device made and keeps (see `openSealedElection`).
   * Returns the opening.
   */
  openElection(electionId: string, options: { readonly sealKey?: string } = {}): CRDTEntity {
    const election = electionIn(this.model, electionId, [ElectionStatus.draft, ElectionStatus.closed], 'voting is open already');
    const reopening = this.model.statusOf(election.oid) === ElectionStatus.closed;
    if (reopening && !this.model.isOwner(election.oid))
      throw new ValidationError('Election', undefined, 'organiser', 'only the organiser of this election can reopen voting');
    organiserOnly(this.model, election.oid, 'open it');
    if (!this.model.candidates(election.oid).count) throw new ValidationError('Election', 'candidates', 'candidate', 'an election needs a candidate to open');
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
    const election = electionIn(this.model, electionId, [ElectionStatus.open], 'only an open election can be closed');
    organiserOnly(this.model, election.oid, 'close it');
    return this.#votingEvent(election.oid, VotingAction.close, {});
  }

  /** The ballots that count if this device closes voting now (the count a close confirmation states); sealed ones included. */
  ballotsCountingAtClose(electionId: string): number {
    const tally = this.model.tally(electionId);
    return tally.counted + tally.sealed;
  }

  /**
   * Publishes the private key (base64url PKCS #8) of a closed round this device opened, so every
   * device can open its sealed ballots. Returns the `unseal` event.
   */
  publishRoundKey(electionId: string, openingId: string, privateKey: string): CRDTEntity {
    const election = electionIn(this.model, electionId);
    const round = this.#roundOf(election.oid, openingId);
    if (!round?.close) throw new ValidationError('VotingEvent', 'key', 'status', 'a round’s key is published only after it closed');
    if (this.model.roles === ElectionRoles.enforced && ownerOf(openingId) !== this.model.deviceId)
      throw new ValidationError('VotingEvent', 'key', 'owner', 'only the device that opened the round holds its key');
    return this.writes.createManaged('VotingEvent', { election: election.oid, action: VotingAction.unseal, at: clockStamp(this.model), opening: openingId, key: privateKey });
  }

  /** The round (of the election's history) one of whose openings is `openingId`. */
  #roundOf(electionId: string, openingId: string): VotingRound | undefined {
    return this.model.votingHistory(electionId).rounds.find((round) => round.openings.some((o) => o.oid === openingId));
  }

  #votingEvent(electionId: string, action: VotingAction, extra: { sealKey?: string }): CRDTEntity {
    // What this device has seen before the event: the event's own dots come after it.
    const context = JSON.stringify(this.model.version.toJSON());
    return this.writes.createManaged('VotingEvent', { election: electionId, action, at: clockStamp(this.model), context, ...extra });
  }
}
