import { ID_PATTERN, isId } from '../util/ids.js';
import type { AttributeSchema } from './domain-schema.js';
import type { AttributeValue } from './model-change.js';

/** Entity ids are ids like every other (`ID_PATTERN`). */
export const OID_PATTERN = ID_PATTERN;

/** True for a well-formed oid. */
export const isOid = isId;

// A calendar date, or a UTC date-time with optional seconds and milliseconds.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z)?$/;

/** True for an ISO date string the model accepts (`2024-05-01` or `2024-05-01T08:00:00.000Z`). */
export const isIsoDate = (value: unknown): value is string =>
  typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value));

/** Thrown by local edits that break the model's declaration; nothing has changed when it is thrown. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    /** Concept (entity type) concerned, if known. */
    readonly concept: string | undefined,
    /** Attribute or relation concerned, if any. */
    readonly attribute: string | undefined,
    /** The rule broken: `type`, `required`, `min`, `max`, `pattern`, `unique`, `reference`, `immutable`, `managed`, `deleted`, `unknown`, `exists`. */
    readonly rule: string,
    detail: string,
  ) {
    super(`${[concept, attribute].filter(Boolean).join('.') || 'model'}: ${rule}: ${detail}`);
  }
}

/** A broken domain rule, without throwing. */
export interface RuleViolation {
  readonly rule: string;
  readonly detail: string;
}

/**
 * The type and size check every value passes, local or remote: a remote value failing it is
 * rejected. Null (no value) fits every type. Returns the problem, or undefined.
 */
export function typeProblem(attribute: AttributeSchema, value: unknown, maxStringLength: number): string | undefined {
  if (value === null) return undefined;
  switch (attribute.type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${describe(value)}`;
      return value.length > maxStringLength ? `string of ${value.length} characters exceeds ${maxStringLength}` : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `expected a finite number, got ${describe(value)}`;
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : `expected a safe integer, got ${describe(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected a boolean, got ${describe(value)}`;
    case 'date':
      return isIsoDate(value) ? undefined : `expected an ISO date string, got ${describe(value)}`;
    case 'enum':
      return typeof value === 'string' && attribute.values!.has(value)
        ? undefined
        : `expected one of ${[...attribute.values!].join(', ')}, got ${describe(value)}`;
    case 'reference':
      return isOid(value) ? undefined : `expected an entity id, got ${describe(value)}`;
  }
}

/**
 * The declared rules a local edit must keep (required, min, max, pattern). Uniqueness and
 * reference targets need the model and are checked there. Merges never reject on these: a remote
 * value breaking them is reported by `DomainModel.validate`.
 */
export function ruleViolation(attribute: AttributeSchema, value: AttributeValue): RuleViolation | undefined {
  if (value === null) return attribute.required ? { rule: 'required', detail: 'a value is required' } : undefined;
  const size = typeof value === 'string' && attribute.type === 'string' ? value.length : typeof value === 'number' ? value : undefined;
  const unit = typeof value === 'string' ? ' characters' : '';
  if (size !== undefined && attribute.min !== undefined && size < attribute.min)
    return { rule: 'min', detail: `${size}${unit} is below the minimum ${attribute.min}${unit}` };
  if (size !== undefined && attribute.max !== undefined && size > attribute.max)
    return { rule: 'max', detail: `${size}${unit} is above the maximum ${attribute.max}${unit}` };
  if (attribute.pattern && typeof value === 'string') {
    attribute.pattern.lastIndex = 0;
    if (!attribute.pattern.test(value))
      return { rule: 'pattern', detail: attribute.format ? `${describe(value)} is not ${attribute.format}` : `${describe(value)} does not match ${attribute.pattern}` };
  }
  return undefined;
}

/** A short description of a value for messages (never the whole of a huge string). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
