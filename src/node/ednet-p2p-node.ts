import type { NodeId } from '../crdt/dot.js';
import { attributeChangedEvents } from '../domain/model-events.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { BackoffOptions } from '../net/backoff.js';
import { ConnectionManager } from '../net/connection-manager.js';
import type { DiscoveryEvent, PeerDiscovery } from '../net/peer-discovery.js';
import type { PeerAddress, PeerConnection, Transport } from '../net/transport.js';
import type { PersistenceEvent } from '../store/model-persistence.js';
import {
  SynchronizationEngine,
  type SyncEngineEvent,
  type SyncLogger,
  type SyncResult,
  type SynchronizationEngineOptions,
} from '../sync/synchronization-engine.js';
import { DomainModelRegistry } from './domain-model-registry.js';
import { EventBus } from './event-bus.js';
import type { EDNetEvents, InputRefusedEvent, NodeStatus, PeerInfo, SyncProgressEvent } from './node-events.js';
import { unsentOwnChanges } from './unsent-own-changes.js';

/** Refusals the node keeps for the audit view; older ones are dropped. */
const MAX_REFUSALS = 200;

/** The connection state of a signaling server client, as the status bar shows it. */
export interface SignalingStatusSource {
  readonly connectionState: 'connecting' | 'connected' | 'disconnected';
  onConnectionState(listener: (state: 'connecting' | 'connected' | 'disconnected') => void): () => void;
}

/** What the node needs of a model's persistence (`ModelPersistence` fits) to report unsaved changes. */
export interface PersistenceStatusSource {
  readonly pending: number;
  onEvent(listener: (event: PersistenceEvent) => void): () => void;
}

/** Options of `EDNetP2PNode`. */
export interface EDNetP2PNodeOptions {
  readonly nodeId: NodeId;
  /** The transports, most preferred first (see `ConnectionManager`). */
  readonly transports: readonly Transport[];
  /** How peers are found; each reports addresses whose `via` names one of the transports. */
  readonly discoveries?: readonly PeerDiscovery[];
  /** The signaling client among the discoveries, if any, for the status. */
  readonly signaling?: SignalingStatusSource;
  readonly displayName?: string | null;
  readonly maxConnections?: number;
  readonly backoff?: BackoffOptions;
  readonly sync?: Omit<SynchronizationEngineOptions, 'nodeId' | 'displayName' | 'logger'>;
  /**
   * Go offline when the browser reports `offline`, and back on `online`. Default: in a window.
   * Open WebRTC channels keep delivering while the browser says it is offline, so following the
   * browser means closing them: the user's "offline" then really is offline.
   */
  readonly followBrowserOnline?: boolean;
  readonly logger?: SyncLogger;
  /**
   * Runs on every new connection before the sync engine sees it (say, `authenticateConnection`);
   * a rejected connection is closed and never synced with.
   */
  readonly authenticate?: (connection: PeerConnection) => Promise<PeerConnection>;
}

/** Options of `registerDomainModel`. */
export interface RegisterModelOptions {
  /** Reports unsaved changes and storage problems of this model in the node's status. */
  readonly persistence?: PersistenceStatusSource;
  /** Own changes peers confirmed holding in an earlier session (so unsent counts survive reloads). */
  readonly acknowledgedOwnSeq?: number;
}

interface ModelEntry {
  readonly model: SynchronizableDomainModel;
  readonly persistence: PersistenceStatusSource | undefined;
  readonly unsubscribe: Array<() => void>;
  /** The last unsent count, valid while our own seq and what peers confirmed stay the same. */
  unsent: { readonly ownSeq: number; readonly acknowledged: number; readonly count: number } | undefined;
}

/**
 * The seed's `EDNetP2PNode`: one peer. It finds peers through its discoveries, keeps one
 * connection per peer through the `ConnectionManager`, and hands every connection to the
 * `SynchronizationEngine`, which keeps each registered model in sync with every peer that holds
 * it. Everything a UI needs to show is one `NodeStatus` value, recomputed at most once per
 * event-loop turn and announced as `status-changed` when it differs.
 */
export class EDNetP2PNode {
  readonly nodeId: NodeId;
  readonly events = new EventBus<EDNetEvents>();
  readonly registry = new DomainModelRegistry();
  readonly connections: ConnectionManager;
  readonly sync: SynchronizationEngine;
  private readonly transports: readonly Transport[];
  private readonly discoveries: readonly PeerDiscovery[];
  private readonly signaling: SignalingStatusSource | undefined;
  private readonly followBrowserOnline: boolean;
  private readonly authenticate: EDNetP2PNodeOptions['authenticate'];
  private readonly logger: SyncLogger;
  private readonly models = new Map<string, ModelEntry>();
  private readonly unsubscribe: Array<() => void> = [];
  private displayNameValue: string | null;
  private workOffline = false;
  private browserOnline = true;
  private running = false;
  private discoveriesRunning = false;
  private receiving: SyncProgressEvent | null = null;
  private persistence: NodeStatus['persistence'] = 'unknown';
  private storageError: string | null = null;
  private roomKeyProblem: string | null = null;
  /** The last refusal of each connected peer's input, for the status. */
  private readonly lastRefusals = new Map<NodeId, string>();
  private readonly refusalLog: InputRefusedEvent[] = [];
  private lastStatus: NodeStatus;
  private lastStatusKey = '';
  private statusScheduled = false;

  constructor(options: EDNetP2PNodeOptions) {
    this.nodeId = options.nodeId;
    this.transports = options.transports;
    this.discoveries = options.discoveries ?? [];
    this.signaling = options.signaling;
    this.displayNameValue = options.displayName ?? null;
    this.followBrowserOnline = options.followBrowserOnline ?? typeof window !== 'undefined';
    this.authenticate = options.authenticate;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(`[node] ${message}`, details ?? '') };
    this.connections = new ConnectionManager({
      localId: options.nodeId,
      transports: options.transports,
      maxConnections: options.maxConnections,
      backoff: options.backoff,
    });
    this.sync = new SynchronizationEngine({
      ...options.sync,
      nodeId: options.nodeId,
      displayName: this.displayNameValue,
      logger: options.logger,
    });
    this.lastStatus = this.computeStatus();
  }

  /** The name peers see for this device. */
  get displayName(): string | null {
    return this.displayNameValue;
  }

  /** False while the browser is offline or the user chose to work offline. */
  get online(): boolean {
    return this.browserOnline && !this.workOffline;
  }

  /** Everything the status bar shows, now. */
  /** The latest input refused from peers, oldest first (at most 200; see `InputRefusedEvent`). */
  get refusals(): readonly InputRefusedEvent[] {
    return [...this.refusalLog];
  }

  get status(): NodeStatus {
    return this.lastStatus;
  }

  /**
   * Starts accepting connections and finding peers (unless offline); resolves without waiting
   * for any peer or server. Models may be registered before or after.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(
      this.connections.onConnection((connection) => {
        // Connections only open between holders of the same room key: the key works.
        this.roomKeyProblem = null;
        if (!this.authenticate) {
          this.sync.addConnection(connection);
          return;
        }
        this.authenticate(connection).then(
          (authenticated) => this.sync.addConnection(authenticated),
          (error: unknown) => {
            this.logger.warn(`refused the connection to ${connection.peerId}`, error);
            connection.close(`authentication failed: ${(error as Error)?.message ?? error}`);
          },
        );
      }),
      this.connections.onStateChange(() => this.scheduleStatus()),
      this.sync.onEvent((event) => this.onSyncEvent(event)),
      ...this.discoveries.map((discovery) => discovery.onEvent((event) => this.onDiscoveryEvent(event))),
    );
    if (this.signaling) this.unsubscribe.push(this.signaling.onConnectionState(() => this.scheduleStatus()));
    if (this.followBrowserOnline) {
      this.browserOnline = navigator.onLine !== false;
      const offline = (): void => void this.setBrowserOnline(false);
      const online = (): void => void this.setBrowserOnline(true);
      window.addEventListener('offline', offline);
      window.addEventListener('online', online);
      this.unsubscribe.push(() => {
        window.removeEventListener('offline', offline);
        window.removeEventListener('online', online);
      });
    }
    this.connections.start();
    this.sync.start();
    // Finding peers goes on in the background: a slow or absent signaling server must not keep
    // the models (already usable) or the UI waiting. The status tells how it goes.
    if (this.online) void this.startDiscoveries();
    else this.connections.pause();
    this.scheduleStatus();
  }

  /** Leaves the room: stops discovery, closes every connection and transport. Models stay usable. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    await this.stopDiscoveries();
    this.connections.stop();
    this.sync.stop();
    for (const transport of this.transports) transport.close();
    this.scheduleStatus();
  }

  /** The seed's `registerDomainModel`: keeps `model` in sync with every peer that holds it. */
  registerDomainModel(modelId: string, model: SynchronizableDomainModel, options: RegisterModelOptions = {}): void {
    this.registry.register(modelId, model);
    try {
      this.sync.registerModel(modelId, model);
    } catch (error) {
      this.registry.unregister(modelId);
      throw error;
    }
    if (options.acknowledgedOwnSeq !== undefined) this.sync.setAcknowledgedOwnChanges(modelId, options.acknowledgedOwnSeq);
    const entry: ModelEntry = { model, persistence: options.persistence, unsubscribe: [], unsent: undefined };
    entry.unsubscribe.push(
      model.onChange((detail) => {
        this.events.emit('model-changed', detail);
        for (const event of attributeChangedEvents(detail)) this.events.emit('entity-attribute-changed', { modelId, ...event });
        this.scheduleStatus();
      }),
    );
    if (options.persistence) {
      entry.unsubscribe.push(
        options.persistence.onEvent((event) => {
          if (event.type === 'error') this.storageError = event.error.message;
          else if (event.type === 'saved') this.storageError = null;
          this.scheduleStatus();
        }),
      );
    }
    this.models.set(modelId, entry);
    this.scheduleStatus();
  }

  /** Stops syncing a model. */
  unregisterDomainModel(modelId: string): void {
    const entry = this.models.get(modelId);
    if (!entry) return;
    for (const unsubscribe of entry.unsubscribe) unsubscribe();
    this.models.delete(modelId);
    this.sync.unregisterModel(modelId);
    this.registry.unregister(modelId);
    this.scheduleStatus();
  }

  /** The seed's `connectToPeer`: one attempt to reach `address`; true once connected. */
  connectToPeer(address: PeerAddress): Promise<boolean> {
    return this.connections.connectToPeer(address);
  }

  /** The seed's `synchronizeModel`: exchanges what is missing with every peer holding the model. */
  synchronizeModel(modelId: string, timeoutMs?: number): Promise<SyncResult> {
    return this.sync.synchronize(modelId, timeoutMs);
  }

  /**
   * Works offline on purpose (true) or goes back online (false). Offline closes every peer
   * connection and leaves the signaling server; edits keep being stored and are sent on return.
   */
  async setWorkOffline(offline: boolean): Promise<void> {
    if (this.workOffline === offline) return;
    const wasOnline = this.online;
    this.workOffline = offline;
    await this.applyOnline(wasOnline);
  }

  /** Changes the name peers see for this device (trimmed; empty means none). */
  setDisplayName(name: string | null): void {
    this.sync.setDisplayName(name);
    this.displayNameValue = name?.trim() || null;
    this.scheduleStatus();
  }

  /** Records whether the browser granted persistent storage, for the status. */
  setPersistence(persistence: NodeStatus['persistence']): void {
    this.persistence = persistence;
    this.scheduleStatus();
  }

  /** Records a storage problem (or its end, with null), for the status. */
  setStorageError(message: string | null): void {
    this.storageError = message;
    this.scheduleStatus();
  }

  /**
   * Records that a peer's messages could not be opened with the room key (or, with null, that a
   * peer of the room was reached after all), for the status.
   */
  setRoomKeyProblem(message: string | null): void {
    this.roomKeyProblem = message;
    this.scheduleStatus();
  }

  /** Own changes of `modelId` that no peer has confirmed holding. */
  unsentChanges(modelId: string): number {
    const entry = this.models.get(modelId);
    if (!entry) return 0;
    const ownSeq = entry.model.version.get(this.nodeId);
    const acknowledged = ownSeq - this.sync.unsentChanges(modelId);
    // Counting walks the unsent changes; remote changes leave the count as it was, so skip it then.
    const cached = entry.unsent;
    if (cached && cached.ownSeq === ownSeq && cached.acknowledged === acknowledged) return cached.count;
    const count = unsentOwnChanges(entry.model, this.nodeId, acknowledged);
    entry.unsent = { ownSeq, acknowledged, count };
    return count;
  }

  /** The own sequence number up to which peers confirmed holding our changes of `modelId`. */
  acknowledgedOwnSeq(modelId: string): number {
    const entry = this.models.get(modelId);
    return entry ? entry.model.version.get(this.nodeId) - this.sync.unsentChanges(modelId) : 0;
  }

  private async setBrowserOnline(online: boolean): Promise<void> {
    if (this.browserOnline === online) return;
    const wasOnline = this.online;
    this.browserOnline = online;
    await this.applyOnline(wasOnline);
  }

  private async applyOnline(wasOnline: boolean): Promise<void> {
    const online = this.online;
    if (online !== wasOnline && this.running) {
      if (online) {
        this.connections.resume();
        await this.startDiscoveries();
      } else {
        this.connections.pause();
        await this.stopDiscoveries();
      }
    }
    this.scheduleStatus();
  }

  private async startDiscoveries(): Promise<void> {
    if (this.discoveriesRunning) return;
    this.discoveriesRunning = true;
    // One discovery failing to start (say, no signaling server) must not keep the others from working.
    await Promise.all(this.discoveries.map((discovery) => discovery.start().catch((error: unknown) => console.warn('[node] discovery failed to start', error))));
    // Peers reported before we subscribed, or while a discovery restarted.
    for (const discovery of this.discoveries) {
      const peers = await discovery.discoverPeers().catch(() => []);
      for (const address of peers) this.connections.keepConnected(address);
    }
  }

  private async stopDiscoveries(): Promise<void> {
    if (!this.discoveriesRunning) return;
    this.discoveriesRunning = false;
    await Promise.all(this.discoveries.map((discovery) => discovery.stop().catch(() => undefined)));
  }

  private onDiscoveryEvent(event: DiscoveryEvent): void {
    if (event.peerAddress.nodeId === this.nodeId) return;
    if (event.type === 'peer-discovered') {
      if (this.online) this.connections.keepConnected(event.peerAddress);
      this.events.emit('peer-discovered', event);
    } else {
      this.connections.release(event.peerAddress.nodeId, event.peerAddress.via);
      this.events.emit('peer-disconnected', event);
    }
    this.scheduleStatus();
  }

  private onSyncEvent(event: SyncEngineEvent): void {
    if (event.type === 'sync-progress') {
      const earlier = event.part > 1 && this.receiving?.peerId === event.peerId && this.receiving.modelId === event.modelId ? (this.receiving.items ?? 0) : 0;
      const progress: SyncProgressEvent = { modelId: event.modelId, peerId: event.peerId, part: event.part, parts: event.parts, items: earlier + event.items };
      this.receiving = event.part < event.parts ? progress : null;
      this.events.emit('sync-progress', progress);
    } else if (event.type === 'changes-applied' && event.result.conflicts.length > 0) {
      this.events.emit('conflict-detected', { modelId: event.modelId, conflicts: event.result.conflicts });
    } else if (event.type === 'peer-offence') {
      this.lastRefusals.set(event.peerId, event.reason);
      const name = this.sync.peerStatus().find((peer) => peer.peerId === event.peerId)?.name ?? null;
      const refusal: InputRefusedEvent = { at: Date.now(), peerId: event.peerId, peerName: name, reason: event.reason };
      this.refusalLog.push(refusal);
      if (this.refusalLog.length > MAX_REFUSALS) this.refusalLog.shift();
      this.events.emit('input-refused', refusal);
    } else if (event.type === 'peer-removed') {
      this.lastRefusals.delete(event.peerId);
      if (this.receiving?.peerId === event.peerId) this.receiving = null;
    }
    this.scheduleStatus();
  }

  private scheduleStatus(): void {
    if (this.statusScheduled) return;
    this.statusScheduled = true;
    queueMicrotask(() => {
      this.statusScheduled = false;
      const status = this.computeStatus();
      const key = JSON.stringify(status);
      if (key === this.lastStatusKey) return;
      this.lastStatusKey = key;
      this.lastStatus = status;
      this.events.emit('status-changed', { status });
    });
  }

  private computeStatus(): NodeStatus {
    const peers: PeerInfo[] = this.sync
      .peerStatus()
      .filter((peer) => peer.ready)
      .map((peer) => ({
        peerId: peer.peerId,
        displayName: peer.name,
        via: peer.via,
        inSync: peer.models.every((model) => model.inSync),
        refused: peer.offences,
        lastRefusal: this.lastRefusals.get(peer.peerId) ?? null,
      }));
    let unsent = 0;
    let unsaved = 0;
    for (const [modelId, entry] of this.models) {
      unsent += this.unsentChanges(modelId);
      unsaved += entry.persistence?.pending ?? 0;
    }
    return {
      nodeId: this.nodeId,
      displayName: this.displayNameValue,
      online: this.online,
      signaling: !this.signaling ? 'off' : !this.discoveriesRunning ? 'off' : this.signaling.connectionState,
      peers,
      unsentChanges: unsent,
      unsavedChanges: unsaved,
      receiving: this.receiving,
      persistence: this.persistence,
      storageError: this.storageError,
      roomKeyProblem: this.roomKeyProblem,
    };
  }
}
