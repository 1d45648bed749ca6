import type { NodeId } from '../crdt/dot.js';
import { attributeChangedEvents } from '../domain/model-events.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import { ConnectionManager } from '../net/connection-manager.js';
import type { DiscoveryEvent, PeerDiscovery } from '../net/peer-discovery.js';
import type { PeerAddress, PeerConnection, Transport } from '../net/transport.js';
import { RoomOverlay } from '../overlay/room-overlay.js';
import type { RelayedSignaling } from '../overlay/relayed-signaling.js';
import type { StorageProblem } from '../store/quarantine.js';
import { SynchronizationEngine, type SyncEngineEvent, type SyncLogger, type SyncResult } from '../sync/synchronization-engine.js';
import { DomainModelRegistry } from './domain-model-registry.js';
import type { EDNetP2PNodeOptions, RegisterModelOptions, SignalingStatusSource } from './ednet-p2p-node-options.js';
import { EventBus } from './event-bus.js';
import { ItemSignatures } from './item-signatures.js';
import { NodeReports } from './node-reports.js';
import type { EDNetEvents, InputRefusedEvent, NodeStatus } from './node-events.js';
import { NodeStatusTracker } from './node-status-tracker.js';
import { OnlineController } from './online-controller.js';

export type { EDNetP2PNodeOptions, PersistenceStatusSource, RegisterModelOptions, SignalingStatusSource } from './ednet-p2p-node-options.js';

/**
 * The seed's `EDNetP2PNode`: one peer. It finds peers through its discoveries, keeps one
 * connection per peer through the `ConnectionManager`, and hands every connection to the
 * `SynchronizationEngine`, which keeps each registered model in sync with every peer that holds
 * it. Going offline and online is the `OnlineController`'s; everything a UI needs to show is one
 * `NodeStatus` value, kept by the `NodeStatusTracker` and announced as `status-changed`.
 */
export class EDNetP2PNode {
  readonly nodeId: NodeId;
  readonly events = new EventBus<EDNetEvents>();
  readonly registry = new DomainModelRegistry();
  readonly connections: ConnectionManager;
  readonly sync: SynchronizationEngine;
  /** The room's partial mesh, unless turned off (`overlay: false`). */
  readonly overlay: RoomOverlay | undefined;
  private readonly transports: readonly Transport[];
  private readonly relayedSignaling: RelayedSignaling | undefined;
  private readonly discoveries: readonly PeerDiscovery[];
  private readonly signaling: SignalingStatusSource | undefined;
  private readonly followBrowserOnline: boolean;
  private readonly authenticate: EDNetP2PNodeOptions['authenticate'];
  private readonly logger: SyncLogger;
  /** What unregistering each model unsubscribes. */
  private readonly modelSubscriptions = new Map<string, Array<() => void>>();
  private readonly unsubscribe: Array<() => void> = [];
  private displayNameValue: string | null;
  private running = false;
  /** Problems reported to the node and input refused from peers (status and audit log). */
  private readonly reports = new NodeReports(
    () => this.scheduleStatus(),
    (refusal) => this.events.emit('input-refused', refusal),
  );
  private readonly onlineControl: OnlineController;
  private readonly statusTracker: NodeStatusTracker;

  constructor(options: EDNetP2PNodeOptions) {
    this.nodeId = options.nodeId;
    this.transports = options.transports;
    this.discoveries = options.discoveries ?? [];
    this.signaling = options.signaling;
    this.displayNameValue = options.displayName ?? null;
    this.followBrowserOnline = options.followBrowserOnline ?? typeof window !== 'undefined';
    this.authenticate = options.authenticate;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(`[node] ${message}`, details ?? '') };
    this.relayedSignaling = options.relayedSignaling;
    this.overlay =
      options.overlay === false
        ? undefined
        : new RoomOverlay({
            ...options.overlay,
            me: options.nodeId,
            port: { connect: (peer) => this.onlineControl.connectForOverlay(peer) },
            digest: () => this.statusTracker.stateDigest(),
            contacts: () => this.onlineControl.contacts(),
            logger: this.logger,
          });
    const activeViewSize = this.overlay?.hyparview.config.activeViewSize;
    this.connections = new ConnectionManager({
      localId: options.nodeId,
      transports: options.transports,
      maxConnections: options.maxConnections ?? (activeViewSize === undefined ? undefined : activeViewSize + 8),
      backoff: options.backoff,
    });
    this.sync = new SynchronizationEngine({
      ...options.sync,
      nodeId: options.nodeId,
      displayName: this.displayNameValue,
      logger: options.logger,
    });
    this.onlineControl = new OnlineController({
      nodeId: options.nodeId,
      connections: this.connections,
      overlay: this.overlay,
      discoveries: this.discoveries,
      transports: options.transports,
      relayedTransports: options.relayedTransports ?? options.transports.map((transport) => transport.kind),
      running: () => this.running,
      changed: () => this.scheduleStatus(),
    });
    this.statusTracker = new NodeStatusTracker({
      nodeId: options.nodeId,
      sync: this.sync,
      reports: this.reports,
      overlay: this.overlay,
      running: () => this.running,
      online: () => this.online,
      displayName: () => this.displayNameValue,
      signaling: () => (!this.signaling ? 'off' : !this.onlineControl.discovering ? 'off' : this.signaling.connectionState),
      announce: (status) => this.events.emit('status-changed', { status }),
    });
  }

  /** The name peers see for this device. */
  get displayName(): string | null {
    return this.displayNameValue;
  }

  /** False while the browser is offline or the user chose to work offline. */
  get online(): boolean {
    return this.onlineControl.online;
  }

  /** The latest input refused from peers, oldest first (at most 200; see `InputRefusedEvent`). */
  get refusals(): readonly InputRefusedEvent[] {
    return this.reports.refusals;
  }

  /** Everything the status bar shows, now. */
  get status(): NodeStatus {
    return this.statusTracker.status;
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
        this.reports.connected();
        if (!this.authenticate) {
          this.addConnection(connection);
          return;
        }
        this.authenticate(connection).then(
          (authenticated) => this.addConnection(authenticated),
          (error: unknown) => {
            this.logger.warn(`refused the connection to ${connection.peerId}`, error);
            connection.close(`authentication failed: ${(error as Error)?.message ?? error}`);
            this.overlay?.connectionRefused(connection.peerId);
          },
        );
      }),
      this.connections.onStateChange(() => this.scheduleStatus()),
      this.sync.onEvent((event) => this.onSyncEvent(event)),
      ...this.discoveries.map((discovery) => discovery.onEvent((event) => this.onDiscoveryEvent(event))),
    );
    if (this.signaling) this.unsubscribe.push(this.signaling.onConnectionState(() => this.scheduleStatus()));
    if (this.overlay) {
      const overlay = this.overlay;
      this.unsubscribe.push(overlay.onChange(() => this.scheduleStatus()));
      if (this.relayedSignaling) {
        const relayed = this.relayedSignaling;
        relayed.attach(overlay);
        this.unsubscribe.push(overlay.onSignal((from, data) => relayed.deliver(from, data)), () => relayed.attach(undefined));
      }
    }
    if (this.followBrowserOnline) this.unsubscribe.push(this.onlineControl.followBrowser());
    this.connections.start();
    this.sync.start();
    if (this.online) this.overlay?.start();
    // Finding peers goes on in the background: a slow or absent signaling server must not keep
    // the models (already usable) or the UI waiting. The status tells how it goes.
    if (this.online) void this.onlineControl.startDiscoveries();
    else this.connections.pause();
    this.scheduleStatus();
  }

  /** Leaves the room: stops discovery, closes every connection and transport. Models stay usable. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // Neighbors hear that we leave before the connections close.
    this.overlay?.stop();
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    await this.onlineControl.stopDiscoveries();
    this.connections.stop();
    this.sync.stop();
    for (const transport of this.transports) transport.close();
    this.scheduleStatus();
  }

  /** The seed's `registerDomainModel`: keeps `model` in sync with every peer that holds it. */
  registerDomainModel(modelId: string, model: SynchronizableDomainModel, options: RegisterModelOptions = {}): void {
    this.registry.register(modelId, model);
    try {
      this.sync.registerModel(modelId, model, { durability: options.persistence });
    } catch (error) {
      this.registry.unregister(modelId);
      throw error;
    }
    if (options.acknowledgedOwnSeq !== undefined) this.sync.setAcknowledgedOwnChanges(modelId, options.acknowledgedOwnSeq);
    const subscriptions: Array<() => void> = [];
    // Found while loading, before anyone listened: kept as state, so they are not lost.
    if (options.persistence?.problems) this.reportStorageProblems(options.persistence.problems);
    subscriptions.push(
      model.onChange((detail) => {
        this.overlay?.stateChanged();
        this.events.emit('model-changed', detail);
        // Built per change of every applied slice (65,000 while a 10,000-entity room arrives): only if heard.
        if (this.events.has('entity-attribute-changed')) for (const event of attributeChangedEvents(detail)) this.events.emit('entity-attribute-changed', { modelId, ...event });
        this.scheduleStatus();
      }),
    );
    if (options.persistence) {
      subscriptions.push(
        options.persistence.onEvent((event) => {
          if (event.type === 'error') this.reports.setStorageError(event.error.message);
          else if (event.type === 'saved') this.reports.setStorageError(null);
          else if (event.type === 'quarantined') this.reports.reportStorageProblems(event.problems);
          this.scheduleStatus();
        }),
      );
    }
    this.modelSubscriptions.set(modelId, subscriptions);
    this.statusTracker.track(modelId, model, options.persistence);
    this.scheduleStatus();
  }

  private peerName(peerId: NodeId): string | null {
    return this.sync.peerStatus().find((peer) => peer.peerId === peerId)?.name ?? null;
  }

  /** Stops syncing a model. */
  unregisterDomainModel(modelId: string): void {
    const subscriptions = this.modelSubscriptions.get(modelId);
    if (!subscriptions) return;
    for (const unsubscribe of subscriptions) unsubscribe();
    this.modelSubscriptions.delete(modelId);
    this.statusTracker.untrack(modelId);
    this.sync.unregisterModel(modelId);
    this.registry.unregister(modelId);
    this.scheduleStatus();
  }

  /**
   * How `modelId`'s items are signed here, for views (an audit); undefined when this room's changes
   * are not signed.
   */
  signatures(modelId: string): ItemSignatures | undefined {
    const certification = this.sync.certification;
    return certification && new ItemSignatures(certification.store(modelId), (node) => certification.signer.ownsNodeId(node));
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
  setWorkOffline(offline: boolean): Promise<void> {
    return this.onlineControl.setWorkOffline(offline);
  }

  /** Changes the name peers see for this device (trimmed; empty means none). */
  setDisplayName(name: string | null): void {
    this.sync.setDisplayName(name);
    this.displayNameValue = name?.trim() || null;
    this.scheduleStatus();
  }

  /** Records whether the browser granted persistent storage, for the status. */
  setPersistence(persistence: NodeStatus['persistence']): void {
    this.reports.setPersistence(persistence);
  }

  /** Records a storage problem (or its end, with null), for the status. */
  setStorageError(message: string | null): void {
    this.reports.setStorageError(message);
  }

  /**
   * Records damaged stored records that were worked around (each once), for the status: they stay
   * listed for the rest of the session.
   */
  reportStorageProblems(problems: readonly StorageProblem[]): void {
    this.reports.reportStorageProblems(problems);
  }

  /**
   * Records that a peer's messages could not be opened with the room key (or, with null, that a
   * peer of the room was reached after all), for the status.
   */
  setRoomKeyProblem(message: string | null): void {
    this.reports.setRoomKeyProblem(message);
  }

  /**
   * Records as one neutral line of the refused input (Audit tab) that a device holding another
   * room key, or none, sent something under this room's topic: at most one line per sender a
   * minute. Never a status alert: this device holds the right key, and the sender (or the server)
   * may be anyone, so the alert would only alarm members about nothing they can fix.
   */
  noteOtherKey(peerId: NodeId): void {
    this.reports.otherKey(peerId, this.peerName(peerId));
  }

  /** Records why a device of the room could not be reached (null: forget it), for the status. */
  setConnectionProblem(message: string | null): void {
    this.reports.setConnectionProblem(message);
  }

  /** Own changes of `modelId` that no peer has confirmed holding. */
  unsentChanges(modelId: string): number {
    return this.statusTracker.unsentOwn(modelId).changes;
  }

  /** The own sequence number up to which peers confirmed holding our changes of `modelId`. */
  acknowledgedOwnSeq(modelId: string): number {
    return this.statusTracker.acknowledgedOwnSeq(modelId);
  }

  private onDiscoveryEvent(event: DiscoveryEvent): void {
    if (event.peerAddress.nodeId === this.nodeId) return;
    if (event.type === 'peer-discovered') {
      this.onlineControl.peerFound(event.peerAddress);
      this.events.emit('peer-discovered', event);
    } else {
      this.onlineControl.peerLost(event.peerAddress);
      this.events.emit('peer-disconnected', event);
    }
    this.scheduleStatus();
  }

  /** Every open connection, once authenticated: the overlay takes its frames, the sync engine the rest. */
  private addConnection(connection: PeerConnection): void {
    this.sync.addConnection(this.overlay ? this.overlay.attach(connection) : connection);
  }

  private onSyncEvent(event: SyncEngineEvent): void {
    if (event.type === 'sync-progress') {
      this.events.emit('sync-progress', this.statusTracker.received(event));
    } else if (event.type === 'changes-applied' && event.result.conflicts.length > 0) {
      this.events.emit('conflict-detected', { modelId: event.modelId, conflicts: event.result.conflicts });
    } else if (event.type === 'peer-offence') {
      this.reports.offence(event.peerId, this.peerName(event.peerId), event.reason);
    } else if (event.type === 'equivocation') {
      this.reports.equivocation(event.modelId, event.author, this.peerName(event.author), event.seq, event.peerId);
    } else if (event.type === 'state-mismatch') {
      // Not the peer's fault as such, but what the Audit tab is for: a difference versions hid.
      this.reports.log(event.peerId, this.peerName(event.peerId), 'held the same version as this device but different data: exchanging the differing entities to repair it');
    } else if (event.type === 'peer-removed') {
      this.reports.peerGone(event.peerId);
      this.statusTracker.peerRemoved(event.peerId);
    }
    this.scheduleStatus();
  }

  private scheduleStatus(): void {
    this.statusTracker.schedule();
  }
}
