import type { NodeId } from '../crdt/dot.js';
import type { Conflict, ModelChange } from '../domain/model-change.js';
import type { PeerDisconnectedEvent, PeerDiscoveredEvent } from '../net/peer-discovery.js';
import type { StorageProblem } from '../store/quarantine.js';

export type { PeerDiscoveredEvent, PeerDisconnectedEvent };

/** The seed's `ModelChangedEvent`: a model changed, by a local edit or a merge. */
export interface ModelChangedEvent {
  readonly modelId: string;
  readonly origin: 'local' | 'remote';
  readonly changes: readonly ModelChange[];
}

/** The seed's `EntityAttributeChangedEvent`, one per attribute write that changed a shown value. */
export interface EntityAttributeChangedEvent {
  readonly modelId: string;
  readonly entityId: string;
  readonly attributeName: string;
  readonly newValue: unknown;
  readonly timestamp: number;
  readonly nodeId: NodeId;
}

/** Progress while a large delta arrives in parts. */
export interface SyncProgressEvent {
  readonly modelId: string;
  readonly peerId: NodeId;
  readonly part: number;
  readonly parts: number;
  /** Entities received so far in this delta (an entity split over two parts counts twice); absent if unknown. */
  readonly items?: number;
}

/** Conflicts present after a merge. */
export interface ConflictDetectedEvent {
  readonly modelId: string;
  readonly conflicts: readonly Conflict[];
}

/** The node's overall status changed (peers, sync state, signaling, storage, online). */
export interface StatusChangedEvent {
  readonly status: NodeStatus;
}

/**
 * The room beyond direct connections, from the overlay's member roster: "in sync with all 99
 * devices (7 connected)", "reaching 67 of 100 devices". Devices are nodes (one per tab).
 */
export interface RoomStatus {
  /** Devices of the room known (heard of recently and not gone), this one included. */
  readonly devices: number;
  /** Of these, devices heard from recently (directly or through the overlay), this one included. */
  readonly reached: number;
  /**
   * Other devices known to hold exactly our state: connected peers whose version equals ours, and
   * others whose last gossiped state digest equals ours (so it lags by the gossip delay).
   */
  readonly inSync: number;
  /** Devices connected directly (the overlay's active view once authenticated). */
  readonly connected: number;
}

/** Everything the status bar shows, as one value. */
export interface NodeStatus {
  readonly nodeId: NodeId;
  /** Always set by `EDNetP2PNode` (optional so hand-made statuses in tests and previews stay valid). */
  readonly room?: RoomStatus;
  /** The name peers see for this device, or null. */
  readonly displayName: string | null;
  /** False when the browser is offline or the user chose to work offline. */
  readonly online: boolean;
  readonly signaling: 'off' | 'connecting' | 'connected' | 'disconnected';
  readonly peers: readonly PeerInfo[];
  /** Local changes no peer has confirmed holding yet. */
  readonly unsentChanges: number;
  /**
   * The user's edits among them: entities changed, each counted once. Always set by
   * `EDNetP2PNode`; without it the status counts changes.
   */
  readonly unsentEdits?: number;
  /** Local changes not yet durably stored. */
  readonly unsavedChanges: number;
  /** A large room being received, if any. */
  readonly receiving: SyncProgressEvent | null;
  /** Persistent storage: granted, refused, or not offered by this browser. */
  readonly persistence: 'granted' | 'denied' | 'unsupported' | 'unknown';
  /** The last storage problem, in words, if any. */
  readonly storageError: string | null;
  /**
   * Damaged stored records found while opening (or later) and worked around: kept aside, replaced
   * by defaults or made afresh. The room opened without them; peers send lost entities again.
   * The node always sets it; optional so hand-made statuses (tests, screenshots) may leave it out.
   */
  readonly storageProblems?: readonly StorageProblem[];
  /**
   * A peer of the room holds another room key or none (its messages could not be opened): this
   * device's link is outdated or wrong, or the other one's is. Null while no mismatch was seen.
   */
  readonly roomKeyProblem: string | null;
  /**
   * Why the last attempt to reach a device of the room failed, in words ("could not reach this
   * device: no relay configured"), until a connection opens. Null when nothing failed.
   */
  readonly connectionProblem: string | null;
}

/** One connected peer. */
export interface PeerInfo {
  readonly peerId: NodeId;
  readonly displayName: string | null;
  readonly via: string;
  /** True when every shared model has exactly the same version on both sides. */
  readonly inSync: boolean;
  /** Messages or changes from this peer that were refused (invalid, or breaking the model's rules). */
  readonly refused: number;
  /** Why the last one was refused, in words; null if none was. */
  readonly lastRefusal: string | null;
}

/** The typed events of an `EDNetP2PNode`'s `EventBus`. */
/**
 * Input from a peer this node refused (a frame it could not decode, a change without a valid
 * signature, a change breaking the model's rules), kept for the audit view. Only this replica's
 * record: what reached it, not what every replica saw.
 */
export interface InputRefusedEvent {
  /** Wall-clock ms when it was refused. */
  readonly at: number;
  readonly peerId: NodeId;
  /** The display name the peer gave, if any (untrusted text). */
  readonly peerName: string | null;
  readonly reason: string;
}

export interface EDNetEvents {
  'peer-discovered': PeerDiscoveredEvent;
  'peer-disconnected': PeerDisconnectedEvent;
  'model-changed': ModelChangedEvent;
  'entity-attribute-changed': EntityAttributeChangedEvent;
  'sync-progress': SyncProgressEvent;
  'conflict-detected': ConflictDetectedEvent;
  'status-changed': StatusChangedEvent;
  'input-refused': InputRefusedEvent;
}
