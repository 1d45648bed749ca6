import type { NodeId } from '../src/crdt/index.js';
import type { NodeStatus } from '../src/node/index.js';

/** A node's status for view tests: online, signaling connected, no peers, nothing waiting, unless `overrides` say otherwise. */
export function nodeStatus(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    nodeId: 'alice-node-0123456789' as NodeId,
    displayName: 'Alice',
    online: true,
    signaling: 'connected',
    peers: [],
    unsentChanges: 0,
    unsavedChanges: 0,
    receiving: null,
    persistence: 'granted',
    storageError: null,
    roomKeyProblem: null,
    connectionProblem: null,
    ...overrides,
  };
}
