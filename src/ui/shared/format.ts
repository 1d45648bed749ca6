import type { AttributeValue, CRDTEntity, ConceptSchema } from '../../domain/index.js';

/** The first characters of a node or entity id: enough to tell peers apart on a small screen. */
export function shortId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/** An attribute value as text; absent values read "empty". */
export function formatValue(value: AttributeValue | undefined): string {
  if (value === undefined || value === null) return 'empty';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** A hybrid-clock or wall-clock time (ms) in the reader's locale. */
export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString();
}

/** An ISO date or date-time from the model in the reader's locale; the raw text if it is not one. */
export function formatIsoDate(value: AttributeValue | undefined): string {
  if (typeof value !== 'string') return formatValue(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  // A calendar date has no time zone: show it as the same day everywhere.
  return value.includes('T') ? new Date(ms).toLocaleString() : new Date(ms).toLocaleDateString(undefined, { timeZone: 'UTC' });
}

/**
 * What to call an entity in lists and messages: its first required string attribute, else its
 * first string attribute with a value, else its id.
 */
export function entityLabel(entity: CRDTEntity, concept: ConceptSchema): string {
  const strings = [...concept.attributes.values()].filter((attribute) => attribute.type === 'string' && !attribute.managed);
  const preferred = [...strings.filter((attribute) => attribute.required), ...strings];
  for (const attribute of preferred) {
    const value = entity.getAttribute(attribute.name);
    if (typeof value === 'string' && value.trim()) return value;
  }
  return entity.oid;
}

/** Singular or plural: `plural(1, 'peer')` is "1 peer", `plural(2, 'peer')` "2 peers". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? noun : nouns}`;
}
