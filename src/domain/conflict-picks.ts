import { ValidationError, ruleViolation, typeProblem } from './attribute-rules.js';
import { DELETED } from './domain-schema.js';
import type { EntityRecord } from './entity-record.js';
import type { AttributeChange, AttributeValue, ModelChange } from './model-change.js';
import type { ReplicaState } from './replica-state.js';

/** One settled register: the entity, the attribute and the value that replaces every concurrent write. */
export type ConflictPick = readonly [record: EntityRecord, attribute: string, value: AttributeValue];

/**
 * The picks `DomainModel.resolveConflicts` writes: one per register named by an attribute change
 * that is in conflict now (others, and repeats, are skipped). `authorize` refuses a register this
 * replica may not write; each value, `choose`n or the shown winner, is checked like a local edit,
 * so it throws `ValidationError` before anything is written.
 */
export function conflictPicks(
  state: ReplicaState,
  maxStringLength: number,
  conflictingChanges: readonly ModelChange[],
  choose: ((change: AttributeChange) => AttributeValue) | undefined,
  authorize: (concept: string, oid: string) => void,
): ConflictPick[] {
  const picks: ConflictPick[] = [];
  const seen = new Set<string>();
  for (const change of conflictingChanges) {
    if (change.kind !== 'attribute') continue;
    const record = state.records.get(change.oid);
    const register = record?.registers.get(change.attribute);
    const key = `${change.oid}\u0000${change.attribute}`;
    if (!record || !register || seen.has(key)) continue;
    seen.add(key);
    const inConflict = change.attribute === DELETED ? record.deleted && record.hasConflicts() : !record.deleted && register.hasConflicts;
    if (!inConflict) continue;
    authorize(record.concept.name, record.oid);
    const current: AttributeChange = { kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute: change.attribute, writes: register.writes };
    const value = choose ? choose(current) : register.value!;
    const schema = change.attribute === DELETED ? state.deletedSchema(record.concept.name) : record.concept.attributes.get(change.attribute)!;
    const problem = typeProblem(schema, value, maxStringLength);
    if (problem) throw new ValidationError(record.concept.name, change.attribute, 'type', problem);
    const violation = ruleViolation(schema, value);
    if (violation) throw new ValidationError(record.concept.name, change.attribute, violation.rule, violation.detail);
    picks.push([record, change.attribute, value]);
  }
  return picks;
}
