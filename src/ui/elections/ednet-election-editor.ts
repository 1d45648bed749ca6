import { type TemplateResult, css, html, nothing } from 'lit';
import type { AttributeValue, CRDTEntity } from '../../domain/index.js';
import { ElectionStatus, openSealedElection, publishHeldKeys, votingStampsOf } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import { formatIsoDate, plural } from '../shared/format.js';
import { ElectionFormPart } from './election-form-part.js';
import { electionKeyStore } from './election-keys.js';

/** The election's own fields the editor writes, in form order. */
const FIELDS = ['title', 'description', 'opensAt', 'closesAt'] as const;

/** Words for an election's status, shown in its badge. */
export const STATUS_TEXT: Record<ElectionStatus, string> = { draft: 'Draft', open: 'Voting open', closed: 'Closed' };

/** What sealing hides and what it does not, for the organiser (who holds the key) and for everyone else. */
export function sealingText(organiser: boolean): string {
  return organiser
    ? 'Ballots are sealed: until voting closes no device, yours included, can read a choice; only how many ballots were cast shows. Your device keeps the key and publishes it when voting closes. After that every member can see who chose what.'
    : 'Ballots are sealed: until voting closes no device can read a choice; only how many ballots were cast shows. The organiser’s device holds the key and publishes it at the close. After that every member can see who chose what.';
}

/**
 * The details of one election (title, description, planned dates) with their edit form, its
 * status, and the voting actions, apart from the form: open voting (a draft with candidates),
 * close it after a confirmation that says how many ballots will count, and (the organiser only)
 * reopen it. With roles enforced it says who organises the election (and who co-organises it);
 * co-organisers get the voting actions but not the form, and others see the details read-only.
 */
export class EdnetElectionEditor extends ElectionFormPart {
  static override properties = { confirming: { state: true }, busy: { state: true } };

  private declare confirming: boolean;
  private declare busy: boolean;

  constructor() {
    super();
    this.confirming = false;
    this.busy = false;
  }

  protected override resetForElection(): void {
    this.confirming = false;
  }

  static override styles = [
    ElectionFormPart.styles,
    css`
      dl.details {
        margin: 0 0 var(--ed-gap, 12px);
      }
      dl.details dt {
        font-weight: 600;
      }
      dl.details dd {
        margin: 0 0 6px;
      }
      section.voting {
        border-top: 1px solid var(--ed-border, #7d8692);
        margin-top: var(--ed-gap, 12px);
        padding-top: 4px;
      }
      .confirm {
        border: 2px solid var(--ed-danger, #b3261e);
        border-radius: var(--ed-radius, 8px);
        padding: 8px var(--ed-gap, 12px);
      }
      p.waiting {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px var(--ed-gap, 12px);
      }
    `,
  ];

  override render(): TemplateResult {
    const election = this.election();
    if (!election) return html``;
    const { status, openedAt, closedAt } = votingStampsOf(this.model!, election.oid, this.model!.roles);
    const shown = (name: (typeof FIELDS)[number]) => String(election.getAttribute(name) ?? '');
    return html`<section class="card" aria-labelledby="editor-heading">
      <div class="head">
        <h3 id="editor-heading">Election details</h3>
        <span class=${`badge ${status}`}>${STATUS_TEXT[status] ?? status}</span>
      </div>
      ${this.rolesEnforced() ? html`<p class="organiser">${this.#organiserText(election.oid)}</p>` : nothing}
      ${openedAt || closedAt
        ? html`<p class="muted">
            ${openedAt ? html`Opened ${formatIsoDate(openedAt)}.` : nothing} ${status === ElectionStatus.closed && closedAt ? html`Closed ${formatIsoDate(closedAt)}.` : nothing}
          </p>`
        : nothing}
      <p class="muted wrap">
        ${election.getAttribute('sealed') === true
          ? sealingText(this.owning())
          : election.getAttribute('liveResults') === true
            ? 'Ballots are not sealed, and everyone sees the results while voting is open.'
            : 'Ballots are not sealed: every member’s device holds who chose what. Results show when voting closes.'}
      </p>
      ${this.owning() ? html`${this.#form(election, shown)} ${this.#lifecycle(status)}` : this.#readOnly(status, shown)}
    </section>`;
  }

  // Peers' display names are in it: rendered through a text binding only.
  #organiserText(electionId: string): string {
    const co = this.model!.coOrganisersOf(electionId).map((device) => this.deviceName(device));
    const coText = co.length ? `; co-organised by ${co.join(', ')}` : '';
    if (this.owning()) return `You organise this election${coText}.`;
    return `Organised by ${this.deviceName(this.model!.organiserOf(electionId))}${coText}`;
  }

  // What co-organisers and others see: the details as text, and why they cannot change them.
  #readOnly(status: ElectionStatus, shown: (name: (typeof FIELDS)[number]) => string): TemplateResult {
    const row = (label: string, value: string) => (value ? html`<dt>${label}</dt><dd class="wrap">${value}</dd>` : nothing);
    return html`<dl class="details">
        ${row('Title', shown('title'))} ${row('Description', shown('description'))}
        ${row('Opens (planned)', shown('opensAt') && formatIsoDate(shown('opensAt')))}
        ${row('Closes (planned)', shown('closesAt') && formatIsoDate(shown('closesAt')))}
      </dl>
      ${this.organising()
        ? html`<p class="muted">You co-organise this election: only the organiser can change its title, description and dates.</p>
            ${this.#lifecycle(status)}`
        : html`<p class="muted">Only the organiser can change this election, and open or close voting (co-organisers too, for voting).</p>`}`;
  }

  // Open, close (after a confirmation) and reopen voting, for the organiser and co-organisers; apart from the details form.
  #lifecycle(status: ElectionStatus): TemplateResult {
    const model = this.model!;
    const electionId = this.electionId!;
    let actions: TemplateResult | typeof nothing = nothing;
    if (status === ElectionStatus.draft)
      actions = html`<div class="actions"><button type="button" ?disabled=${this.busy} @click=${this.#open}>Open voting</button></div>`;
    else if (status === ElectionStatus.open && !this.confirming)
      actions = html`<div class="actions"><button type="button" class="danger" @click=${this.#askToClose}>Close voting…</button></div>`;
    else if (status === ElectionStatus.open) {
      const counting = model.ballotsCountingAtClose(electionId);
      actions = html`<div class="confirm" role="group" aria-labelledby="close-question" @keydown=${this.#onConfirmKey}>
        <p id="close-question" class="wrap">
          <strong>Close voting?</strong> ${plural(counting, 'ballot')} will count: the ones this device has received. A ballot that reaches it
          later will not count, whatever time it claims. ${this.owning() ? 'You can reopen voting later.' : 'Only the organiser can reopen it.'}
        </p>
        <div class="actions">
          <button type="button" class="danger" ?disabled=${this.busy} @click=${this.#close}>Close voting</button>
          <button type="button" class="secondary" @click=${() => (this.confirming = false)}>Keep voting open</button>
        </div>
      </div>`;
    } else if (this.owning())
      actions = html`<p class="muted">Reopening starts a new round of voting, for voters who have not voted yet; every device shows it in the Audit tab.</p>
        <div class="actions"><button type="button" class="secondary" ?disabled=${this.busy} @click=${this.#open}>Reopen voting</button></div>`;
    // The approvals are far down on a phone: say here, where voting opens, that voters wait.
    const waiting = status === ElectionStatus.closed ? 0 : model.pendingVoters(electionId).count;
    return html`<section class="voting" aria-labelledby="voting-heading">
      <h4 id="voting-heading">Voting</h4>
      ${waiting
        ? html`<p class="waiting wrap">
            <strong>${plural(waiting, 'voter')} waiting for approval.</strong>
            <button type="button" class="secondary" @click=${() => this.dispatchEvent(new CustomEvent('show-voters', { bubbles: true, composed: true }))}>
              Show voters
            </button>
          </p>`
        : nothing}
      ${actions}
      ${this.errors.get('status') ? html`<p class="error" role="alert">${this.errors.get('status')}</p>` : nothing}
      <p class="muted" role="status">${this.message}</p>
    </section>`;
  }

  #form(election: CRDTEntity, shown: (name: (typeof FIELDS)[number]) => string): TemplateResult {
    return html`<form novalidate @submit=${(event: SubmitEvent) => this.#save(event, election)}>
        ${inputField({ id: 'title', label: 'Title', value: shown('title'), error: this.errors.get('title'), required: true, maxLength: 200 })}
        ${inputField({ id: 'description', label: 'Description', value: shown('description'), error: this.errors.get('description'), multiline: true, maxLength: 5000 })}
        <div class="grid">
          ${dateField('opensAt', 'Opens (planned)', shown('opensAt'), this.errors.get('opensAt'))}
          ${dateField('closesAt', 'Closes (planned)', shown('closesAt'), this.errors.get('closesAt'))}
        </div>
        ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
        <div class="actions">
          <button type="submit">Save details</button>
        </div>
      </form>`;
  }

  #save(event: SubmitEvent, election: CRDTEntity): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values: Record<string, AttributeValue> = {};
    for (const name of FIELDS) {
      const raw = formValue(form, name);
      // Only what the user changed is written: an untouched field must not overwrite a peer's edit.
      if (raw !== String(election.getAttribute(name) ?? '')) values[name] = raw.trim() === '' ? null : raw;
    }
    this.#run(() => this.model!.update(election.oid, values), 'Saved.', true);
  }

  async #open(): Promise<void> {
    const model = this.model!;
    const electionId = this.electionId!;
    const reopening = model.statusOf(electionId) === ElectionStatus.closed;
    const done = reopening ? 'Voting is open again: a new round.' : 'Voting is open.';
    if (model.isSealed(electionId)) await this.#runAsync(() => openSealedElection(model, electionId, electionKeyStore()), done);
    else this.#run(() => model.openElection(electionId), done);
  }

  // Escape backs out of the confirmation, as it closes every disclosure; focus returns to "Close voting…".
  #onConfirmKey(event: KeyboardEvent): void {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    this.confirming = false;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.voting button.danger')?.focus());
  }

  #askToClose(): void {
    this.confirming = true;
    this.errors = new Map();
    this.message = '';
  }

  async #close(): Promise<void> {
    const model = this.model!;
    this.confirming = false;
    const counted = model.ballotsCountingAtClose(this.electionId!);
    if (!this.#run(() => model.closeElection(this.electionId!), `Voting is closed with ${plural(counted, 'ballot')}.`)) return;
    // If this device opened a sealed round, its key goes out now: every device can then count.
    if (model.isSealed(this.electionId!)) await this.#runAsync(() => publishHeldKeys(model, electionKeyStore()), `Voting is closed with ${plural(counted, 'ballot')}; the key is published.`);
  }

  async #runAsync(operation: () => Promise<unknown>, done: string): Promise<void> {
    this.busy = true;
    try {
      await operation();
      this.succeeded(done);
    } catch (error) {
      this.refused(new Map([['status', fieldErrorOf(error).message]]), false);
    } finally {
      this.busy = false;
    }
  }

  #run(operation: () => void, done: string, fields = false): boolean {
    try {
      operation();
      this.succeeded(done);
      return true;
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      // Lifecycle errors (status, candidates) show next to the lifecycle buttons.
      const key = fields && field && (FIELDS as readonly string[]).includes(field) ? field : fields ? '' : 'status';
      this.refused(new Map([[key, message]]), fields);
      return false;
    }
  }
}

/** A date field; a stored date-time gets a text field, so saving never drops its time. */
function dateField(id: string, label: string, value: string, error: string | undefined): TemplateResult {
  return value.includes('T')
    ? inputField({ id, label, value, error, hint: 'A UTC date and time, like 2024-05-01T08:00:00Z.' })
    : inputField({ id, label, value, error, type: 'date' });
}

customElements.define('ednet-election-editor', EdnetElectionEditor);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-election-editor': EdnetElectionEditor;
  }
}
