import { type TemplateResult, html, nothing } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';

/** One labelled form control with its hint and its error, wired for assistive technology. */
export interface FieldOptions {
  /** Unique within the component's shadow root; the hint and error ids derive from it. */
  readonly id: string;
  readonly label: string;
  /** The name the form reads the value by (default: the id). */
  readonly name?: string;
  readonly value?: string;
  readonly error?: string | undefined;
  readonly hint?: string | undefined;
  readonly required?: boolean;
  /** Input type (default text). */
  readonly type?: string;
  readonly multiline?: boolean;
  readonly maxLength?: number | undefined;
  readonly autocomplete?: string;
  readonly readOnly?: boolean;
  readonly step?: string;
  /** Id of a datalist offering suggestions. */
  readonly list?: string;
  readonly inputMode?: string;
}

/** A choice of a select field. */
export interface SelectOption {
  readonly value: string;
  readonly label: string;
}

/** The `aria-describedby` of a control: its hint and its error, whichever are shown. */
export function describedBy(id: string, hint: string | undefined, error: string | undefined): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

/** The label, with a visible asterisk for required fields (screen readers hear `aria-required`). */
export function fieldLabel(options: Pick<FieldOptions, 'id' | 'label' | 'required'>): TemplateResult {
  return html`<label for=${options.id}>${options.label}${options.required ? html`<span aria-hidden="true"> *</span>` : nothing}</label>`;
}

/** The hint and error lines under a control. */
export function fieldNotes(id: string, hint: string | undefined, error: string | undefined): TemplateResult {
  return html`${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : nothing}${
    error ? html`<span class="field-error" id=${`${id}-error`}>${error}</span>` : nothing
  }`;
}

/** A text-like input (or a textarea with `multiline`). Forms use `novalidate`: the model's rules decide. */
export function inputField(options: FieldOptions): TemplateResult {
  const { id, hint, error } = options;
  const common = {
    name: options.name ?? id,
    describedBy: describedBy(id, hint, error),
    invalid: error ? 'true' : undefined,
    required: options.required ? 'true' : undefined,
  };
  const control = options.multiline
    ? html`<textarea
        id=${id}
        name=${common.name}
        .value=${options.value ?? ''}
        maxlength=${ifDefined(options.maxLength)}
        ?readonly=${options.readOnly}
        aria-required=${ifDefined(common.required)}
        aria-invalid=${ifDefined(common.invalid)}
        aria-describedby=${ifDefined(common.describedBy)}
      ></textarea>`
    : html`<input
        id=${id}
        name=${common.name}
        type=${options.type ?? 'text'}
        .value=${options.value ?? ''}
        maxlength=${ifDefined(options.maxLength)}
        step=${ifDefined(options.step)}
        list=${ifDefined(options.list)}
        inputmode=${ifDefined(options.inputMode)}
        autocomplete=${options.autocomplete ?? 'off'}
        ?readonly=${options.readOnly}
        aria-required=${ifDefined(common.required)}
        aria-invalid=${ifDefined(common.invalid)}
        aria-describedby=${ifDefined(common.describedBy)}
      />`;
  return html`<div class="field">${fieldLabel(options)}${control}${fieldNotes(id, hint, error)}</div>`;
}

/** A select with its label, hint and error. An empty first choice is offered when `placeholder` is given. */
export function selectField(options: FieldOptions & { readonly choices: readonly SelectOption[]; readonly placeholder?: string }): TemplateResult {
  const { id, hint, error } = options;
  const value = options.value ?? '';
  return html`<div class="field">
    ${fieldLabel(options)}
    <select
      id=${id}
      name=${options.name ?? id}
      aria-required=${ifDefined(options.required ? 'true' : undefined)}
      aria-invalid=${ifDefined(error ? 'true' : undefined)}
      aria-describedby=${ifDefined(describedBy(id, hint, error))}
    >
      ${options.placeholder !== undefined ? html`<option value="" ?selected=${value === ''}>${options.placeholder}</option>` : nothing}
      ${options.choices.map((choice) => html`<option value=${choice.value} ?selected=${choice.value === value}>${choice.label}</option>`)}
    </select>
    ${fieldNotes(id, hint, error)}
  </div>`;
}

/** The string value of a named control of a form ('' if absent). */
export function formValue(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name);
  return control && 'value' in control ? String(control.value) : '';
}

/** Moves focus to the first control marked invalid, so a keyboard or screen reader user lands on the problem. */
export function focusFirstInvalid(root: ParentNode): void {
  root.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
