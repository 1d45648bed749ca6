import type { NodeId } from '../crdt/dot.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { RoomOverlay } from '../overlay/room-overlay.js';
import type { SyncEngineEvent, SynchronizationEngine } from '../sync/synchronization-engine.js';
import type { NodeReports } from './node-reports.js';
import type { NodeStatus, PeerInfo, RoomStatus, SyncProgressEvent } from './node-events.js';
import { type UnsentOwnChanges, unsentOwnChanges } from './unsent-own-changes.js';

/** Two FNV-1a hashes of `text`, as 16 hex digits: a digest short enough to gossip for every member. */
function digestOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** What the status needs of a model's persistence (`PersistenceStatusSource` fits). */
export interface PendingSaves {
  readonly pending: number;
}

/** Where `NodeStatusTracker` reads what the status shows; the node passes its parts. */
export interface NodeStatusSources {
  readonly nodeId: NodeId;
  readonly sync: Pick<SynchronizationEngine, 'peerStatus' | 'unsentChanges'>;
  readonly reports: Pick<NodeReports, 'lastRefusalOf' | 'status'>;
  readonly overlay: Pick<RoomOverlay, 'roster'> | undefined;
  readonly running: () => boolean;
  readonly online: () => boolean;
  readonly displayName: () => string | null;
  readonly signaling: () => NodeStatus['signaling'];
  /** Announces a status that differs from the last one (`status-changed`). */
  readonly announce: (status: NodeStatus) => void;
}

interface TrackedModel {
  readonly model: SynchronizableDomainModel;
  readonly persistence: PendingSaves | undefined;
  /** The last unsent count, valid while our own seq and what peers confirmed stay the same. */
  unsent: { readonly ownSeq: number; readonly acknowledged: number; readonly count: UnsentOwnChanges } | undefined;
}

/**
 * The node's `NodeStatus`: built from the sync engine's peers, the overlay's roster, the tracked
 * models' unsent and unsaved changes, the receive progress and the node's reports. Recomputed at
 * most once per event-loop turn (`schedule`) and announced only when it differs.
 */
export class NodeStatusTracker {
  private readonly models = new Map<string, TrackedModel>();
  private receiving: SyncProgressEvent | null = null;
  private lastStatus: NodeStatus;
  private lastStatusKey = '';
  private scheduled = false;

  constructor(private readonly sources: NodeStatusSources) {
    this.lastStatus = this.compute();
  }

  /** The status as last computed. */
  get status(): NodeStatus {
    return this.lastStatus;
  }

  /** Counts `model`'s unsent (and, with `persistence`, unsaved) changes in the status. */
  track(modelId: string, model: SynchronizableDomainModel, persistence: PendingSaves | undefined): void {
    this.models.set(modelId, { model, persistence, unsent: undefined });
  }

  /** Stops counting a model. */
  untrack(modelId: string): void {
    this.models.delete(modelId);
  }

  /** Recomputes the status at the end of this event-loop turn, announcing it if it differs. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const status = this.compute();
      const key = JSON.stringify(status);
      if (key === this.lastStatusKey) return;
      this.lastStatusKey = key;
      this.lastStatus = status;
      this.sources.announce(status);
    });
  }

  /**
   * Records a part of a delta received (`sync-progress`) and returns the progress to announce:
   * items counted across the parts of one delta, until its last part ends the receiving.
   */
  received(event: Extract<SyncEngineEvent, { type: 'sync-progress' }>): SyncProgressEvent {
    const earlier = event.part > 1 && this.receiving?.peerId === event.peerId && this.receiving.modelId === event.modelId ? (this.receiving.items ?? 0) : 0;
    const progress: SyncProgressEvent = { modelId: event.modelId, peerId: event.peerId, part: event.part, parts: event.parts, items: earlier + event.items };
    this.receiving = event.part < event.parts ? progress : null;
    return progress;
  }

  /** A peer left: what it was sending will not arrive. */
  peerRemoved(peerId: NodeId): void {
    if (this.receiving?.peerId === peerId) this.receiving = null;
  }

  /** Own changes of `modelId` no peer has confirmed, as changes and as the user's edits. */
  unsentOwn(modelId: string): UnsentOwnChanges {
    const entry = this.models.get(modelId);
    if (!entry) return { changes: 0, edits: 0 };
    const { nodeId, sync } = this.sources;
    const ownSeq = entry.model.version.get(nodeId);
    const acknowledged = ownSeq - sync.unsentChanges(modelId);
    // Counting walks the unsent changes; remote changes leave the count as it was, so skip it then.
    const cached = entry.unsent;
    if (cached && cached.ownSeq === ownSeq && cached.acknowledged === acknowledged) return cached.count;
    const count = unsentOwnChanges(entry.model, nodeId, acknowledged);
    entry.unsent = { ownSeq, acknowledged, count };
    return count;
  }

  /** The own sequence number up to which peers confirmed holding our changes of `modelId`. */
  acknowledgedOwnSeq(modelId: string): number {
    const entry = this.models.get(modelId);
    return entry ? entry.model.version.get(this.sources.nodeId) - this.sources.sync.unsentChanges(modelId) : 0;
  }

  /**
   * A short summary of every tracked model's version: members whose digests are equal hold the
   * same changes. Not a security measure (a member can claim any digest); it only lets the status
   * count members beyond direct connections as in sync.
   */
  stateDigest(): string {
    let text = '';
    for (const modelId of [...this.models.keys()].sort()) {
      text += `${modelId}\u0000${JSON.stringify(this.models.get(modelId)!.model.version.toJSON())}\u0000`;
    }
    return text === '' ? '' : digestOf(text);
  }

  /** Who is in the room beyond direct connections, from the overlay's roster. */
  private roomStatus(peers: readonly PeerInfo[]): RoomStatus {
    const connected = peers.length;
    const inSyncConnected = peers.filter((peer) => peer.inSync).length;
    const overlay = this.sources.overlay;
    if (!overlay || !this.sources.running()) {
      return { devices: connected + 1, reached: connected + 1, inSync: inSyncConnected, connected };
    }
    const counts = overlay.roster.counts();
    const byId = new Map(peers.map((peer) => [peer.peerId, peer]));
    const digest = this.stateDigest();
    let inSync = inSyncConnected;
    let reached = counts.reached;
    const reachedMembers = new Set(overlay.roster.reachedMembers());
    for (const member of reachedMembers) {
      // A connected peer the engine has not confirmed (a lazy broadcast link hears of our changes
      // by the tree, not from us) counts by its gossiped digest, as members beyond connections do.
      if (byId.get(member)?.inSync) continue;
      if (digest !== '' && overlay.roster.digestOf(member) === digest) inSync++;
    }
    // A connected peer the roster has not counted yet (it just connected) is reached all the same.
    for (const peer of peers) if (!reachedMembers.has(peer.peerId)) reached++;
    return { devices: Math.max(counts.known, reached), reached, inSync, connected };
  }

  private compute(): NodeStatus {
    const { sources } = this;
    const peers: PeerInfo[] = sources.sync
      .peerStatus()
      .filter((peer) => peer.ready)
      .map((peer) => ({
        peerId: peer.peerId,
        displayName: peer.name,
        via: peer.via,
        inSync: peer.models.every((model) => model.inSync),
        refused: peer.offences,
        lastRefusal: sources.reports.lastRefusalOf(peer.peerId),
      }));
    let unsent = 0;
    let edits = 0;
    let unsaved = 0;
    for (const [modelId, entry] of this.models) {
      const own = this.unsentOwn(modelId);
      unsent += own.changes;
      edits += own.edits;
      unsaved += entry.persistence?.pending ?? 0;
    }
    return {
      nodeId: sources.nodeId,
      room: this.roomStatus(peers),
      displayName: sources.displayName(),
      online: sources.online(),
      signaling: sources.signaling(),
      peers,
      unsentChanges: unsent,
      unsentEdits: edits,
      unsavedChanges: unsaved,
      receiving: this.receiving,
      ...sources.reports.status(),
    };
  }
}
