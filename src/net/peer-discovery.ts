import type { NodeId } from '../crdt/dot.js';
import type { PeerAddress } from './transport.js';

/** The seed's `PeerDiscoveredEvent`. */
export interface PeerDiscoveredEvent {
  readonly type: 'peer-discovered';
  readonly peerAddress: PeerAddress;
}

/** The seed's `PeerDisconnectedEvent`: the peer left the room (or its discovery channel died). */
export interface PeerDisconnectedEvent {
  readonly type: 'peer-disconnected';
  readonly peerAddress: PeerAddress;
  readonly reason: string;
}

export type DiscoveryEvent = PeerDiscoveredEvent | PeerDisconnectedEvent;

/**
 * Relays small connection-setup messages (WebRTC offers, answers, ICE candidates) to one peer.
 * Discovery mechanisms provide it, since they already know how to reach peers of the room.
 */
export interface SignalingChannel {
  sendSignal(to: NodeId, data: unknown): void;
  onSignal(listener: (from: NodeId, data: unknown) => void): () => void;
}

/** The seed's `PeerDiscovery` port: finds the peers of one room. */
export interface PeerDiscovery {
  /** Joins the room and starts reporting peers. */
  start(): Promise<void>;
  /** Leaves the room; peers are no longer reported. */
  stop(): Promise<void>;
  /** Peers currently known in the room. */
  discoverPeers(): Promise<PeerAddress[]>;
  /** Subscribes to discovery events; returns the unsubscribe function. */
  onEvent(listener: (event: DiscoveryEvent) => void): () => void;
}
