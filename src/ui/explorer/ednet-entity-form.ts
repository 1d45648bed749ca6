import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import type { AttributeSchema, AttributeValue, ConceptSchema, DomainModel, RelationSchema, ValidationIssue } from '../../domain/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { idsInWords } from '../shared/ids-in-words.js';
import { whyNotDeletable } from '../shared/write-permission.js';
import { focusFirstInvalid } from '../shared/form-field.js';
import { entityLabel } from '../shared/format.js';
import { ModelController } from '../shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles } from '../shared/theme.js';
import { MAX_REFERENCE_CHOICES, attributeField, controlText, managedField, readAttribute } from './attribute-field.js';

/** Detail of `entity-saved`. */
export interface EntitySavedDetail {
  readonly oid: string;
  readonly created: boolean;
}

/** Detail of `entity-deleted`. */
export interface EntityDeletedDetail {
  readonly oid: string;
}

/**
 * A form for one entity of any concept, generated from the schema: creates it (no `oid`) or edits
 * it, deletes it, and adds and removes the children of its relations. The model's
 * `ValidationError`s, and the rules the merged state breaks (`validate()`), show next to their
 * field. Reports `entity-saved`, `entity-deleted` and `form-close` (all bubbling, composed).
 */
export class EdnetEntityForm extends LitElement {
  static override properties = {
    model: { attribute: false },
    concept: {},
    oid: {},
    errors: { state: true },
    message: { state: true },
  };

  declare model: DomainModel | undefined;
  /** The concept of the entity. */
  declare concept: string;
  /** The entity edited; undefined to create one. */
  declare oid: string | undefined;
  private declare errors: ReadonlyMap<string, string>;
  private declare message: string;
  // What each control showed at the last render, so an edit sends only what the user changed.
  #shown = new Map<string, string>();
  // Fields the user has typed in since the form showed this entity, with the value they started
  // from: a peer's change to one of them must not replace what is being typed.
  #editing = new Map<string, AttributeValue | undefined>();
  #focusInvalid = false;

  constructor() {
    super();
    this.concept = '';
    this.oid = undefined;
    this.errors = new Map();
    this.message = '';
    new ModelController(this, () => this.model);
  }

  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 16rem), 1fr));
        gap: 0 var(--ed-gap, 12px);
      }
      fieldset {
        border: 1px solid var(--ed-border, #7d8692);
        border-radius: var(--ed-radius, 8px);
        margin: 0 0 var(--ed-gap, 12px);
        padding: 8px var(--ed-gap, 12px);
        min-width: 0;
      }
      legend {
        font-weight: 600;
        padding: 0 4px;
      }
      ul.children {
        list-style: none;
        margin: 0 0 8px;
        padding: 0;
      }
      ul.children li {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 8px;
        padding: 4px 0;
      }
      .add-child {
        display: flex;
        gap: 8px;
        align-items: flex-end;
      }
      .add-child .field {
        flex: 1;
        margin: 0;
      }
      h3:focus {
        outline: none;
      }
      h3:focus-visible {
        outline: 3px solid var(--ed-accent, #1a56c4);
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    const concept = model?.schema.concepts.get(this.concept);
    if (!model || !concept) return html``;
    const entity = this.oid === undefined ? undefined : model.get(this.oid, { includeDeleted: true });
    if (this.oid !== undefined && !entity) return html`<p class="error">No ${this.concept} with id ${this.oid}.</p>`;
    const mode = entity ? 'edit' : 'create';
    const title = entity ? `${this.concept} “${entityLabel(entity, concept)}”` : `New ${this.concept}`;
    if (entity?.isDeleted)
      return html`<div class="card">
        <h3 id="form-heading" tabindex="-1" class="wrap">${title}</h3>
        <p class="notice">This ${this.concept} was deleted.</p>
        <div class="actions">
          <button type="button" @click=${this.#restore}>Restore</button>
          <button type="button" class="secondary" @click=${this.#close}>Close</button>
        </div>
      </div>`;
    const issues = entity ? issuesByField(model.validate(), entity.oid) : new Map<string, ValidationIssue>();
    this.#shown = new Map();
    const attributes = [...concept.attributes.values()];
    return html`<form class="card" novalidate aria-labelledby="form-heading" @submit=${this.#submit} @input=${this.#onInput} @change=${this.#onInput}>
      <h3 id="form-heading" tabindex="-1" class="wrap">${title}</h3>
      ${entity ? html`<p class="muted wrap">Id ${entity.oid}</p>` : nothing}
      <div class="grid">
        ${attributes.map((attribute) => {
          const current = entity?.getAttribute(attribute.name);
          if (attribute.managed) return mode === 'edit' ? managedField(attribute, current) : nothing;
          // Being edited: keep rendering the value the user started from (so the control keeps
          // what they typed), and say what a peer changed meanwhile.
          const editing = mode === 'edit' && this.#editing.has(attribute.name);
          const value = editing ? this.#editing.get(attribute.name) : current;
          this.#shown.set(attribute.name, controlText(attribute, value));
          const changed = editing && controlText(attribute, current) !== controlText(attribute, value);
          const error = this.errors.get(attribute.name) ?? issueText(issues.get(attribute.name));
          return attributeField(model, {
            attribute,
            value: mode === 'create' ? attribute.default : value,
            error,
            mode,
            notice: changed ? `Changed on another device to “${controlText(attribute, current) || 'nothing'}” while you were editing: Save keeps yours.` : undefined,
          });
        })}
      </div>
      ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
      <div class="actions">
        <button type="submit">${entity ? 'Save' : `Create ${this.concept}`}</button>
        <button type="button" class="secondary" @click=${this.#close}>${entity ? 'Close' : 'Cancel'}</button>
        ${entity && !whyNotDeletable(model!, this.concept, entity.oid) ? html`<button type="button" class="danger" @click=${this.#delete}>Delete</button>` : nothing}
      </div>
      <p class="muted" role="status">${this.message}</p>
    </form>
    ${entity ? [...concept.children.values()].map((relation) => this.#relation(model, relation, entity.childOids(relation.name))) : nothing}`;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('oid') || changed.has('concept') || changed.has('model')) this.#editing = new Map();
    if (changed.has('oid') || changed.has('concept')) {
      this.errors = new Map();
      // Keep "created" when the new entity's form replaces the create form.
      if (changed.get('oid') !== undefined || changed.has('concept')) this.message = '';
    }
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.#focusInvalid) {
      this.#focusInvalid = false;
      focusFirstInvalid(this.renderRoot);
    }
  }

  /** Puts keyboard focus on the form's heading (the explorer does it when the form opens). */
  focusHeading(): void {
    this.renderRoot.querySelector<HTMLElement>('#form-heading')?.focus();
  }

  #relation(model: DomainModel, relation: RelationSchema, childOids: readonly string[]): TemplateResult {
    const target = model.schema.concepts.get(relation.target)!;
    const id = `add-${relation.name}`;
    const error = this.errors.get(relation.name);
    const present = new Set(childOids);
    const candidates = model.entities(relation.target);
    const many = candidates.count > MAX_REFERENCE_CHOICES;
    return html`<fieldset>
      <legend>${relation.name} (${relation.target})</legend>
      ${childOids.length
        ? html`<ul class="children">
            ${childOids.map((oid) => {
              const child = model.get(oid);
              const label = child ? entityLabel(child, target) : `${oid} (not here)`;
              return html`<li>
                <span class="wrap">${label}</span>
                <button type="button" class="danger" @click=${() => this.#removeChild(relation.name, oid)}>
                  Remove<span class="visually-hidden"> ${label} from ${relation.name}</span>
                </button>
              </li>`;
            })}
          </ul>`
        : html`<p class="muted">None.</p>`}
      <div class="add-child">
        <div class="field">
          <label for=${id}>Add to ${relation.name}</label>
          ${many
            ? html`<input id=${id} aria-invalid=${error ? 'true' : 'false'} aria-describedby=${`${id}-hint`} />
                <span class="hint" id=${`${id}-hint`}>The id of a ${relation.target}.</span>`
            : html`<select id=${id} aria-invalid=${error ? 'true' : 'false'}>
                <option value="">Choose a ${relation.target}</option>
                ${candidates.filter((entity) => !present.has(entity.oid)).map((entity) => html`<option value=${entity.oid}>${entityLabel(entity, target)}</option>`)}
              </select>`}
        </div>
        <button type="button" class="secondary" @click=${() => this.#addChild(relation.name, id)}>Add</button>
      </div>
      ${error ? html`<span class="field-error" role="alert">${error}</span>` : nothing}
    </fieldset>`;
  }

  #onInput(event: Event): void {
    const name = (event.target as HTMLInputElement | null)?.name;
    const attribute = name ? this.model?.schema.concepts.get(this.concept)?.attributes.get(name) : undefined;
    if (!attribute || this.#editing.has(attribute.name) || this.oid === undefined) return;
    this.#editing.set(attribute.name, this.model!.get(this.oid, { includeDeleted: true })?.getAttribute(attribute.name));
  }

  #submit(event: SubmitEvent): void {
    event.preventDefault();
    const model = this.model;
    const concept = model?.schema.concepts.get(this.concept);
    if (!model || !concept) return;
    const form = event.target as HTMLFormElement;
    const mode = this.oid === undefined ? 'create' : 'edit';
    const { values, problems } = readForm(form, concept, this.#shown, mode);
    if (problems.size) return this.#fail(problems);
    try {
      if (mode === 'create') {
        const entity = model.create(this.concept, values);
        this.#done(`${this.concept} created.`);
        this.#emit('entity-saved', { oid: entity.oid, created: true });
      } else {
        model.update(this.oid!, values);
        this.#done('Saved.');
        this.#emit('entity-saved', { oid: this.oid!, created: false });
      }
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.#fail(new Map([[field && concept.attributes.has(field) ? field : '', message]]));
    }
  }

  #addChild(relation: string, controlId: string): void {
    const control = this.renderRoot.querySelector<HTMLInputElement | HTMLSelectElement>(`#${controlId}`);
    const child = control?.value.trim() ?? '';
    if (!child) return this.#fail(new Map([[relation, `Choose what to add to ${relation}.`]]), false);
    this.#act(relation, () => this.model!.addChild(this.oid!, relation, child), 'Added.');
  }

  #removeChild(relation: string, child: string): void {
    this.#act(relation, () => this.model!.removeChild(this.oid!, relation, child), 'Removed.');
  }

  #delete(): void {
    const oid = this.oid!;
    this.#act('', () => this.model!.delete(oid), `${this.concept} deleted.`);
    if (!this.errors.size) this.#emit('entity-deleted', { oid });
  }

  #restore(): void {
    this.#act('', () => this.model!.restore(this.oid!), `${this.concept} restored.`);
  }

  #act(field: string, operation: () => unknown, done: string): void {
    try {
      operation();
      this.#done(done);
    } catch (error) {
      this.#fail(new Map([[field, fieldErrorOf(error).message]]), false);
    }
  }

  #done(message: string): void {
    // Saved (or another action done): the form shows the model again.
    this.#editing = new Map();
    this.errors = new Map();
    this.message = message;
  }

  #fail(errors: ReadonlyMap<string, string>, focus = true): void {
    // The model's reasons name devices and entities by id; people read names and titles.
    this.errors = new Map([...errors].map(([field, text]) => [field, idsInWords(this.model, text)]));
    this.message = '';
    this.#focusInvalid = focus;
  }

  #close(): void {
    this.#emit('form-close', {});
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }
}

function readForm(form: HTMLFormElement, concept: ConceptSchema, shown: ReadonlyMap<string, string>, mode: 'create' | 'edit') {
  const values: Record<string, AttributeValue> = {};
  const problems = new Map<string, string>();
  for (const attribute of concept.attributes.values() as Iterable<AttributeSchema>) {
    if (attribute.managed) continue;
    const read = readAttribute(form, attribute, shown.get(attribute.name) ?? '', mode);
    if ('problem' in read) problems.set(attribute.name, read.problem);
    else if (read.value !== undefined) values[attribute.name] = read.value;
  }
  return { values, problems };
}

function issuesByField(issues: readonly ValidationIssue[], oid: string): Map<string, ValidationIssue> {
  const found = new Map<string, ValidationIssue>();
  for (const issue of issues) if (issue.oid === oid && issue.attribute && !found.has(issue.attribute)) found.set(issue.attribute, issue);
  return found;
}

function issueText(issue: ValidationIssue | undefined): string | undefined {
  return issue ? `Breaks the ${issue.rule} rule after merging changes from another device: ${issue.detail}.` : undefined;
}

customElements.define('ednet-entity-form', EdnetEntityForm);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-entity-form': EdnetEntityForm;
  }
  interface HTMLElementEventMap {
    'entity-saved': CustomEvent<EntitySavedDetail>;
    'entity-deleted': CustomEvent<EntityDeletedDetail>;
    'form-close': CustomEvent<Record<string, never>>;
  }
}
