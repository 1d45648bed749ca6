import type { NodeId } from '../crdt/dot.js';

/** How a peer can be reached: its node id and the transport that knows the way. */
export interface PeerAddress {
  readonly nodeId: NodeId;
  /** `Transport.kind` of the transport that reaches it, e.g. `webrtc`, `broadcast`, `memory`. */
  readonly via: string;
}

/** Connection states, as events report them. */
export const ConnectionState = {
  connecting: 'connecting',
  open: 'open',
  closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/**
 * An open, reliable, ordered, message-oriented link to one peer. Messages of any size are
 * delivered whole: transports split and join them and apply backpressure themselves.
 */
export interface PeerConnection {
  readonly peerId: NodeId;
  readonly via: string;
  readonly state: ConnectionState;
  /**
   * What identifies this connection's own encrypted channel on both ends, when the transport has
   * such a thing (WebRTC: both DTLS certificate fingerprints). An authentication handshake that
   * signs it cannot be relayed: a relay has its own channel to each side, with other fingerprints.
   */
  readonly channelBinding?: Uint8Array;
  /** Queues one message. Resolves once the transport accepted it (after backpressure waits). */
  send(message: Uint8Array): Promise<void>;
  /** Subscribes to whole incoming messages; returns the unsubscribe function. */
  onMessage(listener: (message: Uint8Array) => void): () => void;
  /** Called once, when the connection closes for any reason (either side, or failure). */
  onClose(listener: (reason: string) => void): () => void;
  close(reason?: string): void;
}

/**
 * The transport port. A transport opens connections to addresses and accepts incoming ones.
 * Implementations: in-memory, BroadcastChannel (tabs of one browser), WebRTC (`RTCPeerConnection`).
 */
export interface Transport {
  readonly kind: string;
  readonly localId: NodeId;
  /** Opens (or joins a simultaneous opening of) a connection to `peer`. Rejects on failure. */
  connect(peer: NodeId): Promise<PeerConnection>;
  /** Subscribes to connections that peers opened to us; returns the unsubscribe function. */
  onConnection(listener: (connection: PeerConnection) => void): () => void;
  /** Closes every connection and stops accepting new ones. */
  close(): void;
}
