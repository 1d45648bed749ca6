import { ValidationError } from './attribute-rules.js';
import type { ConceptSchema, DomainSchema } from './domain-schema.js';
import type { EntityRecord } from './entity-record.js';
import type { ReplicaState } from './replica-state.js';

// The lookups a local edit or query starts from. Each throws `ValidationError` for what the caller
// named wrongly, before anything is written.

/** The declared concept called `name`. */
export function conceptNamed(schema: DomainSchema, name: string): ConceptSchema {
  const concept = schema.concepts.get(name);
  if (!concept) throw new ValidationError(name, undefined, 'unknown', 'no such concept');
  return concept;
}

/** The concept the children of `concept`'s relation `name` belong to. */
export function relationTarget(concept: ConceptSchema, name: string): string {
  const relation = concept.children.get(name);
  if (!relation) throw new ValidationError(concept.name, name, 'unknown', 'no such relation');
  return relation.target;
}

/** The entity with this oid, deleted or not, if it holds any state. */
export function existingRecord(state: ReplicaState, oid: string): EntityRecord {
  const record = state.records.get(oid);
  if (!record || record.isEmpty()) throw new ValidationError(undefined, undefined, 'exists', `no entity ${JSON.stringify(oid)}`);
  return record;
}

/** The live (not deleted) entity with this oid. */
export function liveRecord(state: ReplicaState, oid: string): EntityRecord {
  const record = existingRecord(state, oid);
  if (record.deleted) throw new ValidationError(record.concept.name, undefined, 'deleted', `entity ${oid} is deleted`);
  return record;
}
