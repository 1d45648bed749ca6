import type { NodeId } from '../crdt/dot.js';
import type { BackoffOptions } from '../net/backoff.js';
import type { PeerConnection, Transport } from '../net/transport.js';
import type { PeerDiscovery } from '../net/peer-discovery.js';
import type { RoomOverlayOptions } from '../overlay/room-overlay.js';
import type { RelayedSignaling } from '../overlay/relayed-signaling.js';
import type { PersistenceEvent } from '../store/model-persistence.js';
import type { StorageProblem } from '../store/quarantine.js';
import type { ModelDurability, SyncLogger, SynchronizationEngineOptions } from '../sync/synchronization-engine.js';

/** The connection state of a signaling server client, as the status bar shows it. */
export interface SignalingStatusSource {
  readonly connectionState: 'connecting' | 'connected' | 'disconnected';
  onConnectionState(listener: (state: 'connecting' | 'connected' | 'disconnected') => void): () => void;
}

/**
 * What the node needs of a model's persistence (`ModelPersistence` fits): unsaved changes and
 * problems for the status, and what is stored, so the sync engine claims and sends only that.
 */
export interface PersistenceStatusSource extends ModelDurability {
  readonly pending: number;
  /** Damaged stored records kept aside while loading (`ModelPersistence` fits). */
  readonly problems?: readonly StorageProblem[];
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
  /**
   * Open connections at most (incoming ones past it are refused). Default: the overlay's active
   * view plus 8 for connections being set up; 32 without the overlay.
   */
  readonly maxConnections?: number;
  /**
   * The room's partial mesh (`RoomOverlay`: HyParView, the member roster, relayed signaling).
   * Default on; `false` connects to every discovered peer instead, as before the overlay.
   */
  readonly overlay?: false | Omit<RoomOverlayOptions, 'me' | 'port' | 'digest' | 'logger'>;
  /** Attached to the overlay, so transports built with it signal through other members. */
  readonly relayedSignaling?: RelayedSignaling;
  /**
   * Transport kinds that can reach any room member, given signaling (relayed by the overlay when
   * the server does not list it); the overlay connects members it heard of through them. Default: all.
   */
  readonly relayedTransports?: readonly string[];
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
