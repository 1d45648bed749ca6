import { ValidationError, ruleViolation, typeProblem } from './attribute-rules.js';
import type { AttributeSchema } from './domain-schema.js';
import type { EntityRecord } from './entity-record.js';
import type { AttributeValue } from './model-change.js';
import type { ReplicaState } from './replica-state.js';

/** A domain rule broken in the merged state (merges never reject on domain rules; this reports them). */
export interface ValidationIssue {
  readonly concept: string;
  readonly oid: string;
  readonly attribute: string | undefined;
  readonly rule: string;
  readonly detail: string;
}

/**
 * Validates the values of a local edit of `record` against every declared rule, including
 * uniqueness and live reference targets. Throws `ValidationError` at the first broken rule, before
 * anything is written; returns the checked pairs. `managed` allows model-managed attributes.
 */
export function checkLocalValues(
  state: ReplicaState,
  record: EntityRecord,
  values: Readonly<Record<string, AttributeValue | undefined>>,
  managed: boolean,
): Array<[AttributeSchema, AttributeValue]> {
  const concept = record.concept;
  const checked: Array<[AttributeSchema, AttributeValue]> = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const attribute = concept.attributes.get(name);
    if (!attribute) throw new ValidationError(concept.name, name, 'unknown', 'no such attribute');
    const fail = (rule: string, detail: string) => new ValidationError(concept.name, name, rule, detail);
    if (attribute.managed && !managed) throw fail('managed', 'set by the model itself, not by edits');
    const problem = typeProblem(attribute, value, state.schema.maxStringLength);
    if (problem) throw fail('type', problem);
    const violation = ruleViolation(attribute, value);
    if (violation) throw fail(violation.rule, violation.detail);
    const current = record.value(name);
    if (attribute.immutable && current !== undefined && current !== null && current !== value) throw fail('immutable', 'cannot change once set');
    if (value !== null && attribute.unique && takenByAnother(state, attribute, value, record))
      throw fail('unique', `${JSON.stringify(value)} is already used by another ${concept.name}`);
    if (value !== null && attribute.target && !state.isLive(value, attribute.target))
      throw fail('reference', `${JSON.stringify(value)} is not a live ${attribute.target}`);
    checked.push([attribute, value]);
  }
  return checked;
}

/**
 * Domain rules the merged state breaks: required values missing, min/max/pattern, duplicate
 * unique values and references to missing or deleted entities. Scans the live entities.
 */
export function validateModel(state: ReplicaState): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const record of state.records.values()) {
    if (record.deleted || record.isEmpty()) continue;
    const concept = record.concept.name;
    for (const attribute of record.concept.attributes.values()) {
      const issue = (rule: string, detail: string) => issues.push({ concept, oid: record.oid, attribute: attribute.name, rule, detail });
      const value = record.value(attribute.name) ?? null;
      const violation = ruleViolation(attribute, value);
      if (violation) issue(violation.rule, violation.detail);
      if (value === null) continue;
      if (attribute.unique && takenByAnother(state, attribute, value, record)) issue('unique', `${JSON.stringify(value)} is also used by another ${concept}`);
      if (attribute.target && !state.isLive(value, attribute.target)) issue('reference', `${JSON.stringify(value)} is not a live ${attribute.target}`);
    }
  }
  return issues;
}

function takenByAnother(state: ReplicaState, attribute: AttributeSchema, value: AttributeValue, record: EntityRecord): boolean {
  for (const other of state.index.lookup(attribute, value)) if (other !== record && !other.deleted) return true;
  return false;
}
