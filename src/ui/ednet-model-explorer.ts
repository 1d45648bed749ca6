import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AttributeSchema, CRDTEntity, ConceptSchema, DomainModel } from '../domain/index.js';
import type { EntityDeletedDetail, EntitySavedDetail } from './explorer/ednet-entity-form.js';
import { whyNotCreatable, whyReadOnly } from './shared/write-permission.js';
import './explorer/ednet-entity-form.js';
import { fieldErrorOf } from './shared/error-message.js';
import { idsInWords } from './shared/ids-in-words.js';
import { Memo } from './shared/memo.js';
import { entityLabel, formatIsoDate, formatValue, plural } from './shared/format.js';
import { ModelController } from './shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles } from './shared/theme.js';

/** What the entity form is open on: nothing, a new entity, or an existing one. */
type Editing = { readonly oid: string | undefined } | undefined;

/**
 * A generic view of any `DomainModel`, generated from its schema alone: one table per concept
 * (paged: the first `pageSize` rows, then "show more"), and a form per entity to create, edit,
 * delete and restore it and to manage its children. Shows that nothing in the library is specific
 * to elections. Changes from peers show as they arrive.
 */
export class EdnetModelExplorer extends LitElement {
  static override properties = {
    model: { attribute: false },
    pageSize: { type: Number, attribute: 'page-size' },
    concept: { state: true },
    editing: { state: true },
    showDeleted: { state: true },
    limit: { state: true },
    notice: { state: true },
  };

  declare model: DomainModel | undefined;
  /** Rows shown per table before "show more". */
  declare pageSize: number;
  private declare concept: string | undefined;
  private declare editing: Editing;
  private declare showDeleted: boolean;
  private declare limit: number;
  private declare notice: string;
  #focusForm = false;
  readonly #modelChanges: ModelController;
  // One pass over the entities per model change (or concept, filter or page), not one per render.
  readonly #counts = new Memo((_revision: number, model: DomainModel) => new Map([...model.schema.concepts.keys()].map((name) => [name, model.entities(name).count])));
  readonly #page = new Memo((_revision: number, model: DomainModel, concept: string, includeDeleted: boolean, limit: number) => {
    const all = model.entities(concept, { includeDeleted });
    const rows: CRDTEntity[] = [];
    for (const entity of all) {
      if (rows.length >= limit) break;
      rows.push(entity);
    }
    return { count: all.count, rows };
  });

  constructor() {
    super();
    this.pageSize = 50;
    this.concept = undefined;
    this.editing = undefined;
    this.showDeleted = false;
    this.limit = 0;
    this.notice = '';
    this.#modelChanges = new ModelController(this, () => this.model);
  }

  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        list-style: none;
        margin: 0 0 var(--ed-gap, 12px);
        padding: 0;
      }
      nav button[aria-pressed='false'] {
        background: transparent;
        color: var(--ed-accent, #1a56c4);
      }
      .table-wrap {
        /* The containing block of the visually hidden labels inside, or they widen the page. */
        position: relative;
        overflow-x: auto;
        margin: var(--ed-gap, 12px) 0;
        border: 1px solid var(--ed-border, #7d8692);
        border-radius: var(--ed-radius, 8px);
      }
      table {
        border-collapse: collapse;
        width: 100%;
        font-size: 0.925rem;
      }
      th,
      td {
        text-align: start;
        padding: 6px 10px;
        border-bottom: 1px solid var(--ed-border, #7d8692);
        vertical-align: top;
        max-width: 18em;
      }
      th {
        white-space: nowrap;
        background: var(--ed-bg, #f4f5f7);
      }
      td {
        overflow-wrap: break-word;
      }
      td.row-actions {
        white-space: nowrap;
      }
      tr.deleted td {
        color: var(--ed-muted, #545d68);
        text-decoration: line-through;
      }
      tr.deleted td.row-actions {
        text-decoration: none;
      }
      td.row-actions button {
        min-height: 36px;
        padding: 0.2em 0.8em;
      }
      .empty {
        margin: var(--ed-gap, 12px) 0;
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    if (!model) return html`<p class="muted">No model.</p>`;
    const concepts = [...model.schema.concepts.values()];
    const concept = model.schema.concepts.get(this.concept ?? '') ?? concepts[0];
    if (!concept) return html`<p class="muted">This model declares no concepts.</p>`;
    const counts = this.#counts.get(this.#modelChanges.revision, model);
    return html`<section aria-labelledby="explorer-heading">
      <h2 id="explorer-heading" class="wrap">Model ${model.modelId}</h2>
      <nav aria-label="Concepts">
        <ul>
          ${concepts.map(
            (each) => html`<li>
              <button type="button" aria-pressed=${each === concept ? 'true' : 'false'} @click=${() => this.#select(each.name)}>
                ${each.name} <span>(${(counts.get(each.name) ?? 0).toLocaleString()})</span>
              </button>
            </li>`,
          )}
        </ul>
      </nav>
      ${this.#conceptView(model, concept)}
    </section>`;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('pageSize') && this.limit < this.pageSize) this.limit = this.pageSize;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.#focusForm) {
      this.#focusForm = false;
      const form = this.renderRoot.querySelector('ednet-entity-form');
      void form?.updateComplete.then(() => form.focusHeading());
    }
  }

  #conceptView(model: DomainModel, concept: ConceptSchema): TemplateResult {
    const { count, rows } = this.#page.get(this.#modelChanges.revision, model, concept.name, this.showDeleted, this.limit);
    const attributes = [...concept.attributes.values()];
    const relations = [...concept.children.values()];
    const headingId = `concept-${concept.name}`;
    // Offered only where this device may make one; else where and by whom it is made, in words.
    const notCreatable = whyNotCreatable(model, concept.name);
    return html`<h3 id=${headingId}>${concept.name} <span class="muted">(${plural(count, 'entity', 'entities')})</span></h3>
      <div class="actions">
        ${notCreatable
          ? html`<p class="muted wrap not-creatable">${notCreatable}</p>`
          : html`<button type="button" @click=${() => this.#edit(undefined)}>New ${concept.name}</button>`}
        <label class="check"><input type="checkbox" .checked=${this.showDeleted} @change=${this.#toggleDeleted} /> Show deleted</label>
      </div>
      <p class="muted" role="status">${this.notice}</p>
      ${this.editing
        ? html`<ednet-entity-form
            .model=${model}
            .concept=${concept.name}
            .oid=${this.editing.oid}
            @entity-saved=${this.#saved}
            @entity-deleted=${this.#deleted}
            @form-close=${this.#closeForm}
          ></ednet-entity-form>`
        : nothing}
      ${count === 0
        ? html`<p class="empty muted">No ${concept.name} yet.</p>`
        : html`<div class="table-wrap" role="region" aria-labelledby=${headingId} tabindex="0">
            <table>
              <caption class="visually-hidden">
                ${concept.name}: ${rows.length} of ${count} shown
              </caption>
              <thead>
                <tr>
                  ${attributes.map((attribute) => html`<th scope="col">${attribute.name}</th>`)}
                  ${relations.map((relation) => html`<th scope="col">${relation.name}</th>`)}
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${repeat(
                  rows,
                  (entity) => entity.oid,
                  (entity) => this.#row(model, concept, entity, attributes),
                )}
              </tbody>
            </table>
          </div>`}
      ${count > rows.length
        ? html`<p class="actions">
            <span>Showing ${rows.length.toLocaleString()} of ${count.toLocaleString()}.</span>
            <button type="button" class="secondary" @click=${() => (this.limit += this.pageSize)}>Show ${Math.min(this.pageSize, count - rows.length)} more</button>
          </p>`
        : nothing}`;
  }

  #row(model: DomainModel, concept: ConceptSchema, entity: CRDTEntity, attributes: readonly AttributeSchema[]): TemplateResult {
    const label = entityLabel(entity, concept);
    // Offer only what this device may do; the rule's reason, in words, where it may not.
    const readOnly = whyReadOnly(model, concept.name, entity.oid);
    return html`<tr class=${entity.isDeleted ? 'deleted' : ''}>
      ${attributes.map((attribute) => html`<td>${cellText(model, attribute, entity)}</td>`)}
      ${[...concept.children.keys()].map((relation) => html`<td>${entity.childOids(relation).length}</td>`)}
      <td class="row-actions">
        ${entity.isDeleted && !readOnly
          ? html`<button type="button" class="secondary" @click=${() => this.#restore(entity.oid, label)}>
              Restore<span class="visually-hidden"> ${label}</span>
            </button>`
          : readOnly
            ? html`<span class="muted wrap read-only">${readOnly}</span>`
            : html`<button type="button" class="secondary" @click=${() => this.#edit(entity.oid)}>Edit<span class="visually-hidden"> ${label}</span></button>`}
      </td>
    </tr>`;
  }

  #select(concept: string): void {
    if (concept === this.concept) return;
    this.concept = concept;
    this.editing = undefined;
    this.limit = this.pageSize;
    this.notice = '';
  }

  #edit(oid: string | undefined): void {
    this.editing = { oid };
    this.notice = '';
    this.#focusForm = true;
  }

  #saved(event: CustomEvent<EntitySavedDetail>): void {
    // A new entity's form turns into its edit form, where its children can be added.
    if (event.detail.created) this.editing = { oid: event.detail.oid };
  }

  #deleted(event: CustomEvent<EntityDeletedDetail>): void {
    this.editing = undefined;
    // Undo (the toast, Ctrl+Z) comes from the room's edit recorder.
    this.notice = `Deleted ${event.detail.oid}. Tick "Show deleted" to restore it.`;
  }

  #closeForm(): void {
    this.editing = undefined;
  }

  #restore(oid: string, label: string): void {
    try {
      this.model?.restore(oid);
      this.notice = `Restored ${label}.`;
    } catch (error) {
      this.notice = idsInWords(this.model, fieldErrorOf(error).message);
    }
  }

  #toggleDeleted(event: Event): void {
    this.showDeleted = (event.target as HTMLInputElement).checked;
  }
}

function cellText(model: DomainModel, attribute: AttributeSchema, entity: CRDTEntity): string {
  const value = entity.getAttribute(attribute.name);
  if (attribute.type === 'reference' && typeof value === 'string') {
    const target = model.get(value);
    return target ? entityLabel(target, model.schema.concepts.get(attribute.target!)!) : `${value} (missing)`;
  }
  if (attribute.type === 'date') return value === undefined || value === null ? '' : formatIsoDate(value);
  if (value === undefined || value === null) return '';
  const text = formatValue(value);
  // Keys, sealed choices and causal contexts run to thousands of characters: the form shows them whole.
  return text.length > LONG_CELL ? `${text.slice(0, 20)}… (${text.length.toLocaleString()} characters)` : text;
}

const LONG_CELL = 80;

customElements.define('ednet-model-explorer', EdnetModelExplorer);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-model-explorer': EdnetModelExplorer;
  }
}
