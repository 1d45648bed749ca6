import type { VersionVector } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { mergeEntityStates } from '../domain/index.js';

/**
 * Joins an incoming entity state into the stored one (absent = nothing stored yet), each with its
 * causal context. The stored side uses the stored model's version even when it holds nothing for
 * this entity: a dot that version covers but the stored state lacks was superseded there, and a
 * join must drop it, not bring it back.
 */
export function joinStoredEntity(
  stored: EntityState | undefined,
  storedVersion: VersionVector,
  incoming: EntityState,
  incomingVersion: VersionVector,
): EntityState {
  const base = stored ?? { entityType: incoming.entityType, oid: incoming.oid, attributes: {}, children: {} };
  return mergeEntityStates(base, storedVersion, incoming, incomingVersion);
}
