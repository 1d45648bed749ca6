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
  // An entity saved for the first time (every entity of a bootstrap): the join would return the
  // incoming state unchanged, at a cost of a few AWSets and sorts per entity.
  if (!stored && joinsUnchanged(incoming, storedVersion)) return incoming;
  const base = stored ?? { entityType: incoming.entityType, oid: incoming.oid, attributes: {}, children: {} };
  return mergeEntityStates(base, storedVersion, incoming, incomingVersion);
}

/**
 * Whether joining `state` into nothing stored (with `storedVersion` as context) gives `state`
 * itself: no dot of it is covered by the stored version (none was superseded there), and it is in
 * the form the join writes (one write per register, children sorted by id with one dot each, no
 * removal marks). Anything else, such as a conflict, takes the full join.
 */
function joinsUnchanged(state: EntityState, storedVersion: VersionVector): boolean {
  if (state.removals !== undefined) return false;
  for (const name in state.attributes) {
    if (!Object.hasOwn(state.attributes, name)) return false;
    const writes = state.attributes[name]!;
    if (writes.length !== 1 || storedVersion.covers(writes[0]!.dot)) return false;
  }
  for (const relation in state.children) {
    if (!Object.hasOwn(state.children, relation)) return false;
    const items = state.children[relation]!;
    if (!items.length) return false;
    let previous: string | undefined;
    for (const [child, dots] of items) {
      if (dots.length !== 1 || storedVersion.covers(dots[0]!) || (previous !== undefined && !(previous < child))) return false;
      previous = child;
    }
  }
  return true;
}
