import { VersionVector } from '../../crdt/index.js';
import type { DomainModel } from '../../domain/index.js';

/**
 * The user's edits no peer has confirmed: the entities this replica changed after its sequence
 * number `acknowledged`, each counted once. Creating an election and two candidates is three
 * edits, not the dozen operations (one per attribute and relation) under them.
 */
export function unsentEdits(model: DomainModel, acknowledged: number): number {
  const version = model.version;
  if (version.get(model.nodeId) <= acknowledged) return 0;
  const json = version.toJSON();
  if (acknowledged > 0) json[model.nodeId] = acknowledged;
  else delete json[model.nodeId];
  const oids = new Set<string>();
  for (const change of model.getChangesSince(VersionVector.fromJSON(json))) oids.add(change.oid);
  return oids.size;
}
