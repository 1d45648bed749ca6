import type { NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/index.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';

/** This node's changes no peer has confirmed: as operations, and as the user's edits. */
export interface UnsentOwnChanges {
  /** Changes (one per register or relation written), for the engine's accounting. */
  readonly changes: number;
  /**
   * The entities among them, each counted once: what the user did. Creating an election and two
   * candidates is three edits, not the dozen operations (one per attribute and relation) under them.
   */
  readonly edits: number;
}

/**
 * The node's own changes in `model` after sequence number `acknowledged`: what no peer has
 * confirmed holding. Counted from the changes themselves, not from sequence numbers, because a
 * reloaded tab marks a whole block of reserved numbers as used, and those are no changes.
 * Cost is proportional to the unsent changes, not to the model.
 */
export function unsentOwnChanges(model: SynchronizableDomainModel, nodeId: NodeId, acknowledged: number): UnsentOwnChanges {
  const version = model.version;
  if (version.get(nodeId) <= acknowledged) return { changes: 0, edits: 0 };
  const json = version.toJSON();
  if (acknowledged > 0) json[nodeId] = acknowledged;
  else delete json[nodeId];
  const changes = model.getChangesSince(VersionVector.fromJSON(json));
  return { changes: changes.length, edits: new Set(changes.map((change) => `${change.entityType}/${change.oid}`)).size };
}
