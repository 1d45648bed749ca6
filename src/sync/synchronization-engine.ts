import type { NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/index.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import { type WorkSlicer, workSlicer } from '../domain/work-slicer.js';
import type { PeerConnection } from '../net/transport.js';
import { ChangeCertification } from '../security/change-certification.js';
import { Listeners } from '../util/listeners.js';
import { EpidemicBroadcast } from './broadcast/epidemic-broadcast.js';
import { DigestKeeper, idleSlicer } from './digest-keeper.js';
import { InboundPipeline } from './inbound-pipeline.js';
import { OffenderBans } from './offender-bans.js';
import { OwnChangeCertifier } from './own-change-certifier.js';
import { PeerLink } from './peer-link.js';
import { StateRepair } from './state-repair.js';
import type { SyncContext, SyncLogger } from './sync-context.js';
import { type PeerStatus, type SyncCounters, type SyncEngineEvent, type SyncResult, emptyCounters } from './sync-engine-event.js';
import { MAX_DISPLAY_NAME_CHARS } from './sync-message.js';
import { SyncMessageHandlers } from './sync-message-handlers.js';
import { SyncScheduler } from './sync-scheduler.js';
import { SyncSender } from './sync-sender.js';
import { SyncedModels } from './synced-models.js';
import type { RegisterModelOptions, SynchronizationEngineOptions } from './synchronization-engine-options.js';

export type { PeerModelStatus, PeerStatus, SyncCounters, SyncEngineEvent, SyncResult } from './sync-engine-event.js';
export type { SyncLogger } from './sync-context.js';
export type { ModelDurability } from './synced-models.js';
export type { RegisterModelOptions, SynchronizationEngineOptions } from './synchronization-engine-options.js';

/**
 * The seed's `SynchronizationEngine`. On every connection both sides say what they hold (hello);
 * each then sends exactly what the other lacks. Afterwards every local edit and every change
 * learned from one peer goes, batched per event-loop turn, to each peer that lacks it (so a
 * partial mesh converges), never back to where it came from. Acks and periodic anti-entropy
 * correct what the engine believes a peer holds, so nothing lost stays missing. The protocol is
 * described in docs/protocol.md.
 *
 * The engine holds the connections, bans and events and wires its parts, which share a small
 * `SyncContext` (never the engine) and take of one another only the methods they call:
 * `SyncedModels` (what this node may claim), `SyncSender` (what goes out), `SyncScheduler` (when
 * it goes), `InboundPipeline` (decoding and verifying what comes in, in order),
 * `SyncMessageHandlers` (what each message does), `StateRepair` (digests and repairs) and
 * `OwnChangeCertifier` (signing own changes).
 */
export class SynchronizationEngine {
  readonly nodeId: NodeId;
  /** Certificates and their checks, when changes are signed (the `signer` option). */
  readonly certification: ChangeCertification | undefined;
  private readonly models: SyncedModels;
  private readonly peers = new Map<NodeId, PeerLink>();
  private readonly listeners: Listeners<[SyncEngineEvent]>;
  /** Engine-wide counters: unlike the per-peer ones they survive disconnections. */
  private readonly counters = emptyCounters();
  private readonly bans: OffenderBans;
  /** Which links changes are pushed on and which they are announced on (src/sync/broadcast/). */
  private readonly broadcast: EpidemicBroadcast;
  private readonly sender: SyncSender;
  private readonly repair: StateRepair;
  private readonly scheduler: SyncScheduler;
  private readonly certifier: OwnChangeCertifier;
  private readonly handlers: SyncMessageHandlers;
  private readonly inbound: InboundPipeline;
  private readonly maxOffences: number;
  private readonly logger: SyncLogger;
  private readonly digestSlicer: WorkSlicer;
  private displayName: string | null;

  constructor(options: SynchronizationEngineOptions) {
    this.nodeId = options.nodeId;
    const antiEntropyIntervalMs = options.antiEntropyIntervalMs ?? 30_000;
    const maxChangesPerMessage = options.maxChangesPerMessage ?? 2_000;
    const slicer = options.slicer ?? workSlicer();
    this.digestSlicer = options.digestSlicer ?? idleSlicer();
    const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.maxOffences = options.maxOffences ?? 10;
    this.displayName = checkDisplayName(options.displayName ?? null);
    this.certification = options.signer && new ChangeCertification(options.signer);
    this.bans = new OffenderBans(options.bans);
    this.logger = options.logger ?? { warn: (message, details) => console.warn(`[sync] ${message}`, details ?? '') };
    this.listeners = new Listeners(this.logger, 'sync event');
    this.models = new SyncedModels(this.nodeId);
    this.broadcast = new EpidemicBroadcast(
      {
        nodeId: this.nodeId,
        models: () => this.models.keys(),
        sharingPeers: (modelId) => this.sharingPeers(modelId),
        claimable: (modelId) => this.models.claimable(modelId),
        held: (modelId) => this.models.get(modelId)?.model.version,
        ownDigest: (modelId) => this.models.ownDigest(modelId),
        sendDelta: (peer, modelId) => this.sender.sendDelta(peer, modelId),
        claimed: (peer, modelId, have, digest, digestSent) => this.handlers.claimed(peer, modelId, have, digest, digestSent),
      },
      options.broadcast,
    );
    const context: SyncContext = {
      nodeId: this.nodeId,
      models: this.models,
      certification: this.certification,
      broadcast: this.broadcast,
      logger: this.logger,
      isCurrent: (peer) => this.peers.get(peer.peerId) === peer,
      readyPeers: () => this.readyPeers(),
      sharingPeers: (modelId) => this.sharingPeers(modelId),
      emit: (event) => this.emit(event),
      offence: (peer, reason) => this.offence(peer, reason),
    };
    this.sender = new SyncSender(context, maxChangesPerMessage);
    this.repair = new StateRepair(context, this.sender);
    this.scheduler = new SyncScheduler(context, this.sender, this.repair, antiEntropyIntervalMs);
    this.certifier = new OwnChangeCertifier(context, (modelId) => this.scheduler.markDirty(modelId));
    this.handlers = new SyncMessageHandlers(context, this.sender, this.repair, slicer);
    this.inbound = new InboundPipeline(
      context,
      { maxMessageBytes, slicer, verification: options.verification },
      (peer, message, verified) => this.handlers.handle(peer, message, verified),
      (peer, modelId) => this.sender.sendVersion(peer, modelId, true, true),
    );
    if (!(antiEntropyIntervalMs >= 0)) throw new RangeError('antiEntropyIntervalMs must be 0 or more');
    for (const [name, value] of [
      ['maxChangesPerMessage', maxChangesPerMessage],
      ['maxMessageBytes', maxMessageBytes],
      ['maxOffences', this.maxOffences],
    ] as const)
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  }

  /** Starts periodic anti-entropy. Connections can be added before or after. */
  start(): void {
    this.broadcast.start();
    this.scheduler.start();
  }

  /** Stops anti-entropy and closes every connection the engine holds. Models stay registered. */
  stop(): void {
    this.scheduler.stop();
    this.broadcast.stop();
    for (const peer of [...this.peers.values()]) peer.connection.close('node stopped');
  }

  /** Subscribes to engine events; returns the unsubscribe function. */
  onEvent(listener: (event: SyncEngineEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Starts syncing `model` with every peer that holds a model of the same id. */
  registerModel(modelId: string, model: SynchronizableDomainModel, options: RegisterModelOptions = {}): void {
    if (this.models.has(modelId)) throw new Error(`model ${modelId} is already registered`);
    if (model.modelId !== modelId) throw new Error(`model id ${model.modelId} does not match ${modelId}`);
    const { durability } = options;
    const digest = new DigestKeeper(model, this.digestSlicer);
    const unsubscribeChange = model.onChange((detail) => {
      this.scheduler.markDirty(modelId);
      this.certifier.certify(modelId, detail.changes);
      void digest.changed();
    });
    const unsubscribeDurable = durability?.onDurable(() => this.scheduler.durable(modelId));
    const unsubscribe = () => {
      unsubscribeChange();
      unsubscribeDurable?.();
      digest.stop();
    };
    void digest.changed();
    this.models.add(modelId, { model, durability, unsubscribe });
    // Own items from before (storage, or this device's other tabs) may lack certificates. Only the
    // changes of node ids this device owns are read: the rest of a 10,000-entity room took 200 ms.
    const signer = this.certification?.signer;
    if (signer) {
      const others = new VersionVector();
      for (const node of model.version.nodes()) if (!signer.ownsNodeId(node)) others.update(node, model.version.maxSeen(node));
      this.certifier.certify(modelId, model.getChangesSince(others));
    }
    // Peers that hold it answer with their version, and the exchange starts as after a hello.
    for (const peer of this.readyPeers()) this.sender.sendVersion(peer, modelId, true);
  }

  /** Stops syncing a model; deltas for it are ignored from then on. */
  unregisterModel(modelId: string): void {
    this.models.remove(modelId);
    this.scheduler.forget(modelId);
    for (const peer of this.peers.values()) peer.unshare(modelId);
  }

  /**
   * Takes over an open connection: sends our hello, then handles every message from the peer.
   * A second connection to a peer that already has one replaces it.
   */
  addConnection(connection: PeerConnection): void {
    if (connection.peerId === this.nodeId) throw new Error('a connection to this node itself');
    const banned = this.bans.remainingMs(connection.peerId);
    if (banned > 0) {
      const reason = `refused: disconnected for repeated invalid messages, refused for ${Math.ceil(banned / 1000)} s more`;
      this.emit({ type: 'peer-offence', peerId: connection.peerId, reason });
      connection.close(reason);
      return;
    }
    this.peers.get(connection.peerId)?.connection.close('replaced by a newer connection');
    const peer = new PeerLink(connection, this.counters, (error) => this.logger.warn(`send to ${connection.peerId} failed`, error));
    this.peers.set(connection.peerId, peer);
    peer.unsubscribe.push(
      connection.onMessage((bytes) => this.inbound.receive(peer, bytes)),
      connection.onClose((reason) => this.removePeer(peer, reason)),
    );
    this.sender.sendHello(peer, this.displayName);
  }

  /**
   * The seed's `synchronize`: asks every connected peer holding the model to exchange what is
   * missing both ways, and resolves when all of them are in sync or `timeoutMs` passed.
   */
  async synchronize(modelId: string, timeoutMs = 10_000): Promise<SyncResult> {
    if (!this.models.has(modelId)) throw new Error(`model ${modelId} is not registered`);
    if (!(timeoutMs >= 0)) throw new RangeError('timeoutMs must be 0 or more');
    const started = performance.now();
    const before = { ...this.counters };
    for (const peer of this.readyPeers()) {
      peer.model(modelId)?.progressed();
      this.sender.sendVersion(peer, modelId, true);
      this.sender.sendDelta(peer, modelId);
    }
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.sharingPeers(modelId).every((peer) => this.repair.isInSync(peer, modelId))) done();
      };
      const done = () => {
        clearTimeout(timeout);
        unsubscribe();
        resolve();
      };
      const timeout = setTimeout(done, timeoutMs);
      const unsubscribe = this.onEvent(check);
      check();
    });
    const diff = Object.fromEntries(
      Object.entries(this.counters).map(([key, value]) => [key, value - before[key as keyof SyncCounters]]),
    ) as unknown as SyncCounters;
    const sharing = this.sharingPeers(modelId);
    return {
      ...diff,
      modelId,
      peers: sharing.length,
      inSyncPeers: sharing.filter((peer) => this.repair.isInSync(peer, modelId)).length,
      durationMs: performance.now() - started,
    };
  }

  /** Changes the name peers see for this device and tells every connected peer. */
  setDisplayName(name: string | null): void {
    this.displayName = checkDisplayName(name);
    for (const peer of this.readyPeers()) peer.send({ t: 'info', name: this.displayName });
  }

  /** Traffic of the whole session, every connection counted (also those closed since). */
  get totals(): SyncCounters {
    return { ...this.counters };
  }

  /**
   * The epidemic broadcast's links in `root`'s tree (default: the shared tree; eager: changes
   * pushed, lazy: announced), its timers pending, and the writers with a tree of their own here.
   */
  broadcastStatus(root?: NodeId): { eager: NodeId[]; lazy: NodeId[]; scheduled: number; roots: NodeId[] } {
    return { ...this.broadcast.links(this.readyPeers(), root), scheduled: this.broadcast.scheduled, roots: this.broadcast.sourceRoots };
  }

  /** Every connected peer, whether we are in sync with it per shared model, and its traffic. */
  peerStatus(): PeerStatus[] {
    return [...this.peers.values()].map((peer) => peer.status((modelId) => this.repair.isInSync(peer, modelId)));
  }

  /**
   * Own operations (seqs) of `modelId` past the highest one any peer confirmed holding, this
   * session or before (`setAcknowledgedOwnChanges`).
   */
  unsentChanges(modelId: string): number {
    return this.models.unsentChanges(modelId);
  }

  /** Tells the engine up to which own seq peers had confirmed holding changes before (e.g. from storage). */
  setAcknowledgedOwnChanges(modelId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
    this.models.setAcknowledgedOwnChanges(modelId, seq);
  }

  private offence(peer: PeerLink, reason: string): void {
    peer.offences += 1;
    this.logger.warn(`refused input from ${peer.peerId}: ${reason}`);
    this.emit({ type: 'peer-offence', peerId: peer.peerId, reason });
    if (peer.offences >= this.maxOffences && this.peers.get(peer.peerId) === peer) {
      const banned = this.bans.ban(peer.peerId);
      this.emit({ type: 'peer-offence', peerId: peer.peerId, reason: `disconnected after ${peer.offences} invalid messages; refused for ${Math.round(banned / 1000)} s` });
      peer.send({ t: 'error', reason: 'too many invalid messages' });
      peer.connection.close('too many invalid messages');
    }
  }

  private removePeer(peer: PeerLink, reason: string): void {
    if (this.peers.get(peer.peerId) !== peer) return;
    this.peers.delete(peer.peerId);
    this.broadcast.peerRemoved(peer.peerId, this.readyPeers());
    for (const unsubscribe of peer.unsubscribe) unsubscribe();
    this.emit({ type: 'peer-removed', peerId: peer.peerId, reason });
  }

  private readyPeers(): PeerLink[] {
    return [...this.peers.values()].filter((peer) => peer.ready);
  }

  private sharingPeers(modelId: string): PeerLink[] {
    return this.readyPeers().filter((peer) => peer.shares(modelId));
  }

  private emit(event: SyncEngineEvent): void {
    this.listeners.emit(event);
  }
}

/** Trims a display name; an empty one means none. Too long a name is the caller's bug. */
function checkDisplayName(name: string | null): string | null {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length > MAX_DISPLAY_NAME_CHARS) throw new RangeError(`a display name has at most ${MAX_DISPLAY_NAME_CHARS} characters`);
  return trimmed === '' ? null : trimmed;
}
