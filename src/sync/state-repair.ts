import { VersionVector, differingBuckets } from '../crdt/index.js';
import { decodeEntityState, isDecodeError as isStateError } from '../domain/index.js';
import { stateToChanges } from '../domain/entity-record.js';
import { CHANGE_FORMAT, type ChangeBatch, type EntityState } from '../domain/model-change.js';
import type { VerifiedBatch } from '../security/change-certification.js';
import type { PeerLink } from './peer-link.js';
import type { SyncContext } from './sync-context.js';
import type { BucketsMessage, RepairMessage } from './sync-message.js';
import type { SyncSender } from './sync-sender.js';

/**
 * Whether a peer is in sync, judged by state digests as well as versions, and the repair of a
 * difference at an equal version: the side that notices sends its digest buckets (`buckets`),
 * the other answers with its entities in the buckets that differ (`repair`), and the first side
 * answers in kind (docs/protocol.md).
 */
export class StateRepair {
  constructor(
    private readonly context: Pick<SyncContext, 'models' | 'certification' | 'logger' | 'emit' | 'offence'>,
    private readonly sender: Pick<SyncSender, 'sendVersion'>,
  ) {}

  /**
   * In sync: the peer holds exactly our version, and its digest for that version equals ours.
   * Equal versions alone can lie (a crash, a bug, a replica that adopted a claim it was not sent
   * the data of); the digests are computed by each side from the state it really holds.
   */
  isInSync(peer: PeerLink, modelId: string): boolean {
    const { models } = this.context;
    const state = peer.model(modelId);
    const entry = models.get(modelId);
    if (!state?.confirmed || !entry) return false;
    const version = entry.model.version;
    if (state.confirmed.compare(version) !== 'equal') return false;
    const report = state.reportedDigest;
    return report !== null && report.version.equals(version) && report.root === models.ownDigest(modelId);
  }

  /** Emits `peer-sync-state` where whether we are in sync with `peer` on `modelId` changed. */
  updateSyncState(peer: PeerLink, modelId: string): void {
    const state = peer.model(modelId);
    if (!state) return;
    const inSync = this.isInSync(peer, modelId);
    if (inSync === state.lastInSync) return;
    state.lastInSync = inSync;
    this.context.emit({ type: 'peer-sync-state', peerId: peer.peerId, modelId, inSync });
  }

  /** Records what the peer reported of its state, and starts a repair if it contradicts ours. */
  noteDigest(peer: PeerLink, modelId: string, version: VersionVector, digest: string | undefined): void {
    const { models } = this.context;
    const state = peer.model(modelId);
    const entry = models.get(modelId);
    if (!state || !entry) return;
    state.reportedDigest = digest === undefined ? null : { root: digest, version: version.clone() };
    const ours = models.ownDigest(modelId);
    if (digest === undefined || ours === undefined || ours === digest || !version.equals(entry.model.version)) return;
    // Same version, other state: one repair per version, so a difference that a repair cannot
    // settle (say, one side refuses the other's entities) does not loop.
    const key = JSON.stringify(version.toJSON());
    if (state.repairedAt === key) return;
    state.repairedAt = key;
    this.context.logger.warn(`state differs from ${peer.peerId} at an equal version of ${modelId}: repairing`);
    this.context.emit({ type: 'state-mismatch', peerId: peer.peerId, modelId });
    peer.send({ t: 'buckets', model: modelId, version: version.toJSON(), buckets: entry.model.digestBuckets() });
  }

  handleBuckets(peer: PeerLink, message: BucketsMessage): void {
    const { models } = this.context;
    const entry = models.get(message.model);
    if (!entry || models.ownDigest(message.model) === undefined) return;
    if (!VersionVector.fromJSON(message.version).equals(entry.model.version)) return;
    const differing = differingBuckets(entry.model.digestBuckets(), message.buckets);
    if (differing.length) this.sendRepair(peer, message.model, differing, false);
  }

  /** Takes the peer's entities (verified, where changes are signed) and answers with ours once. */
  handleRepair(peer: PeerLink, message: RepairMessage, verified: VerifiedBatch | undefined): void {
    const { models } = this.context;
    const entry = models.get(message.model);
    if (!entry || (verified && !verified.ok)) return;
    // Entities carry whole states, so the copy of an equivocated operation cannot be taken out of
    // them: such a repair is not taken (the event says why the replicas stay apart).
    if (verified?.equivocations.length) return;
    // Where changes are signed, only signed evidence drops what this replica holds.
    const options = verified ? { evidence: verified.evidence } : {};
    const result = entry.model.repairEntities(message.entities, VersionVector.fromJSON(message.version), options);
    verified?.keep(new Set());
    if (result.rejected.length) this.context.offence(peer, `repair: ${result.rejected.length} entities refused: ${result.rejected[0]!.reason}`);
    this.context.emit({ type: 'state-repaired', peerId: peer.peerId, modelId: message.model, entities: result.applied });
    if (!message.reply && models.ownDigest(message.model) !== undefined) this.sendRepair(peer, message.model, message.buckets, true);
    // Tell the peer where this leaves us; what changed goes on to other peers as usual.
    this.sender.sendVersion(peer, message.model, false);
    this.updateSyncState(peer, message.model);
  }

  /** Sends the peer our entities in `buckets` (only ever stored state: we hold nothing unsaved). */
  private sendRepair(peer: PeerLink, modelId: string, buckets: readonly number[], reply: boolean): void {
    const entry = this.context.models.get(modelId)!;
    const entities = entry.model.entityStatesInBuckets(buckets);
    const certs = this.context.certification?.certificatesFor(modelId, entities.flatMap(stateToChanges));
    peer.send({ t: 'repair', model: modelId, version: entry.model.version.toJSON(), buckets, entities, reply, ...(certs ? { certs } : {}) });
  }
}

/** The items of a repair as a batch, for verification; undefined if an entity does not decode. */
export function repairBatch(message: RepairMessage): ChangeBatch | undefined {
  const states: EntityState[] = [];
  for (const raw of message.entities) {
    const state = decodeEntityState(raw);
    if (isStateError(state)) return undefined;
    states.push(state);
  }
  return { format: CHANGE_FORMAT, modelId: message.model, since: {}, version: message.version, changes: states.flatMap(stateToChanges), partial: true };
}
