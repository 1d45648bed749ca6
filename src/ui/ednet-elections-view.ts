import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import type { CRDTEntity } from '../domain/index.js';
import { ElectionRoles, ElectionStatus, type ElectoralSystemModel } from '../models/electoral/index.js';
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
import type { EdnetVirtualList } from './shared/ednet-virtual-list.js';
import './shared/ednet-virtual-list.js';
import { Memo } from './shared/memo.js';
import { ModelController } from './shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles, disclosureStyles } from './shared/theme.js';

/** Detail of `election-select`. */
export interface ElectionSelectDetail {
  readonly electionId: string;
}

const ELECTION_FIELDS = ['title', 'description', 'opensAt', 'closesAt'] as const;
/** From this many elections on, the list can be searched. */
const SEARCH_FROM = 8;

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
    filter: { state: true },
    detailOpen: { state: true },
  };

  declare model: ElectoralSystemModel | undefined;
  /** The election shown; when it is unset or not (or no longer) live, the first election is shown. */
  declare electionId: string | undefined;
  /** Connected peers, from the node status. */
  declare peers: readonly PeerName[];
  private declare errors: ReadonlyMap<string, string>;
  private declare message: string;
  private declare filter: string;
  /** On a narrow screen, the chosen election shows on its own (the list behind "All elections"). */
  private declare detailOpen: boolean;
  #focusInvalid = false;
  #revealSelected = false;
  // The phone's back gesture closes the election's own view: opening it pushes a history entry.
  #onPopState = (event: PopStateEvent): void => {
    const state = event.state as { ednetElection?: string } | null;
    if (state?.ednetElection && this.model?.get(state.ednetElection)) {
      this.electionId = state.ednetElection;
      this.detailOpen = true;
    } else this.detailOpen = false;
  };

  constructor() {
    super();
    this.electionId = undefined;
    this.peers = [];
    this.errors = new Map();
    this.message = '';
    this.filter = '';
    this.detailOpen = false;
    this.#changes = new ModelController(this, () => this.model);
  }

  readonly #changes: ModelController;
  // The elections matching the search, once per model change or new search (not per render).
  readonly #matching = new Memo((model: ElectoralSystemModel, _revision: number, query: string) => {
    const all = [...model.elections()];
    return query ? all.filter((election) => String(election.getAttribute('title') ?? '').toLowerCase().includes(query)) : all;
  });

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
      ednet-virtual-list {
        margin: 0 0 var(--ed-gap, 12px);
      }
      ednet-virtual-list ul {
        list-style: none;
      }
      /* Padding, not margins, between rows: the list measures rows edge to edge. */
      li.election-row {
        padding: 3px 2px;
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
      /* Wide screens show the list beside the election: its heading is for focus and screen readers only. */
      .head {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip-path: inset(50%);
        margin: 0;
        padding: 0;
        border: 0;
      }
      /* Wide screens show the list beside the election: no way back is needed (nor focusable unseen). */
      .head .back {
        display: none;
      }
      /* Phones: the list, or the chosen election on its own with a way back. */
      @container (max-width: 899px) {
        .head .back {
          display: inline-flex;
        }
        .layout.detail > .list {
          display: none;
        }
        .layout:not(.detail) > .election-view {
          display: none;
        }
        .head {
          position: static;
          width: auto;
          height: auto;
          overflow: visible;
          clip-path: none;
          padding: var(--ed-gap, 12px);
          border: 1px solid var(--ed-border, #7d8692);
          display: flex;
          flex-wrap: wrap;
          gap: 8px 12px;
          align-items: center;
        }
      }
      .election-view {
        display: grid;
        gap: var(--ed-gap, 12px);
        min-width: 0;
      }
      .election-view {
        position: relative;
      }
      .head h2 {
        margin: 0;
        font-size: 1.2rem;
        overflow-wrap: anywhere;
      }
      .head h2:focus {
        outline: none;
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
    const query = this.filter.trim().toLowerCase();
    // Only the rows in view are rendered; search finds the rest.
    const matching = this.#matching.get(model, this.#changes.revision, query);
    return html`<div class=${this.detailOpen && selected ? 'layout detail' : 'layout'}>
      <section class="card list" aria-labelledby="elections-heading">
        <h2 id="elections-heading">Elections</h2>
        ${elections.count > SEARCH_FROM
          ? html`<div class="field">
              <label for="election-filter">Find an election</label>
              <input id="election-filter" type="search" .value=${this.filter} @input=${this.#onFilter} aria-describedby="election-count" />
              <span id="election-count" class="hint" aria-live="polite"
                >${query ? `${matching.length.toLocaleString()} of ${elections.count.toLocaleString()} match` : `${elections.count.toLocaleString()} elections`}</span
              >
            </div>`
          : nothing}
        ${elections.count
          ? matching.length
            ? html`<ednet-virtual-list
                label="Elections"
                item-class="election-row"
                search=${query}
                .items=${matching}
                .keyOf=${keyOfEntity}
                .renderItem=${(election: CRDTEntity) => this.#electionRow(model, election, selected)}
              ></ednet-virtual-list>`
            : html`<p class="muted">No election matches.</p>`
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
        ? html`<div class="election-view">
            <div class="card head">
              <button type="button" class="back secondary" @click=${this.#back}>← All elections</button>
              <h2 id="election-view-heading" tabindex="-1">${String(model.get(selected)?.getAttribute('title') ?? '')}</h2>
            </div>
            <div class="parts" @show-voters=${this.#showVoters}>
            <ednet-election-editor .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-election-editor>
            ${this.#stage(model, selected).results ? html`<ednet-election-results .model=${model} .electionId=${selected}></ednet-election-results>` : nothing}
            ${model.roles === ElectionRoles.enforced
              ? html`<ednet-voter-registration .model=${model} .electionId=${selected}></ednet-voter-registration>`
              : nothing}
            ${this.#stage(model, selected).ballot ? html`<ednet-ballot-form .model=${model} .electionId=${selected}></ednet-ballot-form>` : nothing}
            <ednet-candidate-list .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-candidate-list>
            <ednet-voter-roll .model=${model} .electionId=${selected}></ednet-voter-roll>
            ${model.roles === ElectionRoles.enforced
              ? html`<ednet-co-organisers .model=${model} .electionId=${selected} .peers=${this.peers}></ednet-co-organisers>`
              : nothing}
            </div>
          </div>`
        : nothing}
    </div>`;
  }

  // "Show voters" on the election's card: the roll, with its approvals, into view and focus.
  #showVoters(): void {
    this.renderRoot.querySelector('ednet-voter-roll')?.showHeading();
  }

  #electionRow(model: ElectoralSystemModel, election: CRDTEntity, selected: string | undefined): TemplateResult {
    const status = model.statusOf(election.oid);
    return html`<button type="button" class="election" aria-current=${election.oid === selected ? 'true' : 'false'} @click=${() => this.#select(election.oid)}>
      <span class="wrap">${String(election.getAttribute('title') ?? election.oid)}</span>
      <span class=${`badge ${status}`}>${STATUS_TEXT[status] ?? status}</span>
    </button>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onPopState);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onPopState);
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // The chosen election shows in the list too, however far down (also when chosen from outside).
    const selected = this.#selected();
    if (changed.has('electionId') && selected) void this.#revealInList(selected);
    if (this.#focusInvalid) {
      this.#focusInvalid = false;
      focusFirstInvalid(this.renderRoot);
    }
    if (this.#revealSelected) {
      // Choosing an election always shows it: its heading comes into view and takes focus.
      this.#revealSelected = false;
      const heading = this.renderRoot.querySelector<HTMLElement>('#election-view-heading');
      heading?.focus({ preventScroll: true });
      heading?.scrollIntoView({ block: 'start' });
    }
  }

  // Each card shows only the current state: no results before voting opens; no ballot before it
  // opens, nor for a device whose voter has not asked to vote here (its registration card says
  // what to do), nor once closed for one that was not approved.
  #stage(model: ElectoralSystemModel, electionId: string): { results: boolean; ballot: boolean } {
    const status = model.statusOf(electionId);
    if (status === ElectionStatus.draft) return { results: false, ballot: false };
    if (model.roles !== ElectionRoles.enforced) return { results: true, ballot: true };
    const voter = model.myVoter();
    const approved = voter !== undefined && model.isApproved(electionId, voter.oid);
    const asked = voter !== undefined && voter.childOids('elections').includes(electionId);
    return { results: true, ballot: approved || (status === ElectionStatus.open && asked) };
  }

  async #revealInList(electionId: string): Promise<void> {
    const list = this.renderRoot.querySelector('ednet-virtual-list') as EdnetVirtualList<CRDTEntity> | null;
    if (!list) return;
    await list.updateComplete;
    // The row scrolls within the list only: the page scroll is for the election's own view.
    await list.reveal(list.items.findIndex((election) => election.oid === electionId));
  }

  #onFilter(event: Event): void {
    this.filter = (event.target as HTMLInputElement).value;
  }

  #back(): void {
    if ((history.state as { ednetElection?: string } | null)?.ednetElection) history.back();
    else this.detailOpen = false;
  }

  // A narrow screen shows the election on its own view, entered as a history step so Back leaves it.
  #narrow(): boolean {
    return this.getBoundingClientRect().width < 900;
  }

  // The chosen election if it is live, else the first one: a peer may delete the one shown.
  #selected(): string | undefined {
    const elections = this.model?.elections();
    if (!elections?.count) return undefined;
    return this.electionId && elections.has(this.electionId) ? this.electionId : elections.first()!.oid;
  }

  #select(electionId: string): void {
    this.electionId = electionId;
    this.#revealSelected = true;
    if (this.#narrow()) {
      const state = { ...(history.state as object | null), ednetElection: electionId };
      if (this.detailOpen) history.replaceState(state, '');
      else history.pushState(state, '');
      this.detailOpen = true;
    }
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

function keyOfEntity(entity: CRDTEntity): string {
  return entity.oid;
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
