import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { ElectionRoles, type ElectoralSystemModel } from '../models/electoral/index.js';
import './elections/ednet-ballot-form.js';
import './elections/ednet-candidate-list.js';
import './elections/ednet-co-organisers.js';
import { STATUS_TEXT } from './elections/ednet-election-editor.js';
import { sealingChoice, sealingOf } from './elections/sealing-choice.js';
import './elections/ednet-election-results.js';
import './elections/ednet-notification-offer.js';
import './elections/ednet-voter-registration.js';
import './elections/ednet-voter-roll.js';
import type { PeerName } from './elections/election-part.js';
import { fieldErrorOf } from './shared/error-message.js';
import { focusFirstInvalid, formValue, inputField } from './shared/form-field.js';
import { ModelController } from './shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles, disclosureStyles } from './shared/theme.js';

/** Detail of `election-select`. */
export interface ElectionSelectDetail {
  readonly electionId: string;
}

const ELECTION_FIELDS = ['title', 'description', 'opensAt', 'closesAt'] as const;

/**
 * The election app's main view over an `ElectoralSystemModel`: the list of elections and the form
 * creating one; for the chosen election its details and lifecycle, live results, this device's
 * own registration and the co-organisers (with roles enforced), the ballot form, its candidates and
 * the voter roll. Every part follows the model, so changes merged from peers show as they arrive.
 * `peers` (the node status's) name devices and offer them as co-organisers. Fires
 * `election-select` when the user picks an election.
 */
export class EdnetElectionsView extends LitElement {
  static override properties = {
    model: { attribute: false },
    electionId: { attribute: 'election-id' },
    peers: { attribute: false },
    errors: { state: true },
    message: { state: true },
  };

  declare model: ElectoralSystemModel | undefined;
  /** The election shown; when it is unset or not (or no longer) live, the first election is shown. */
  declare electionId: string | undefined;
  /** Connected peers, from the node status. */
  declare peers: readonly PeerName[];
  private declare errors: ReadonlyMap<string, string>;
  private declare message: string;
  #focusInvalid = false;

  constructor() {
    super();
    this.electionId = undefined;
    this.peers = [];
    this.errors = new Map();
    this.message = '';
    new ModelController(this, () => this.model);
  }

  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    disclosureStyles,
    css`
      :host {
        display: block;
        container-type: inline-size;
      }
      .layout {
        display: grid;
        gap: var(--ed-gap, 12px);
        grid-template-columns: minmax(0, 1fr);
      }
      @container (min-width: 900px) {
        .layout {
          grid-template-columns: minmax(16rem, 20rem) minmax(0, 1fr);
          align-items: start;
        }
      }
      .parts {
        display: grid;
        gap: var(--ed-gap, 12px);
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr));
        align-items: start;
        min-width: 0;
      }
      ul.elections {
        list-style: none;
        margin: 0 0 var(--ed-gap, 12px);
        padding: 0;
      }
      ul.elections li {
        margin-bottom: 6px;
      }
      button.election {
        display: flex;
        width: 100%;
        justify-content: space-between;
        align-items: center;
        gap: 8px;
        text-align: start;
        background: transparent;
        color: var(--ed-text, #1b1f24);
        border-color: var(--ed-border, #7d8692);
      }
      button.election[aria-current='true'] {
        border-width: 2px;
        border-color: var(--ed-accent, #1a56c4);
        background: var(--ed-bg, #f4f5f7);
        font-weight: 600;
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    if (!model) return html`<p class="muted">No election model.</p>`;
    const elections = model.elections();
    const selected = this.#selected();
    return html`<div class="layout">
      <section class="card" aria-labelledby="elections-heading">
        <h2 id="elections-heading">Elections</h2>
        ${elections.count
          ? html`<ul class="elections">
              ${repeat(
                elections,
                (election) => election.oid,
                (election) => {
                  const status = model.statusOf(election.oid);
                  return html`<li>
                    <button
                      type="button"
                      class="election"
                      aria-current=${election.oid === selected ? 'true' : 'false'}
                      @click=${() => this.#select(election.oid)}
                    >
                      <span class="wrap">${String(election.getAttribute('title') ?? election.oid)}</span>
                      <span class=${`badge ${status}`}>${STATUS_TEXT[status] ?? status}</span>
                    </button>
                  </li>`;
                },
              )}
            </ul>`
          : html`<p class="muted">No elections yet. Create the first one.</p>`}
        <details ?open=${elections.count === 0}>
          <summary>New election</summary>
          <form novalidate @submit=${this.#create}>
            ${inputField({ id: 'new-title', name: 'title', label: 'Title', error: this.errors.get('title'), required: true, maxLength: 200 })}
            ${inputField({ id: 'new-description', name: 'description', label: 'Description', error: this.errors.get('description'), multiline: true, maxLength: 5000 })}
            ${inputField({ id: 'new-opens', name: 'opensAt', label: 'Opens (planned)', type: 'date', error: this.errors.get('opensAt') })}
            ${inputField({ id: 'new-closes', name: 'closesAt', label: 'Closes (planned)', type: 'date', error: this.errors.get('closesAt') })}
            ${sealingChoice()}
            ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
            <button type="submit">Create election</button>
          </form>
        </details>
        <p class="muted" role="status">${this.message}</p>
        <ednet-notification-offer></ednet-notification-offer>
      </section>
      ${selected
        ? html`<div class="parts">
            <ednet-election-editor .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-election-editor>
            <ednet-election-results .model=${model} .electionId=${selected}></ednet-election-results>
            ${model.roles === ElectionRoles.enforced
              ? html`<ednet-voter-registration .model=${model} .electionId=${selected}></ednet-voter-registration>`
              : nothing}
            <ednet-ballot-form .model=${model} .electionId=${selected}></ednet-ballot-form>
            <ednet-candidate-list .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-candidate-list>
            <ednet-voter-roll .model=${model} .electionId=${selected}></ednet-voter-roll>
            ${model.roles === ElectionRoles.enforced
              ? html`<ednet-co-organisers .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-co-organisers>`
              : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.#focusInvalid) {
      this.#focusInvalid = false;
      focusFirstInvalid(this.renderRoot);
    }
  }

  // The chosen election if it is live, else the first one: a peer may delete the one shown.
  #selected(): string | undefined {
    const elections = this.model?.elections();
    if (!elections?.count) return undefined;
    return this.electionId && elections.has(this.electionId) ? this.electionId : elections.first()!.oid;
  }

  #select(electionId: string): void {
    this.electionId = electionId;
    this.dispatchEvent(new CustomEvent<ElectionSelectDetail>('election-select', { detail: { electionId }, bubbles: true, composed: true }));
  }

  #create(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const optional = (name: string) => formValue(form, name).trim() || undefined;
    try {
      const election = this.model!.createElection({
        title: formValue(form, 'title').trim(),
        description: optional('description'),
        opensAt: optional('opensAt'),
        closesAt: optional('closesAt'),
        ...sealingOf(form),
      });
      form.reset();
      this.errors = new Map();
      this.message = `Election ${String(election.getAttribute('title'))} created.`;
      this.#select(election.oid);
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.errors = new Map([[field && (ELECTION_FIELDS as readonly string[]).includes(field) ? field : '', message]]);
      this.message = '';
      this.#focusInvalid = true;
    }
  }
}

customElements.define('ednet-elections-view', EdnetElectionsView);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-elections-view': EdnetElectionsView;
  }
  interface HTMLElementEventMap {
    'election-select': CustomEvent<ElectionSelectDetail>;
  }
}
