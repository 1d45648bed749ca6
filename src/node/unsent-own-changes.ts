import type { NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/index.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';

/**
 * The node's own changes in `model` after sequence number `acknowledged`: what no peer has
 * confirmed holding. Counted from the changes themselves, not from sequence numbers, because a
 * reloaded tab marks a whole block of reserved numbers as used, and those are no changes.
 * Cost is proportional to the unsent changes, not to the model.
 */
export function unsentOwnChanges(model: SynchronizableDomainModel, nodeId: NodeId, acknowledged: number): number {
  const version = model.version;
  if (version.get(nodeId) <= acknowledged) return 0;
  const json = version.toJSON();
  if (acknowledged > 0) json[nodeId] = acknowledged;
  else delete json[nodeId];
  return model.getChangesSince(VersionVector.fromJSON(json)).length;
}
