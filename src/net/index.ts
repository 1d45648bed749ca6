// The net layer's public surface: the transport and discovery ports, their in-memory,
// BroadcastChannel and WebRTC/signaling-server implementations, and the ConnectionManager.
export { ConnectionState, type PeerAddress, type PeerConnection, type Transport } from './transport.js';
export type {
  DiscoveryEvent,
  PeerDisconnectedEvent,
  PeerDiscoveredEvent,
  PeerDiscovery,
  SignalingChannel,
} from './peer-discovery.js';
export { consoleLogger, type NetLogger } from './logger.js';
export type { BackoffOptions } from './backoff.js';
export type { BackpressureOptions } from './backpressured-sender.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './message-framer.js';
export type { BroadcastChannelConstructor, BroadcastChannelLike } from './broadcast-channel-like.js';

export { ConnectionManager, type ConnectionManagerOptions, type ConnectionStateEvent } from './connection-manager.js';

export { MemoryNetwork, type MemoryNetworkOptions } from './memory-network.js';
export { MemoryTransport, type MemoryTransportOptions } from './memory-transport.js';
export { MemoryDiscovery, type MemoryDiscoveryOptions } from './memory-discovery.js';

export { BroadcastChannelTransport, type BroadcastChannelTransportOptions } from './broadcast-channel-transport.js';
export { LocalNetworkDiscovery, type LocalNetworkDiscoveryOptions } from './local-network-discovery.js';

export {
  ServerBasedDiscovery,
  SignalingState,
  signalingUrl,
  type ServerBasedDiscoveryOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './server-based-discovery.js';
export { WebRtcTransport, type WebRtcTransportOptions } from './webrtc-transport.js';
