import { VersionVector } from '../crdt/index.js';
import type { ApplyChangesResult } from '../domain/model-change.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { WorkSlicer } from '../domain/work-slicer.js';
import type { VerifiedBatch } from '../security/change-certification.js';
import { isBroadcastMessage } from './broadcast/broadcast-message.js';
import type { DeltaArrival, DeltaRoots } from './broadcast/epidemic-broadcast.js';
import { rootsBeyond } from './broadcast/roots-beyond.js';
import type { PeerLink } from './peer-link.js';
import { applyInSlices } from './sliced-apply.js';
import type { StateRepair } from './state-repair.js';
import type { SyncContext } from './sync-context.js';
import type { SyncSender } from './sync-sender.js';
import { type AckMessage, type DeltaMessage, type HelloMessage, SYNC_PROTOCOLS, type SyncMessage, type VersionMessage } from './sync-message.js';

/**
 * What the engine does with each message a peer sends, once the inbound pipeline decoded (and,
 * where changes are signed, verified) it: the handshake, deltas applied and acknowledged, acks and
 * version reports that correct what the peer is believed to hold. Digest buckets and repairs go
 * to `StateRepair`, Plumtree's messages to the epidemic broadcast.
 */
export class SyncMessageHandlers {
  constructor(
    private readonly context: Pick<SyncContext, 'models' | 'broadcast' | 'logger' | 'isCurrent' | 'emit' | 'offence'>,
    private readonly sender: Pick<SyncSender, 'sendDelta' | 'sendVersion' | 'sendAck'>,
    private readonly repair: Pick<StateRepair, 'noteDigest' | 'updateSyncState' | 'handleBuckets' | 'handleRepair'>,
    private readonly slicer: WorkSlicer,
  ) {}

  /** A promise where a large delta is applied in slices (the peer's next message waits for it). */
  handle(peer: PeerLink, message: SyncMessage, verified: VerifiedBatch | undefined): Promise<void> | undefined {
    const { broadcast, models } = this.context;
    if (message.t === 'error') {
      this.context.logger.warn(`peer ${peer.peerId} closed the sync: ${message.reason}`);
      peer.connection.close(`peer reported: ${message.reason}`);
      return;
    }
    if (message.t === 'hello') return void this.handleHello(peer, message);
    if (peer.protocol === null) return void this.context.offence(peer, `${message.t} before hello`);
    if (message.t === 'delta') return this.handleDelta(peer, message, verified);
    if (message.t === 'ack') return void this.handleAck(peer, message);
    if (message.t === 'version') return void this.handleVersion(peer, message);
    if (message.t === 'buckets') return void this.repair.handleBuckets(peer, message);
    if (message.t === 'repair') return void this.repair.handleRepair(peer, message, verified);
    if (isBroadcastMessage(message)) {
      if (!broadcast.speaks(peer)) return void this.context.offence(peer, `${message.t} without protocol 4`);
      if (message.t !== 'prune' && !models.has(message.model)) return;
      return void broadcast.handle(peer, message);
    }
    peer.name = message.name;
    this.context.emit({ type: 'peer-info', peerId: peer.peerId, name: message.name });
  }

  /** The peer claims to hold `have` of `modelId` (an epidemic broadcast announcement), with its digest when it sent one. */
  claimed(peer: PeerLink, modelId: string, have: VersionVector, digest: string | undefined, digestSent: boolean): void {
    const state = peer.share(modelId);
    state.holds(have);
    this.context.models.noteConfirmed(modelId, state.confirmed!);
    if (digestSent) this.repair.noteDigest(peer, modelId, state.confirmed!, digest);
    this.repair.updateSyncState(peer, modelId);
  }

  private handleHello(peer: PeerLink, hello: HelloMessage): void {
    const { models } = this.context;
    if (peer.protocol !== null) return this.context.offence(peer, 'second hello');
    if (hello.node !== peer.peerId)
      return this.context.offence(peer, `hello names node ${hello.node}, but the connection is to ${peer.peerId}`);
    const common = hello.protocols.filter((p) => SYNC_PROTOCOLS.includes(p));
    if (common.length === 0) {
      const reason = `no common sync protocol (ours ${SYNC_PROTOCOLS.join(',')}, theirs ${hello.protocols.join(',')})`;
      peer.send({ t: 'error', reason });
      peer.connection.close(reason);
      return;
    }
    const shared = Object.entries(hello.models)
      .filter(([modelId]) => models.has(modelId))
      .map(([modelId, json]) => [modelId, VersionVector.fromJSON(json)] as const);
    peer.protocol = Math.max(...common);
    peer.name = hello.name ?? null;
    for (const [modelId, version] of shared) {
      // What we hold now accounts for itself on this link: a delta answering our hello that
      // carries it (our claim lagged behind, changes were still being stored) is no duplicate.
      peer.share(modelId, version).deliveredHere(models.get(modelId)!.model.version);
      models.noteConfirmed(modelId, version);
      this.repair.noteDigest(peer, modelId, version, hello.digests?.[modelId]);
    }
    this.context.emit({ type: 'peer-ready', peerId: peer.peerId });
    for (const [modelId] of shared) {
      this.sender.sendDelta(peer, modelId);
      this.repair.updateSyncState(peer, modelId);
    }
  }

  private handleDelta(peer: PeerLink, message: DeltaMessage, verified: VerifiedBatch | undefined): Promise<void> | undefined {
    const { models } = this.context;
    const { batch, seq, part, parts } = message;
    const refused = verified !== undefined && !verified.ok;
    // Parts arrive in order on a reliable connection; if one is missing anyway (a lost message),
    // or was refused, the rest are joined but the delta's version must not be adopted.
    const broken = peer.receivedPart(seq, part, parts, refused);
    const entry = models.get(batch.modelId);
    if (!entry) return; // A model we do not hold: not an offence, the peer may not know yet.
    // Whether the delta claims anything this replica lacked, taken before applying it, and if not,
    // whether this link had brought it all already (Plumtree's duplicate test).
    const version = VersionVector.fromJSON(batch.version);
    const arrival: DeltaArrival = !entry.model.version.includes(version) ? 'news' : peer.model(batch.modelId)?.delivered.includes(version) ? 'resent' : 'duplicate';
    // The writers whose changes it carries and brings: the broadcast trees it travelled.
    const roots: DeltaRoots = { carried: rootsBeyond(version, VersionVector.fromJSON(batch.since)), news: arrival === 'news' ? rootsBeyond(version, entry.model.version) : [] };
    // Where changes are signed, only signed evidence drops what this replica holds.
    const options = verified ? { evidence: verified.evidence } : {};
    const applying = applyInSlices(entry.model, batch, {
      slicer: this.slicer,
      verified,
      apply: options,
      partial: broken,
      stillWanted: () => this.context.isCurrent(peer) && models.get(batch.modelId) === entry,
    });
    if (!(applying instanceof Promise)) {
      this.deltaApplied(peer, message, refused, entry.model, applying, arrival, roots);
      return;
    }
    return applying.then((result) => {
      if (result) this.deltaApplied(peer, message, refused, entry.model, result, arrival, roots);
    });
  }

  /** The rest of a delta once its changes are applied: counts, what the peer holds, events, the ack. */
  private deltaApplied(peer: PeerLink, message: DeltaMessage, refused: boolean, model: SynchronizableDomainModel, result: ApplyChangesResult, arrival: DeltaArrival, roots: DeltaRoots): void {
    const { models, broadcast } = this.context;
    const { batch, part, parts } = message;
    const state = peer.share(batch.modelId);
    const peerVersion = VersionVector.fromJSON(batch.version);
    peer.count('changesReceived', batch.changes.length);
    peer.count('changesApplied', result.applied);
    peer.count('changesRejected', result.rejected.length);
    // The sender holds everything in its version, so none of it will be sent back. (Not taken
    // from a delta whose content was refused: nothing it says is.)
    if (!refused) {
      state.holds(peerVersion);
      models.noteConfirmed(batch.modelId, peerVersion);
      if (part === parts) this.repair.noteDigest(peer, batch.modelId, peerVersion, message.digest);
    }
    const peerId = peer.peerId;
    this.context.emit({ type: 'changes-applied', peerId, modelId: batch.modelId, result });
    if (parts > 1) this.context.emit({ type: 'sync-progress', peerId, modelId: batch.modelId, part, parts, items: new Set(batch.changes.map((change) => change.oid)).size });
    if (part === parts) {
      if (!refused) state.deliveredHere(peerVersion);
      // An ack says the changes are stored here: one for a delta that was taken waits until the
      // save holding it committed (`SyncScheduler.durable`). One that could not be taken goes at once.
      state.awaitingAck = peerVersion;
      state.awaitingAckSeq = message.seq;
      // A delta whose content came another way first prunes its link (the ack says so, or a `prune` if the ack waits).
      const prune = refused || result.rejected.length > 0 ? undefined : broadcast.delivered(peer, batch.modelId, result.applied > 0 ? 'news' : arrival, roots);
      const named = prune?.length ? { roots: prune } : {};
      if (!model.version.includes(peerVersion) || models.claimable(batch.modelId)!.includes(peerVersion)) this.sender.sendAck(peer, batch.modelId, prune);
      else if (prune) peer.send({ t: 'prune', ...named });
      this.repair.updateSyncState(peer, batch.modelId);
    }
    if (result.rejected.length > 0) this.context.offence(peer, `${result.rejected.length} change(s) rejected: ${result.rejected[0]!.reason}`);
  }

  private handleAck(peer: PeerLink, ack: AckMessage): void {
    const { models, broadcast } = this.context;
    if (!models.has(ack.model)) return;
    const state = peer.share(ack.model);
    const version = VersionVector.fromJSON(ack.version);
    state.reported(version, ack.seen);
    models.noteConfirmed(ack.model, version);
    this.repair.noteDigest(peer, ack.model, version, ack.digest);
    if (ack.prune && broadcast.speaks(peer)) broadcast.handle(peer, { t: 'prune', ...(ack.roots ? { roots: ack.roots } : {}) });
    if (ack.complete) state.progressed();
    // An incomplete ack: the peer lacked what the delta assumed, or refused some of it. Send
    // again from what it reports, unless the last resend got exactly this answer already. A
    // complete one lets more follow, on a lazy link too: there it can be a second copy of what
    // the tree brings, but with devices writing at once it often comes first (and grafts the
    // link), and it is what let a three-device room confirm its lazy link; without it, per-peer
    // "in sync" waited for anti-entropy in most runs (docs/benchmark-findings.md, round 6).
    if (ack.complete || state.shouldResend(version)) this.sender.sendDelta(peer, ack.model);
    this.repair.updateSyncState(peer, ack.model);
  }

  private handleVersion(peer: PeerLink, message: VersionMessage): void {
    const { models } = this.context;
    const entry = models.get(message.model);
    if (!entry) return;
    const lost = peer.sentUpTo(message.sent);
    const state = peer.share(message.model);
    const version = VersionVector.fromJSON(message.version);
    state.reported(version, message.seen);
    state.progressed();
    models.noteConfirmed(message.model, version);
    this.repair.noteDigest(peer, message.model, version, message.digest);
    this.sender.sendDelta(peer, message.model);
    // A request always gets our version. So does a reply that revealed lost deltas: our `seen`
    // tells the peer they are lost, not in flight, and it sends their changes again. Nothing
    // else is answered, so two peers that keep differing (one refuses the other's changes)
    // cannot bounce versions back and forth.
    if (message.request || lost) this.sender.sendVersion(peer, message.model, false);
    this.repair.updateSyncState(peer, message.model);
  }
}
