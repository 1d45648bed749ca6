import type { NodeId } from '../crdt/dot.js';
import { VersionVector, differingBuckets } from '../crdt/index.js';
import { stateToChanges } from '../domain/entity-record.js';
import { type ApplyChangesResult, CHANGE_FORMAT, type ChangeBatch, type EntityState } from '../domain/model-change.js';
import { decodeEntityState, isDecodeError as isStateError } from '../domain/index.js';
import type { ModelChange } from '../domain/model-change.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { PeerConnection } from '../net/transport.js';
import { ChangeCertification, type ChangeSigner, type VerifiedBatch } from '../security/change-certification.js';
import { isBroadcastMessage } from './broadcast/broadcast-message.js';
import { type BroadcastHost, EpidemicBroadcast, type EpidemicBroadcastOptions } from './broadcast/epidemic-broadcast.js';
import { OffenderBans, type OffenderBanOptions } from './offender-bans.js';
import { PeerLink } from './peer-link.js';
import { VerificationBudget, type VerificationBudgetOptions } from './verification-budget.js';
import { decompressFrame, isCompressedFrame } from './frame-compression.js';
import { sendableChanges } from './sendable-changes.js';
import { splitBatch } from './split-batch.js';
import { applyInSlices } from './sliced-apply.js';
import { type WorkSlicer, workSlicer } from '../domain/work-slicer.js';
import { Listeners } from '../util/listeners.js';
import { type PeerStatus, type SyncCounters, type SyncEngineEvent, type SyncResult, emptyCounters } from './sync-engine-event.js';
import {
  MAX_DISPLAY_NAME_CHARS,
  SYNC_PROTOCOLS,
  compressesFrames,
  decodeSyncMessage,
  isDecodeError,
  type AckMessage,
  type BucketsMessage,
  type DeltaMessage,
  type HelloMessage,
  type RepairMessage,
  type SyncMessage,
  type VersionMessage,
} from './sync-message.js';

export type { PeerModelStatus, PeerStatus, SyncCounters, SyncEngineEvent, SyncResult } from './sync-engine-event.js';

/** Where the engine reports input it refused. Never throws; the default writes to the console. */
export interface SyncLogger {
  warn(message: string, details?: unknown): void;
}

/**
 * What the engine must know of a model's storage (`ModelPersistence` fits): the version it may
 * claim to hold and send changes of, which is what is stored; and when that grows.
 */
export interface ModelDurability {
  claimableVersion(): VersionVector;
  onDurable(listener: (claimable: VersionVector) => void): () => void;
}

/** Options of `SynchronizationEngine.registerModel`. */
export interface RegisterModelOptions {
  /**
   * The model's storage. With it, nothing leaves this node before it is stored: deltas carry only
   * stored changes, and hellos, versions and acks claim only what is stored, so an ack means the
   * peer has saved the change and a crash never leaves a peer with a change this node lost.
   * Without it, everything held in memory counts.
   */
  readonly durability?: ModelDurability;
}

/** Options of `SynchronizationEngine`. */
export interface SynchronizationEngineOptions {
  readonly nodeId: NodeId;
  /** How often versions are compared again with every peer once started; 0 turns it off. Default 30 s. */
  readonly antiEntropyIntervalMs?: number;
  /** Larger deltas travel in parts of this many changes, so progress shows and memory stays flat. Default 2,000. */
  readonly maxChangesPerMessage?: number;
  /** Frames larger than this are refused. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Bad frames or deltas with rejected changes tolerated from one peer before it is disconnected. Default 10. */
  readonly maxOffences?: number;
  /** The name this device shows to peers (sent in the hello; `setDisplayName` changes it). */
  readonly displayName?: string | null;
  readonly logger?: SyncLogger;
  /**
   * Signs this node's changes and requires every received item to carry its author's valid
   * certificate (docs/security.md, "Signed changes"). Without it nothing is signed or checked.
   */
  readonly signer?: ChangeSigner;
  /** How long peers disconnected for offences stay refused (doubling with every ban). */
  readonly bans?: OffenderBanOptions;
  /** How many certificate checks one peer may cause (per second and at once); see `VerificationBudget`. */
  readonly verification?: VerificationBudgetOptions;
  /** Epidemic broadcast of changes (Plumtree) among peers speaking protocol 4; see `EpidemicBroadcast`. */
  readonly broadcast?: EpidemicBroadcastOptions;
  /** How received deltas are cut up so no task holds the page long (`workSlicer()` by default; tests inject one). */
  readonly slicer?: WorkSlicer;
}

/**
 * The seed's `SynchronizationEngine`. On every connection both sides say what they hold (hello);
 * each then sends exactly what the other lacks. Afterwards every local edit and every change
 * learned from one peer goes, batched per event-loop turn, to each peer that lacks it (so a
 * partial mesh converges), never back to where it came from. Acks and periodic anti-entropy
 * correct what the engine believes a peer holds, so nothing lost stays missing. The protocol is
 * described in docs/protocol.md.
 */
export class SynchronizationEngine {
  readonly nodeId: NodeId;
  /** Certificates and their checks, when changes are signed (the `signer` option). */
  readonly certification: ChangeCertification | undefined;
  private readonly models = new Map<
    string,
    { model: SynchronizableDomainModel; durability: ModelDurability | undefined; unsubscribe: () => void }
  >();
  private readonly peers = new Map<NodeId, PeerLink>();
  private readonly listeners: Listeners<[SyncEngineEvent]>;
  private readonly dirty = new Set<string>();
  private readonly acknowledgedOwnSeq = new Map<string, number>();
  /** Changes of this event-loop turn waiting to be signed together, per model. */
  private readonly uncertified = new Map<string, Array<readonly ModelChange[]>>();
  /** Engine-wide counters: unlike the per-peer ones they survive disconnections. */
  private readonly counters = emptyCounters();
  private readonly bans: OffenderBans;
  private readonly verificationOptions: VerificationBudgetOptions | undefined;
  /** Per peer node id for the whole session, so reconnecting does not refill it. */
  private readonly budgets = new Map<NodeId, VerificationBudget>();
  private flushScheduled = false;
  /** Which links changes are pushed on and which they are announced on (src/sync/broadcast/). */
  private readonly broadcast: EpidemicBroadcast;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly antiEntropyIntervalMs: number;
  private readonly maxChangesPerMessage: number;
  private readonly maxMessageBytes: number;
  private readonly maxOffences: number;
  private readonly logger: SyncLogger;
  private readonly slicer: WorkSlicer;
  private displayName: string | null;

  constructor(options: SynchronizationEngineOptions) {
    this.nodeId = options.nodeId;
    this.antiEntropyIntervalMs = options.antiEntropyIntervalMs ?? 30_000;
    this.maxChangesPerMessage = options.maxChangesPerMessage ?? 2_000;
    this.slicer = options.slicer ?? workSlicer();
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.maxOffences = options.maxOffences ?? 10;
    this.displayName = checkDisplayName(options.displayName ?? null);
    this.certification = options.signer && new ChangeCertification(options.signer);
    this.bans = new OffenderBans(options.bans);
    this.verificationOptions = options.verification;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(`[sync] ${message}`, details ?? '') };
    this.listeners = new Listeners(this.logger, 'sync event');
    this.broadcast = new EpidemicBroadcast(this.broadcastHost(), options.broadcast);
    if (!(this.antiEntropyIntervalMs >= 0)) throw new RangeError('antiEntropyIntervalMs must be 0 or more');
    for (const [name, value] of [
      ['maxChangesPerMessage', this.maxChangesPerMessage],
      ['maxMessageBytes', this.maxMessageBytes],
      ['maxOffences', this.maxOffences],
    ] as const)
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  }

  /** Starts periodic anti-entropy. Connections can be added before or after. */
  start(): void {
    this.broadcast.start();
    if (this.timer !== undefined || this.antiEntropyIntervalMs === 0) return;
    this.timer = setInterval(() => this.antiEntropy(), this.antiEntropyIntervalMs);
  }

  /** Stops anti-entropy and closes every connection the engine holds. Models stay registered. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
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
    const unsubscribeChange = model.onChange((detail) => {
      this.markDirty(modelId);
      this.certify(modelId, detail.changes);
    });
    const unsubscribeDurable = durability?.onDurable(() => this.durable(modelId));
    const unsubscribe = () => {
      unsubscribeChange();
      unsubscribeDurable?.();
    };
    this.models.set(modelId, { model, durability, unsubscribe });
    // Own items from before (storage, or this device's other tabs) may lack certificates.
    this.certify(modelId, model.getChangesSince(new VersionVector()));
    // Peers that hold it answer with their version, and the exchange starts as after a hello.
    for (const peer of this.readyPeers()) this.sendVersion(peer, modelId, true);
  }

  /** Stops syncing a model; deltas for it are ignored from then on. */
  unregisterModel(modelId: string): void {
    this.models.get(modelId)?.unsubscribe();
    this.models.delete(modelId);
    this.dirty.delete(modelId);
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
      connection.onMessage((bytes) => this.receive(peer, bytes)),
      connection.onClose((reason) => this.removePeer(peer, reason)),
    );
    const models: Record<string, HelloMessage['models'][string]> = {};
    const digests: Record<string, string> = {};
    for (const id of this.models.keys()) {
      const version = this.claimable(id)!;
      peer.told.set(id, version);
      models[id] = version.toJSON();
      const digest = this.ownDigest(id);
      if (digest !== undefined) digests[id] = digest;
    }
    peer.send({ t: 'hello', protocols: SYNC_PROTOCOLS, node: this.nodeId, models, name: this.displayName, digests });
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
      this.sendVersion(peer, modelId, true);
      this.sendDelta(peer, modelId);
    }
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.sharingPeers(modelId).every((peer) => this.isInSync(peer, modelId))) done();
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
      inSyncPeers: sharing.filter((peer) => this.isInSync(peer, modelId)).length,
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

  /** The epidemic broadcast's links (eager: changes pushed; lazy: announced) and its timers pending. */
  broadcastStatus(): { eager: NodeId[]; lazy: NodeId[]; scheduled: number } {
    return { ...this.broadcast.links(this.readyPeers()), scheduled: this.broadcast.scheduled };
  }

  /** Every connected peer, whether we are in sync with it per shared model, and its traffic. */
  peerStatus(): PeerStatus[] {
    return [...this.peers.values()].map((peer) => peer.status((modelId) => this.isInSync(peer, modelId)));
  }

  /**
   * Own operations (seqs) of `modelId` past the highest one any peer confirmed holding, this
   * session or before (`setAcknowledgedOwnChanges`).
   */
  unsentChanges(modelId: string): number {
    const entry = this.models.get(modelId);
    if (!entry) return 0;
    return Math.max(0, entry.model.version.get(this.nodeId) - (this.acknowledgedOwnSeq.get(modelId) ?? 0));
  }

  /** Tells the engine up to which own seq peers had confirmed holding changes before (e.g. from storage). */
  setAcknowledgedOwnChanges(modelId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
    this.acknowledgedOwnSeq.set(modelId, Math.max(seq, this.acknowledgedOwnSeq.get(modelId) ?? 0));
  }

  /**
   * Certifies what this device wrote; what was held back waiting for it goes out once done. The
   * changes of one event-loop turn are signed together: a script or an import making thousands of
   * edits at once gets one certificate per 256 items, not one per edit (each costs a peer a
   * signature check when it bootstraps).
   */
  private certify(modelId: string, changes: readonly ModelChange[]): void {
    if (!this.certification || !changes.length) return;
    let pending = this.uncertified.get(modelId);
    if (!pending) {
      this.uncertified.set(modelId, (pending = []));
      queueMicrotask(() => {
        this.uncertified.delete(modelId);
        // The context: everything this node had seen when it made these changes (and them).
        const context = this.models.get(modelId)?.model.version;
        this.certification!.certify(modelId, pending!.flat(), context).then(
          (count) => {
            if (count > 0 && this.models.has(modelId)) this.markDirty(modelId);
          },
          (error) => this.logger.warn(`could not sign changes of ${modelId}`, error),
        );
      });
    }
    pending.push(changes);
  }

  private markDirty(modelId: string): void {
    this.dirty.add(modelId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One flush per event-loop turn, so a burst of edits in one task travels as one delta per peer.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const modelId of dirty) {
      const claimable = this.claimable(modelId);
      for (const peer of this.readyPeers()) {
        if (!this.broadcast.isEager(peer)) {
          // A lazy link: the change is announced to a few such peers at the next round.
          if (claimable && peer.shares(modelId) && !peer.model(modelId)!.known.includes(claimable)) this.broadcast.changed(modelId);
          this.updateSyncState(peer, modelId);
          continue;
        }
        this.sendDelta(peer, modelId);
        // Stored more that the peer holds already (say, from a third peer): no delta goes, but
        // the peer must learn that this node holds it too, or it shows it as behind.
        const told = peer.told.get(modelId);
        if (claimable && peer.shares(modelId) && told && !told.includes(claimable)) this.sendVersion(peer, modelId, false);
        this.updateSyncState(peer, modelId);
      }
    }
  }

  /** Sends the peer whatever of `modelId` it does not hold yet, in parts if large. */
  private sendDelta(peer: PeerLink, modelId: string): void {
    const entry = this.models.get(modelId);
    const state = peer.model(modelId);
    if (!entry || !state) return;
    let version = this.claimable(modelId)!;
    if (state.known.includes(version)) return;
    const delta = entry.model.getDelta(state.known);
    let changes: readonly ModelChange[] = sendableChanges(delta.changes, version);
    const certification = this.certification;
    if (certification) {
      // Items still being signed wait (with the context claiming them) until they are.
      ({ changes, version } = certification.sendable(modelId, changes, version));
      if (state.known.includes(version)) return;
    }
    const parts = splitBatch({ ...delta, version: version.toJSON(), changes }, this.maxChangesPerMessage);
    const seq = ++peer.sentSeq;
    // A certificate goes once per delta: the receiver holds it from the earlier part (or, if that
    // part was refused, refuses the rest of the delta anyway).
    const sentCertificates = new Set<string>();
    const proven = new Map<NodeId, number>();
    parts.forEach((batch, index) => {
      peer.count('changesSent', batch.changes.length);
      let certs: { certs: string[] } | undefined;
      if (certification) {
        const needed = certification.certificatesFor(modelId, batch.changes, proven).filter((text) => !sentCertificates.has(text));
        if (index === parts.length - 1) needed.push(...certification.frontierProofs(modelId, version, state.known, proven).filter((text) => !sentCertificates.has(text) && !needed.includes(text)));
        for (const text of needed) sentCertificates.add(text);
        certs = { certs: needed };
      }
      // The last part says what the sender's state is, where it is exactly that of the version sent.
      const digest = index === parts.length - 1 && version.equals(entry.model.version) ? this.ownDigest(modelId) : undefined;
      const hops = index === parts.length - 1 && this.broadcast.speaks(peer) ? { hops: this.broadcast.outgoingHops(modelId) } : {};
      peer.send({ t: 'delta', seq, part: index + 1, parts: parts.length, batch, ...certs, ...(digest ? { digest } : {}), ...hops });
    });
    state.sent(seq, version);
    peer.told.set(modelId, version);
  }

  private sendVersion(peer: PeerLink, modelId: string, request: boolean): void {
    const version = this.claimable(modelId);
    if (!version) return;
    peer.told.set(modelId, version);
    const digest = this.ownDigest(modelId);
    const seen = peer.model(modelId)?.reportableSeen(peer.seenSeq) ?? peer.seenSeq;
    peer.send({ t: 'version', model: modelId, version: version.toJSON(), request, sent: peer.sentSeq, seen, ...(digest ? { digest } : {}) });
  }

  private receive(peer: PeerLink, bytes: Uint8Array): void {
    if (this.peers.get(peer.peerId) !== peer) return;
    peer.count('messagesReceived', 1);
    peer.count('bytesReceived', bytes.byteLength);
    const compressed = isCompressedFrame(bytes);
    let message: SyncMessage | undefined;
    if (!compressed) {
      const decoded = decodeSyncMessage(bytes, this.maxMessageBytes);
      if (isDecodeError(decoded)) return this.offence(peer, decoded.error);
      message = decoded;
      // The common case: nothing asynchronous before it, nothing to verify. Handled at once.
      if (peer.waiting === 0 && !this.mustVerify(message) && !this.mustSlice(message)) return void this.process(peer, message);
    }
    // Inflating and verifying are asynchronous; every message of the peer waits its turn, so an
    // ack or version never overtakes the delta before it.
    peer.waiting++;
    peer.inbox = peer.inbox
      .then(async () => {
        if (!message) {
          message = await this.inflate(peer, bytes);
          if (!message) return;
        }
        if (!this.mustVerify(message)) return this.process(peer, message);
        const batch = message.t === 'repair' ? this.repairBatch(message) : (message as DeltaMessage).batch;
        if (!batch) return this.offence(peer, 'repair: an entity does not decode');
        const certs = (message as DeltaMessage | RepairMessage).certs;
        // Past the peer's budget of certificate checks, its stream waits (never the page).
        const wait = this.budgetOf(peer).spend(certs?.length ?? 0);
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          if (this.peers.get(peer.peerId) !== peer) return;
        }
        const verified = await this.certification!.verify(batch.modelId, batch, certs ?? [], this.slicer);
        if (this.peers.get(peer.peerId) !== peer) return;
        for (const problem of verified.problems) this.offence(peer, problem);
        return this.process(peer, message.t === 'delta' ? { ...message, batch: verified.batch } : message, verified);
      })
      .catch((error) => this.logger.warn(`could not handle a message from ${peer.peerId}`, error))
      .finally(() => peer.waiting--);
  }

  private budgetOf(peer: PeerLink): VerificationBudget {
    let budget = this.budgets.get(peer.peerId);
    if (!budget) this.budgets.set(peer.peerId, (budget = new VerificationBudget(this.verificationOptions)));
    return budget;
  }

  /** A delta applied a slice at a time: it waits its turn like a verified one, so nothing overtakes it. */
  private mustSlice(message: SyncMessage): boolean {
    return message.t === 'delta' && message.batch.changes.length > this.slicer.itemsPerSlice;
  }

  /** A delta of a model held here, where changes are signed: checked before it is handled. */
  private mustVerify(message: SyncMessage): boolean {
    if (!this.certification) return false;
    if (message.t === 'delta') return this.models.has(message.batch.modelId);
    return message.t === 'repair' && this.models.has(message.model);
  }

  /** The items of a repair as a batch, for verification; undefined if an entity does not decode. */
  private repairBatch(message: RepairMessage): ChangeBatch | undefined {
    const states: EntityState[] = [];
    for (const raw of message.entities) {
      const state = decodeEntityState(raw);
      if (isStateError(state)) return undefined;
      states.push(state);
    }
    return { format: CHANGE_FORMAT, modelId: message.model, since: {}, version: message.version, changes: states.flatMap(stateToChanges), partial: true };
  }

  /** The message inside a compressed frame, or undefined (an offence) if it has none. */
  private async inflate(peer: PeerLink, bytes: Uint8Array): Promise<SyncMessage | undefined> {
    if (!compressesFrames(peer.protocol)) {
      this.offence(peer, 'a compressed frame, but protocol 3 was not agreed');
      return undefined;
    }
    const frame = await decompressFrame(bytes, this.maxMessageBytes);
    if (this.peers.get(peer.peerId) !== peer) return undefined;
    const message = 'error' in frame ? frame : decodeSyncMessage(frame, this.maxMessageBytes);
    if (!isDecodeError(message)) return message;
    this.offence(peer, message.error);
    return undefined;
  }

  /**
   * Handles one decoded message; `verified`: what checking a signed delta found. A promise where
   * a large delta is applied in slices (the peer's next message waits for it).
   */
  private process(peer: PeerLink, message: SyncMessage, verified?: VerifiedBatch): Promise<void> | undefined {
    if (this.peers.get(peer.peerId) !== peer) return;
    // Decoding validated the message; a failure here is a bug, but it must not break the
    // connection's event loop. It is the peer's input that triggered it, so it counts.
    const failed = (error: unknown) => this.offence(peer, `could not process ${message.t}: ${(error as Error).message}`);
    try {
      return this.handle(peer, message, verified)?.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  private handle(peer: PeerLink, message: SyncMessage, verified: VerifiedBatch | undefined): Promise<void> | undefined {
    if (message.t === 'error') {
      this.logger.warn(`peer ${peer.peerId} closed the sync: ${message.reason}`);
      peer.connection.close(`peer reported: ${message.reason}`);
      return;
    }
    if (message.t === 'hello') return void this.handleHello(peer, message);
    if (peer.protocol === null) return void this.offence(peer, `${message.t} before hello`);
    if (message.t === 'delta') return this.handleDelta(peer, message, verified);
    if (message.t === 'ack') return void this.handleAck(peer, message);
    if (message.t === 'version') return void this.handleVersion(peer, message);
    if (message.t === 'buckets') return void this.handleBuckets(peer, message);
    if (message.t === 'repair') return void this.handleRepair(peer, message, verified);
    if (isBroadcastMessage(message)) {
      if (!this.broadcast.speaks(peer)) return void this.offence(peer, `${message.t} without protocol 4`);
      if (message.t !== 'prune' && !this.models.has(message.model)) return;
      return void this.broadcast.handle(peer, message);
    }
    peer.name = message.name;
    this.emit({ type: 'peer-info', peerId: peer.peerId, name: message.name });
  }

  private handleHello(peer: PeerLink, hello: HelloMessage): void {
    if (peer.protocol !== null) return this.offence(peer, 'second hello');
    if (hello.node !== peer.peerId)
      return this.offence(peer, `hello names node ${hello.node}, but the connection is to ${peer.peerId}`);
    const common = hello.protocols.filter((p) => SYNC_PROTOCOLS.includes(p));
    if (common.length === 0) {
      const reason = `no common sync protocol (ours ${SYNC_PROTOCOLS.join(',')}, theirs ${hello.protocols.join(',')})`;
      peer.send({ t: 'error', reason });
      peer.connection.close(reason);
      return;
    }
    const shared = Object.entries(hello.models)
      .filter(([modelId]) => this.models.has(modelId))
      .map(([modelId, json]) => [modelId, VersionVector.fromJSON(json)] as const);
    peer.protocol = Math.max(...common);
    peer.name = hello.name ?? null;
    for (const [modelId, version] of shared) {
      peer.share(modelId, version);
      this.noteConfirmed(modelId, version);
      this.noteDigest(peer, modelId, version, hello.digests?.[modelId]);
    }
    this.emit({ type: 'peer-ready', peerId: peer.peerId });
    for (const [modelId] of shared) {
      this.sendDelta(peer, modelId);
      this.updateSyncState(peer, modelId);
    }
  }

  private handleDelta(peer: PeerLink, message: DeltaMessage, verified: VerifiedBatch | undefined): Promise<void> | undefined {
    const { batch, seq, part, parts } = message;
    const refused = verified !== undefined && !verified.ok;
    // Parts arrive in order on a reliable connection; if one is missing anyway (a lost message),
    // or was refused, the rest are joined but the delta's version must not be adopted.
    const broken = peer.receivedPart(seq, part, parts, refused);
    const entry = this.models.get(batch.modelId);
    if (!entry) return; // A model we do not hold: not an offence, the peer may not know yet.
    // Whether the delta claims anything this replica lacked, taken before applying it (Plumtree's duplicate test).
    const fresh = !entry.model.version.includes(VersionVector.fromJSON(batch.version));
    // Where changes are signed, only signed evidence drops what this replica holds.
    const options = verified ? { evidence: verified.evidence } : {};
    const applying = applyInSlices(entry.model, batch, {
      slicer: this.slicer,
      verified,
      apply: options,
      partial: broken,
      stillWanted: () => this.peers.get(peer.peerId) === peer && this.models.get(batch.modelId) === entry,
    });
    if (!(applying instanceof Promise)) {
      this.deltaApplied(peer, message, refused, entry.model, applying, fresh);
      return;
    }
    return applying.then((result) => {
      if (result) this.deltaApplied(peer, message, refused, entry.model, result, fresh);
    });
  }

  /** The rest of a delta once its changes are applied: counts, what the peer holds, events, the ack. */
  private deltaApplied(peer: PeerLink, message: DeltaMessage, refused: boolean, model: SynchronizableDomainModel, result: ApplyChangesResult, fresh: boolean): void {
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
      this.noteConfirmed(batch.modelId, peerVersion);
      if (part === parts) this.noteDigest(peer, batch.modelId, peerVersion, message.digest);
    }
    const peerId = peer.peerId;
    this.emit({ type: 'changes-applied', peerId, modelId: batch.modelId, result });
    if (parts > 1) this.emit({ type: 'sync-progress', peerId, modelId: batch.modelId, part, parts, items: new Set(batch.changes.map((change) => change.oid)).size });
    if (part === parts) {
      // An ack says the changes are stored here: one for a delta that was taken waits until the
      // save holding it committed (`durable`). One that could not be taken goes at once.
      state.awaitingAck = peerVersion;
      state.awaitingAckSeq = message.seq;
      // A delta that brought nothing new prunes its link (the ack says so, or a `prune` if the ack waits).
      const prune = !refused && result.rejected.length === 0 && this.broadcast.duplicate(peer, batch.modelId, fresh || result.applied > 0, message.hops);
      if (!model.version.includes(peerVersion) || this.claimable(batch.modelId)!.includes(peerVersion)) this.sendAck(peer, batch.modelId, prune);
      else if (prune) peer.send({ t: 'prune' });
      this.updateSyncState(peer, batch.modelId);
    }
    if (result.rejected.length > 0) this.offence(peer, `${result.rejected.length} change(s) rejected: ${result.rejected[0]!.reason}`);
  }

  /** Acknowledges the last delta received from `peer`: what is stored here now. */
  private sendAck(peer: PeerLink, modelId: string, prune = false): void {
    const state = peer.model(modelId);
    const awaited = state?.awaitingAck;
    if (!state || !awaited) return;
    state.awaitingAck = null;
    const ours = this.claimable(modelId)!;
    peer.told.set(modelId, ours);
    const digest = this.ownDigest(modelId);
    const ack: AckMessage = {
      t: 'ack',
      model: modelId,
      version: ours.toJSON(),
      complete: ours.includes(awaited),
      seen: peer.seenSeq,
      ...(digest ? { digest } : {}),
      ...(prune ? { prune } : {}),
    };
    peer.send(ack);
  }

  /** More of `modelId` is stored: acks that waited for it go, and so do the changes stored. */
  private durable(modelId: string): void {
    const claimable = this.claimable(modelId);
    if (!claimable) return;
    for (const peer of this.readyPeers()) {
      const awaited = peer.model(modelId)?.awaitingAck;
      if (awaited && claimable.includes(awaited)) this.sendAck(peer, modelId);
    }
    this.markDirty(modelId);
  }

  /** The version of `modelId` this node may claim and send changes of (what is stored). */
  private claimable(modelId: string): VersionVector | undefined {
    const entry = this.models.get(modelId);
    return entry && (entry.durability?.claimableVersion() ?? entry.model.version);
  }

  private handleAck(peer: PeerLink, ack: AckMessage): void {
    if (!this.models.has(ack.model)) return;
    const state = peer.share(ack.model);
    const version = VersionVector.fromJSON(ack.version);
    state.reported(version, ack.seen);
    this.noteConfirmed(ack.model, version);
    this.noteDigest(peer, ack.model, version, ack.digest);
    if (ack.prune && this.broadcast.speaks(peer)) this.broadcast.handle(peer, { t: 'prune' });
    if (ack.complete) state.progressed();
    // An incomplete ack: the peer lacked what the delta assumed, or refused some of it. Send
    // again from what it reports, unless the last resend got exactly this answer already.
    if (ack.complete || state.shouldResend(version)) this.sendDelta(peer, ack.model);
    this.updateSyncState(peer, ack.model);
  }

  private handleVersion(peer: PeerLink, message: VersionMessage): void {
    const entry = this.models.get(message.model);
    if (!entry) return;
    const lost = peer.sentUpTo(message.sent);
    const state = peer.share(message.model);
    const version = VersionVector.fromJSON(message.version);
    state.reported(version, message.seen);
    state.progressed();
    this.noteConfirmed(message.model, version);
    this.noteDigest(peer, message.model, version, message.digest);
    this.sendDelta(peer, message.model);
    // A request always gets our version. So does a reply that revealed lost deltas: our `seen`
    // tells the peer they are lost, not in flight, and it sends their changes again. Nothing
    // else is answered, so two peers that keep differing (one refuses the other's changes)
    // cannot bounce versions back and forth.
    if (message.request || lost) this.sendVersion(peer, message.model, false);
    this.updateSyncState(peer, message.model);
  }

  /** A peer holds `version`: our own operations in it count as delivered. */
  private noteConfirmed(modelId: string, version: VersionVector): void {
    const own = this.models.get(modelId)?.model.version.get(this.nodeId) ?? 0;
    // A peer cannot hold more of ours than we made; a claim beyond that is ignored.
    const seq = Math.min(version.get(this.nodeId), own);
    if (seq > (this.acknowledgedOwnSeq.get(modelId) ?? 0)) this.acknowledgedOwnSeq.set(modelId, seq);
  }

  private antiEntropy(): void {
    for (const peer of this.broadcast.antiEntropyPeers(this.readyPeers())) {
      for (const modelId of this.models.keys()) {
        peer.model(modelId)?.progressed();
        this.sendVersion(peer, modelId, true);
      }
    }
  }

  /**
   * In sync: the peer holds exactly our version, and its digest for that version equals ours.
   * Equal versions alone can lie (a crash, a bug, a replica that adopted a claim it was not sent
   * the data of); the digests are computed by each side from the state it really holds.
   */
  private isInSync(peer: PeerLink, modelId: string): boolean {
    const state = peer.model(modelId);
    const entry = this.models.get(modelId);
    if (!state?.confirmed || !entry) return false;
    const version = entry.model.version;
    if (state.confirmed.compare(version) !== 'equal') return false;
    const report = state.reportedDigest;
    return report !== null && report.version.equals(version) && report.root === this.ownDigest(modelId);
  }

  /** Our digest of `modelId`, where this node holds exactly the version it claims (nothing unsaved). */
  private ownDigest(modelId: string): string | undefined {
    const entry = this.models.get(modelId);
    if (!entry) return undefined;
    if (entry.durability && !entry.durability.claimableVersion().equals(entry.model.version)) return undefined;
    return entry.model.digest().root;
  }

  /** Records what the peer reported of its state, and starts a repair if it contradicts ours. */
  private noteDigest(peer: PeerLink, modelId: string, version: VersionVector, digest: string | undefined): void {
    const state = peer.model(modelId);
    const entry = this.models.get(modelId);
    if (!state || !entry) return;
    state.reportedDigest = digest === undefined ? null : { root: digest, version: version.clone() };
    const ours = this.ownDigest(modelId);
    if (digest === undefined || ours === undefined || ours === digest || !version.equals(entry.model.version)) return;
    // Same version, other state: one repair per version, so a difference that a repair cannot
    // settle (say, one side refuses the other's entities) does not loop.
    const key = JSON.stringify(version.toJSON());
    if (state.repairedAt === key) return;
    state.repairedAt = key;
    this.logger.warn(`state differs from ${peer.peerId} at an equal version of ${modelId}: repairing`);
    this.emit({ type: 'state-mismatch', peerId: peer.peerId, modelId });
    peer.send({ t: 'buckets', model: modelId, version: version.toJSON(), buckets: entry.model.digestBuckets() });
  }

  private handleBuckets(peer: PeerLink, message: BucketsMessage): void {
    const entry = this.models.get(message.model);
    if (!entry || this.ownDigest(message.model) === undefined) return;
    if (!VersionVector.fromJSON(message.version).equals(entry.model.version)) return;
    const differing = differingBuckets(entry.model.digestBuckets(), message.buckets);
    if (differing.length) this.sendRepair(peer, message.model, differing, false);
  }

  /** Sends the peer our entities in `buckets` (only ever stored state: we hold nothing unsaved). */
  private sendRepair(peer: PeerLink, modelId: string, buckets: readonly number[], reply: boolean): void {
    const entry = this.models.get(modelId)!;
    const entities = entry.model.entityStatesInBuckets(buckets);
    const certs = this.certification?.certificatesFor(modelId, entities.flatMap(stateToChanges));
    peer.send({ t: 'repair', model: modelId, version: entry.model.version.toJSON(), buckets, entities, reply, ...(certs ? { certs } : {}) });
  }

  private handleRepair(peer: PeerLink, message: RepairMessage, verified: VerifiedBatch | undefined): void {
    const entry = this.models.get(message.model);
    if (!entry || (verified && !verified.ok)) return;
    const result = entry.model.repairEntities(message.entities, VersionVector.fromJSON(message.version));
    verified?.keep(new Set());
    if (result.rejected.length) this.offence(peer, `repair: ${result.rejected.length} entities refused: ${result.rejected[0]!.reason}`);
    this.emit({ type: 'state-repaired', peerId: peer.peerId, modelId: message.model, entities: result.applied });
    if (!message.reply && this.ownDigest(message.model) !== undefined) this.sendRepair(peer, message.model, message.buckets, true);
    // Tell the peer where this leaves us; what changed goes on to other peers as usual.
    this.sendVersion(peer, message.model, false);
    this.updateSyncState(peer, message.model);
  }

  private updateSyncState(peer: PeerLink, modelId: string): void {
    const state = peer.model(modelId);
    if (!state) return;
    const inSync = this.isInSync(peer, modelId);
    if (inSync === state.lastInSync) return;
    state.lastInSync = inSync;
    this.emit({ type: 'peer-sync-state', peerId: peer.peerId, modelId, inSync });
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

  /** What the epidemic broadcast uses of this engine. */
  private broadcastHost(): BroadcastHost {
    return {
      nodeId: this.nodeId,
      models: () => this.models.keys(),
      sharingPeers: (modelId) => this.sharingPeers(modelId),
      claimable: (modelId) => this.claimable(modelId),
      held: (modelId) => this.models.get(modelId)?.model.version,
      ownDigest: (modelId) => this.ownDigest(modelId),
      sendDelta: (peer, modelId) => this.sendDelta(peer, modelId),
      claimed: (peer, modelId, have, digest, digestSent) => {
        const state = peer.share(modelId);
        state.holds(have);
        this.noteConfirmed(modelId, state.confirmed!);
        if (digestSent) this.noteDigest(peer, modelId, state.confirmed!, digest);
        this.updateSyncState(peer, modelId);
      },
    };
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
