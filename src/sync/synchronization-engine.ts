import type { NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/index.js';
import type { ApplyChangesResult, ChangeBatch } from '../domain/model-change.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { PeerConnection } from '../net/transport.js';
import {
  SYNC_PROTOCOLS,
  decodeSyncMessage,
  encodeSyncMessage,
  isDecodeError,
  type AckMessage,
  type DeltaMessage,
  type HelloMessage,
  type SyncMessage,
  type VersionMessage,
} from './sync-message.js';
import { splitBatch } from './split-batch.js';

/** Where the engine reports input it refused. Never throws; the default writes to the console. */
export interface SyncLogger {
  warn(message: string, details?: unknown): void;
}

/** Options of `SynchronizationEngine`. */
export interface SynchronizationEngineOptions {
  readonly nodeId: NodeId;
  /** How often versions are compared again with every peer; 0 turns it off. Default 30 s. */
  readonly antiEntropyIntervalMs?: number;
  /** Larger deltas travel in parts of this many changes, so progress shows and memory stays flat. */
  readonly maxChangesPerMessage?: number;
  /** Frames larger than this are refused. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Bad frames or rejected changes tolerated from one peer before it is disconnected. */
  readonly maxOffences?: number;
  readonly logger?: SyncLogger;
}

/** Traffic counters, per peer and in `SyncResult`. */
export interface SyncCounters {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  changesSent: number;
  changesReceived: number;
  changesApplied: number;
  changesRejected: number;
}

/** The seed's `SyncResult`: what one `synchronize` call exchanged and whether it converged. */
export interface SyncResult extends SyncCounters {
  readonly modelId: string;
  /** Connected peers holding the model. */
  readonly peers: number;
  /** Of those, how many ended with exactly our version. */
  readonly inSyncPeers: number;
  readonly durationMs: number;
}

/** What the engine knows about one peer and one model. */
export interface PeerModelStatus {
  readonly modelId: string;
  /** True when the peer's last reported version equals ours: neither side lacks anything. */
  readonly inSync: boolean;
  /** The version the peer last reported (or that its deltas proved). */
  readonly confirmed: VersionVector | null;
  /** Deltas sent and not yet acknowledged. */
  readonly unacked: number;
}

/** What the engine knows about one connected peer. */
export interface PeerStatus {
  readonly peerId: NodeId;
  readonly via: string;
  /** False until the peer's hello arrived. */
  readonly ready: boolean;
  readonly models: readonly PeerModelStatus[];
  readonly counters: Readonly<SyncCounters>;
}

/** Events the engine reports. */
export type SyncEngineEvent =
  | { readonly type: 'peer-ready'; readonly peerId: NodeId }
  | { readonly type: 'peer-removed'; readonly peerId: NodeId; readonly reason: string }
  | { readonly type: 'peer-sync-state'; readonly peerId: NodeId; readonly modelId: string; readonly inSync: boolean }
  | {
      readonly type: 'sync-progress';
      readonly peerId: NodeId;
      readonly modelId: string;
      readonly part: number;
      readonly parts: number;
    }
  | {
      readonly type: 'changes-applied';
      readonly peerId: NodeId;
      readonly modelId: string;
      readonly result: ApplyChangesResult;
    }
  | { readonly type: 'peer-offence'; readonly peerId: NodeId; readonly reason: string };

interface PeerModelState {
  /** What we believe the peer holds: its reports plus everything we sent it. */
  known: VersionVector;
  confirmed: VersionVector | null;
  unacked: number;
  lastInSync: boolean;
}

interface PeerState {
  readonly connection: PeerConnection;
  protocol: number | null;
  readonly models: Map<string, PeerModelState>;
  offences: number;
  readonly counters: SyncCounters;
  readonly unsubscribe: Array<() => void>;
}

const emptyCounters = (): SyncCounters => ({
  messagesSent: 0,
  messagesReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  changesSent: 0,
  changesReceived: 0,
  changesApplied: 0,
  changesRejected: 0,
});

/**
 * The seed's `SynchronizationEngine`. On every connection both sides say what they hold; each
 * then sends exactly what the other lacks. Afterwards every local edit and every change learned
 * from one peer goes, batched per event-loop turn, to each peer that lacks it (so a partial mesh
 * converges), never back to where it came from and never twice. Periodic anti-entropy compares
 * versions again, so nothing dropped stays missing.
 */
export class SynchronizationEngine {
  readonly nodeId: NodeId;
  private readonly models = new Map<string, { model: SynchronizableDomainModel; unsubscribe: () => void }>();
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly listeners = new Set<(event: SyncEngineEvent) => void>();
  private readonly dirty = new Set<string>();
  private readonly acknowledgedOwnSeq = new Map<string, number>();
  /** Engine-wide counters: unlike the per-peer ones they survive disconnections. */
  private readonly counters = emptyCounters();
  private flushScheduled = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private readonly antiEntropyIntervalMs: number;
  private readonly maxChangesPerMessage: number;
  private readonly maxMessageBytes: number;
  private readonly maxOffences: number;
  private readonly logger: SyncLogger;

  constructor(options: SynchronizationEngineOptions) {
    this.nodeId = options.nodeId;
    this.antiEntropyIntervalMs = options.antiEntropyIntervalMs ?? 30_000;
    this.maxChangesPerMessage = options.maxChangesPerMessage ?? 2_000;
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.maxOffences = options.maxOffences ?? 10;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(`[sync] ${message}`, details ?? '') };
    if (this.maxChangesPerMessage < 1) throw new RangeError('maxChangesPerMessage must be at least 1');
  }

  /** Starts periodic anti-entropy. Connections can be added before or after. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.antiEntropyIntervalMs > 0) this.timer = setInterval(() => this.antiEntropy(), this.antiEntropyIntervalMs);
  }

  /** Stops anti-entropy and closes every connection the engine holds. */
  stop(): void {
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const peer of [...this.peers.values()]) peer.connection.close('node stopped');
  }

  /** Subscribes to engine events; returns the unsubscribe function. */
  onEvent(listener: (event: SyncEngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts syncing `model` with every peer that holds a model of the same id. */
  registerModel(modelId: string, model: SynchronizableDomainModel): void {
    if (this.models.has(modelId)) throw new Error(`model ${modelId} is already registered`);
    if (model.modelId !== modelId) throw new Error(`model id ${model.modelId} does not match ${modelId}`);
    const unsubscribe = model.onChange(() => this.markDirty(modelId));
    this.models.set(modelId, { model, unsubscribe });
    const announce: VersionMessage = { t: 'version', model: modelId, version: model.version.toJSON() };
    for (const peer of this.readyPeers()) this.send(peer, announce);
  }

  /** Stops syncing a model. */
  unregisterModel(modelId: string): void {
    this.models.get(modelId)?.unsubscribe();
    this.models.delete(modelId);
    for (const peer of this.peers.values()) peer.models.delete(modelId);
  }

  /**
   * Takes over an open connection: sends our hello, then handles every message from the peer.
   * A second connection to a peer that already has one replaces it.
   */
  addConnection(connection: PeerConnection): void {
    this.peers.get(connection.peerId)?.connection.close('replaced by a newer connection');
    const peer: PeerState = {
      connection,
      protocol: null,
      models: new Map(),
      offences: 0,
      counters: emptyCounters(),
      unsubscribe: [],
    };
    this.peers.set(connection.peerId, peer);
    peer.unsubscribe.push(
      connection.onMessage((bytes) => this.receive(peer, bytes)),
      connection.onClose((reason) => this.removePeer(peer, reason)),
    );
    const models: Record<string, ReturnType<VersionVector['toJSON']>> = {};
    for (const [id, { model }] of this.models) models[id] = model.version.toJSON();
    this.send(peer, { t: 'hello', protocols: SYNC_PROTOCOLS, node: this.nodeId, models });
  }

  /**
   * The seed's `synchronize`: asks every connected peer holding the model to exchange what is
   * missing both ways, and resolves when all of them are in sync or `timeoutMs` passed.
   */
  async synchronize(modelId: string, timeoutMs = 10_000): Promise<SyncResult> {
    const entry = this.models.get(modelId);
    if (!entry) throw new Error(`model ${modelId} is not registered`);
    const started = performance.now();
    const before = { ...this.counters };
    const message: VersionMessage = { t: 'version', model: modelId, version: entry.model.version.toJSON() };
    for (const peer of this.readyPeers()) {
      if (!peer.models.has(modelId)) continue;
      this.send(peer, message);
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
    const after = this.counters;
    const sharing = this.sharingPeers(modelId);
    const diff = Object.fromEntries(
      Object.entries(after).map(([key, value]) => [key, value - before[key as keyof SyncCounters]]),
    ) as unknown as SyncCounters;
    return {
      ...diff,
      modelId,
      peers: sharing.length,
      inSyncPeers: sharing.filter((peer) => this.isInSync(peer, modelId)).length,
      durationMs: performance.now() - started,
    };
  }

  /** Every connected peer, whether we are in sync with it per model, and its traffic. */
  peerStatus(): PeerStatus[] {
    return [...this.peers.values()].map((peer) => ({
      peerId: peer.connection.peerId,
      via: peer.connection.via,
      ready: peer.protocol !== null,
      counters: { ...peer.counters },
      models: [...peer.models].map(([modelId, state]) => ({
        modelId,
        inSync: this.isInSync(peer, modelId),
        confirmed: state.confirmed?.clone() ?? null,
        unacked: state.unacked,
      })),
    }));
  }

  /** Local changes of `modelId` that no peer has confirmed holding (this session). */
  unsentChanges(modelId: string): number {
    const entry = this.models.get(modelId);
    if (!entry) return 0;
    return Math.max(0, entry.model.version.get(this.nodeId) - (this.acknowledgedOwnSeq.get(modelId) ?? 0));
  }

  /** Tells the engine how many own changes peers had confirmed before (e.g. from storage). */
  setAcknowledgedOwnChanges(modelId: string, seq: number): void {
    this.acknowledgedOwnSeq.set(modelId, Math.max(seq, this.acknowledgedOwnSeq.get(modelId) ?? 0));
  }

  private markDirty(modelId: string): void {
    this.dirty.add(modelId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One flush per event-loop turn: a burst of edits in one task travels as one delta per peer.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const modelId of dirty) {
      for (const peer of this.readyPeers()) this.sendDelta(peer, modelId);
      for (const peer of this.peers.values()) this.updateSyncState(peer, modelId);
    }
  }

  /** Sends the peer whatever of `modelId` it does not hold yet, in parts if large. */
  private sendDelta(peer: PeerState, modelId: string): void {
    const entry = this.models.get(modelId);
    const state = peer.models.get(modelId);
    if (!entry || !state) return;
    const version = entry.model.version;
    if (state.known.includes(version)) return;
    const batch = entry.model.getDelta(state.known);
    const parts = splitBatch(batch, this.maxChangesPerMessage);
    parts.forEach((part: ChangeBatch, index: number) => {
      const message: DeltaMessage = { t: 'delta', batch: part, part: index + 1, parts: parts.length };
      this.count(peer, 'changesSent', part.changes.length);
      this.send(peer, message);
    });
    state.known.mergeWith(version);
    state.unacked += 1;
  }

  private receive(peer: PeerState, bytes: Uint8Array): void {
    this.count(peer, 'messagesReceived', 1);
    this.count(peer, 'bytesReceived', bytes.byteLength);
    const message = decodeSyncMessage(bytes, this.maxMessageBytes);
    if (isDecodeError(message)) return this.offence(peer, message.error);
    try {
      this.handle(peer, message);
    } catch (error) {
      // A message that passed decoding but still failed (e.g. a version vector with bad numbers)
      // is the peer's fault, never the application's: count it and carry on.
      this.offence(peer, `could not process ${message.t}: ${(error as Error).message}`);
    }
  }

  private handle(peer: PeerState, message: SyncMessage): void {
    if (message.t === 'error') {
      this.logger.warn(`peer ${peer.connection.peerId} closed the sync: ${message.reason}`);
      peer.connection.close(`peer reported: ${message.reason}`);
      return;
    }
    if (message.t === 'hello') return this.handleHello(peer, message);
    if (peer.protocol === null) return this.offence(peer, `${message.t} before hello`);
    if (message.t === 'delta') return this.handleDelta(peer, message);
    if (message.t === 'ack') return this.handleAck(peer, message);
    return this.handleVersion(peer, message);
  }

  private handleHello(peer: PeerState, hello: HelloMessage): void {
    if (peer.protocol !== null) return this.offence(peer, 'second hello');
    if (hello.node !== peer.connection.peerId) {
      this.send(peer, { t: 'error', reason: 'hello names another node than the connection' });
      peer.connection.close('hello names another node than the connection');
      return;
    }
    const common = hello.protocols.filter((p) => SYNC_PROTOCOLS.includes(p));
    if (common.length === 0) {
      const reason = `no common sync protocol (ours ${SYNC_PROTOCOLS.join(',')}, theirs ${hello.protocols.join(',')})`;
      this.send(peer, { t: 'error', reason });
      peer.connection.close(reason);
      return;
    }
    peer.protocol = Math.max(...common);
    const versions = Object.entries(hello.models).map(([id, json]) => [id, VersionVector.fromJSON(json)] as const);
    for (const [modelId, version] of versions) {
      if (!this.models.has(modelId)) continue;
      peer.models.set(modelId, { known: version.clone(), confirmed: version, unacked: 0, lastInSync: false });
    }
    this.emit({ type: 'peer-ready', peerId: peer.connection.peerId });
    for (const modelId of peer.models.keys()) {
      this.sendDelta(peer, modelId);
      this.noteConfirmed(modelId, peer.models.get(modelId)!.confirmed!);
      this.updateSyncState(peer, modelId);
    }
  }

  private handleDelta(peer: PeerState, message: DeltaMessage): void {
    const { batch } = message;
    const entry = this.models.get(batch.modelId);
    if (!entry) return; // A model we do not hold: not an offence, the peer may not know yet.
    const state = this.peerModel(peer, batch.modelId);
    const result = entry.model.applyChanges(batch);
    const peerVersion = VersionVector.fromJSON(batch.version);
    this.count(peer, 'changesReceived', batch.changes.length);
    this.count(peer, 'changesApplied', result.applied);
    this.count(peer, 'changesRejected', result.rejected.length);
    // The sender holds everything in its version, so nothing of it will be sent back.
    state.known.mergeWith(peerVersion);
    this.emit({ type: 'changes-applied', peerId: peer.connection.peerId, modelId: batch.modelId, result });
    if (message.parts > 1) {
      this.emit({
        type: 'sync-progress',
        peerId: peer.connection.peerId,
        modelId: batch.modelId,
        part: message.part,
        parts: message.parts,
      });
    }
    if (result.rejected.length > 0) {
      this.offence(peer, `${result.rejected.length} change(s) rejected: ${result.rejected[0]!.reason}`);
    }
    if (message.part !== message.parts) return;
    state.confirmed = state.confirmed ? state.confirmed.clone() : new VersionVector();
    state.confirmed.mergeWith(peerVersion);
    const ack: AckMessage = {
      t: 'ack',
      model: batch.modelId,
      version: entry.model.version.toJSON(),
      complete: result.complete,
    };
    this.send(peer, ack);
    this.updateSyncState(peer, batch.modelId);
  }

  private handleAck(peer: PeerState, ack: AckMessage): void {
    if (!this.models.has(ack.model)) return;
    const state = this.peerModel(peer, ack.model);
    const version = VersionVector.fromJSON(ack.version);
    state.unacked = Math.max(0, state.unacked - 1);
    state.confirmed = state.confirmed ? state.confirmed.clone() : new VersionVector();
    state.confirmed.mergeWith(version);
    this.noteConfirmed(ack.model, version);
    if (ack.complete) {
      state.known.mergeWith(version);
    } else {
      // The peer could not adopt our delta (it lacked what we assumed): start again from what it
      // reports, which is authoritative.
      state.known = version;
      this.sendDelta(peer, ack.model);
    }
    this.updateSyncState(peer, ack.model);
  }

  private handleVersion(peer: PeerState, message: VersionMessage): void {
    const entry = this.models.get(message.model);
    if (!entry) return;
    const state = this.peerModel(peer, message.model);
    const version = VersionVector.fromJSON(message.version);
    state.confirmed = version.clone();
    this.noteConfirmed(message.model, version);
    // With deltas in flight the report may predate them: only widen what we believe then.
    if (state.unacked === 0) state.known = version.clone();
    else state.known.mergeWith(version);
    this.sendDelta(peer, message.model);
    // The peer holds something we lack: tell it what we have, so it sends the difference.
    const ours = entry.model.version;
    if (!ours.includes(version)) this.send(peer, { t: 'version', model: message.model, version: ours.toJSON() });
    this.updateSyncState(peer, message.model);
  }

  private peerModel(peer: PeerState, modelId: string): PeerModelState {
    let state = peer.models.get(modelId);
    if (!state) {
      state = { known: new VersionVector(), confirmed: null, unacked: 0, lastInSync: false };
      peer.models.set(modelId, state);
    }
    return state;
  }

  private noteConfirmed(modelId: string, version: VersionVector): void {
    const seq = version.get(this.nodeId);
    if (seq > (this.acknowledgedOwnSeq.get(modelId) ?? 0)) this.acknowledgedOwnSeq.set(modelId, seq);
  }

  private antiEntropy(): void {
    for (const peer of this.readyPeers()) {
      for (const modelId of peer.models.keys()) {
        const entry = this.models.get(modelId);
        if (entry) this.send(peer, { t: 'version', model: modelId, version: entry.model.version.toJSON() });
      }
    }
  }

  private isInSync(peer: PeerState, modelId: string): boolean {
    const state = peer.models.get(modelId);
    const entry = this.models.get(modelId);
    if (!state?.confirmed || !entry) return false;
    return state.confirmed.compare(entry.model.version) === 'equal';
  }

  private updateSyncState(peer: PeerState, modelId: string): void {
    const state = peer.models.get(modelId);
    if (!state) return;
    const inSync = this.isInSync(peer, modelId);
    if (inSync === state.lastInSync) return;
    state.lastInSync = inSync;
    this.emit({ type: 'peer-sync-state', peerId: peer.connection.peerId, modelId, inSync });
  }

  private send(peer: PeerState, message: SyncMessage): void {
    const bytes = encodeSyncMessage(message);
    this.count(peer, 'messagesSent', 1);
    this.count(peer, 'bytesSent', bytes.byteLength);
    peer.connection.send(bytes).catch((error: unknown) => {
      this.logger.warn(`send to ${peer.connection.peerId} failed`, error);
    });
  }

  private offence(peer: PeerState, reason: string): void {
    peer.offences += 1;
    this.logger.warn(`refused input from ${peer.connection.peerId}: ${reason}`);
    this.emit({ type: 'peer-offence', peerId: peer.connection.peerId, reason });
    if (peer.offences >= this.maxOffences) {
      this.send(peer, { t: 'error', reason: 'too many invalid messages' });
      peer.connection.close('too many invalid messages');
    }
  }

  private removePeer(peer: PeerState, reason: string): void {
    if (this.peers.get(peer.connection.peerId) !== peer) return;
    this.peers.delete(peer.connection.peerId);
    for (const unsubscribe of peer.unsubscribe) unsubscribe();
    this.emit({ type: 'peer-removed', peerId: peer.connection.peerId, reason });
  }

  private readyPeers(): PeerState[] {
    return [...this.peers.values()].filter((peer) => peer.protocol !== null);
  }

  private sharingPeers(modelId: string): PeerState[] {
    return this.readyPeers().filter((peer) => peer.models.has(modelId));
  }

  private count(peer: PeerState, key: keyof SyncCounters, amount: number): void {
    peer.counters[key] += amount;
    this.counters[key] += amount;
  }

  private emit(event: SyncEngineEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn('a sync event listener threw', error);
      }
    }
  }
}
