// The node layer: the seed's EDNetP2PNode composing discovery, connections, synchronization and
// models, with its typed event bus and model registry.
export { DomainModelRegistry } from './domain-model-registry.js';
export {
  EDNetP2PNode,
  type EDNetP2PNodeOptions,
  type PersistenceStatusSource,
  type RegisterModelOptions,
  type SignalingStatusSource,
} from './ednet-p2p-node.js';
export { EventBus } from './event-bus.js';
export { ItemSignatures, SignatureState } from './item-signatures.js';
export type {
  ConflictDetectedEvent,
  EDNetEvents,
  EntityAttributeChangedEvent,
  InputRefusedEvent,
  ModelChangedEvent,
  NodeStatus,
  PeerDisconnectedEvent,
  PeerDiscoveredEvent,
  PeerInfo,
  RoomStatus,
  StatusChangedEvent,
  SyncProgressEvent,
} from './node-events.js';
export { unsentOwnChanges } from './unsent-own-changes.js';
