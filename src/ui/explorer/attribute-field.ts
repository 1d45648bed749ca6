import { type TemplateResult, html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import type { AttributeSchema, AttributeValue, DomainModel } from '../../domain/index.js';
import { type SelectOption, describedBy, fieldNotes, inputField, selectField } from '../shared/form-field.js';
import { entityLabel, formatIsoDate, formatValue } from '../shared/format.js';

/** Reference fields offer a select up to this many targets, and an id field beyond. */
export const MAX_REFERENCE_CHOICES = 500;

/** Whether the form creates an entity or edits one. */
export type FormMode = 'create' | 'edit';

/** What one field of the form shows: the attribute, its value now, and a problem to show next to it. */
export interface AttributeFieldState {
  readonly attribute: AttributeSchema;
  readonly value: AttributeValue | undefined;
  readonly error: string | undefined;
  readonly mode: FormMode;
  /** Something to know about the field that is not an error (say, a peer changed it meanwhile). */
  readonly notice?: string;
}

/** The id of an attribute's control (attribute names are identifiers, so they fit in an id). */
export function fieldId(attribute: AttributeSchema): string {
  return `field-${attribute.name}`;
}

/**
 * The text a control shows for a value; the form compares it with what the user left there, so
 * an edit sends only the attributes the user actually changed.
 */
export function controlText(attribute: AttributeSchema, value: AttributeValue | undefined): string {
  if (attribute.type === 'boolean') return String(value ?? (attribute.default as boolean | undefined) ?? false);
  if (value === undefined || value === null) return '';
  return String(value);
}

/** The rules of an attribute in words, shown under its control. */
export function attributeHint(attribute: AttributeSchema): string | undefined {
  const parts: string[] = [];
  const { min, max } = attribute;
  if (attribute.type === 'string' && (min !== undefined || max !== undefined))
    parts.push(min !== undefined && max !== undefined ? `${min}–${max} characters` : min !== undefined ? `at least ${min} characters` : `at most ${max} characters`);
  if ((attribute.type === 'number' || attribute.type === 'integer') && (min !== undefined || max !== undefined))
    parts.push(min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`);
  if (attribute.type === 'integer') parts.push('a whole number');
  if (attribute.pattern) parts.push(attribute.format ?? `format ${attribute.pattern.source}`);
  if (attribute.unique) parts.push('unique');
  if (attribute.immutable) parts.push('cannot change once set');
  if (!parts.length) return undefined;
  const text = parts.join(', ');
  return text[0]!.toUpperCase() + text.slice(1) + '.';
}

/** The control of one attribute, generated from its declared type and rules. */
export function attributeField(model: DomainModel, state: AttributeFieldState): TemplateResult {
  const { attribute, value, error, mode, notice } = state;
  const id = fieldId(attribute);
  const label = attribute.name;
  const rules = attributeHint(attribute);
  const hint = notice ? (rules ? `${notice} ${rules}` : notice) : rules;
  const locked = mode === 'edit' && attribute.immutable && value !== undefined && value !== null;
  const text = controlText(attribute, value);
  const common = { id, name: attribute.name, label, hint, error, required: attribute.required, readOnly: locked, value: text };
  switch (attribute.type) {
    case 'boolean':
      return html`<div class="field">
        <label class="check">
          <input
            type="checkbox"
            id=${id}
            name=${attribute.name}
            .checked=${text === 'true'}
            ?disabled=${locked}
            aria-invalid=${ifDefined(error ? 'true' : undefined)}
            aria-describedby=${ifDefined(describedBy(id, hint, error))}
          />
          ${label}
        </label>
        ${fieldNotes(id, hint, error)}
      </div>`;
    case 'number':
    case 'integer':
      return inputField({ ...common, type: 'number', step: attribute.type === 'integer' ? '1' : 'any', inputMode: attribute.type === 'integer' ? 'numeric' : 'decimal' });
    case 'date':
      // A stored date-time would lose its time in a date picker: it gets a text field.
      return text.includes('T')
        ? inputField({ ...common, hint: `${hint ? `${hint} ` : ''}A UTC date and time, like 2024-05-01T08:00:00Z.` })
        : inputField({ ...common, type: 'date' });
    case 'enum':
      if (locked) return inputField(common);
      return selectField({ ...common, choices: [...attribute.values!].map((choice) => ({ value: choice, label: choice })), placeholder: 'none' });
    case 'reference':
      return referenceField(model, attribute, common, locked);
    case 'string':
      return inputField({ ...common, multiline: attribute.max !== undefined && attribute.max > 300, maxLength: attribute.max });
  }
}

function referenceField(
  model: DomainModel,
  attribute: AttributeSchema,
  common: Parameters<typeof inputField>[0] & { value: string },
  locked: boolean,
): TemplateResult {
  const targets = model.entities(attribute.target!);
  const concept = model.schema.concepts.get(attribute.target!)!;
  const current = common.value ? model.get(common.value) : undefined;
  if (locked) return inputField({ ...common, value: current ? `${entityLabel(current, concept)} (${common.value})` : common.value, name: `${attribute.name}-shown` });
  if (targets.count > MAX_REFERENCE_CHOICES)
    return inputField({ ...common, hint: `${common.hint ? `${common.hint} ` : ''}The id of a ${attribute.target}.` });
  const choices: SelectOption[] = targets.map((entity) => ({ value: entity.oid, label: entityLabel(entity, concept) }));
  // A dangling reference (its target deleted or not yet received) is still shown as the value.
  if (common.value && !targets.has(common.value)) choices.unshift({ value: common.value, label: `${common.value} (missing)` });
  return selectField({ ...common, choices, placeholder: 'none' });
}

/** How a read-only (model-managed) attribute appears in the form. */
export function managedField(attribute: AttributeSchema, value: AttributeValue | undefined): TemplateResult {
  return html`<div class="field">
    <span class="label">${attribute.name}</span>
    <span class="wrap">${attribute.type === 'date' ? formatIsoDate(value) : formatValue(value)}</span>
    <span class="hint">Set by the model.</span>
  </div>`;
}

/** One attribute's value as read from the form: given, left out, or unreadable. */
export type ReadResult = { readonly value: AttributeValue | undefined } | { readonly problem: string };

/**
 * Reads an attribute from the form. In edit mode an untouched control is left out (undefined), so
 * an edit never rewrites what the user did not change; an emptied field is null (clear).
 */
export function readAttribute(form: HTMLFormElement, attribute: AttributeSchema, shown: string, mode: FormMode): ReadResult {
  const control = form.elements.namedItem(attribute.name);
  if (!(control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement)) return { value: undefined };
  if (control instanceof HTMLInputElement && control.readOnly) return { value: undefined };
  const raw = control instanceof HTMLInputElement && control.type === 'checkbox' ? String(control.checked) : control.value;
  // A number field holding text reads as empty; tell the user instead of clearing the value.
  if (control instanceof HTMLInputElement && control.validity.badInput) return { problem: 'Enter a number.' };
  if (mode === 'edit' && raw === shown) return { value: undefined };
  if (attribute.type === 'boolean') return { value: raw === 'true' };
  if (raw.trim() === '') return { value: mode === 'create' ? undefined : null };
  if (attribute.type === 'number' || attribute.type === 'integer') {
    const number = Number(raw);
    return Number.isFinite(number) ? { value: number } : { problem: 'Enter a number.' };
  }
  return { value: raw };
}
