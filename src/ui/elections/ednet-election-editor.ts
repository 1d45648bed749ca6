import { type TemplateResult, css, html, nothing } from 'lit';
import type { AttributeValue, CRDTEntity } from '../../domain/index.js';
import { ElectionStatus, votingStampsOf } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import { formatIsoDate } from '../shared/format.js';
import { ElectionFormPart } from './election-form-part.js';

/** The election's own fields the editor writes, in form order. */
const FIELDS = ['title', 'description', 'opensAt', 'closesAt'] as const;

/** Words for an election's status, shown in its badge. */
export const STATUS_TEXT: Record<ElectionStatus, string> = { draft: 'Draft', open: 'Voting open', closed: 'Closed' };

/**
 * The details of one election (title, description, planned dates) with their edit form, its
 * status, and the lifecycle actions: open voting (a draft with candidates) and close it. With
 * roles enforced it says who organises the election (and who co-organises it); co-organisers get
 * the lifecycle actions but not the form, and others see the details read-only.
 */
export class EdnetElectionEditor extends ElectionFormPart {
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
            ${openedAt ? html`Opened ${formatIsoDate(openedAt)}.` : nothing} ${closedAt ? html`Closed ${formatIsoDate(closedAt)}.` : nothing}
          </p>`
        : nothing}
      ${this.owning() ? this.#form(election, status, shown) : this.#readOnly(status, shown)}
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

  // Open and close voting, for the organiser and co-organisers.
  #lifecycle(status: ElectionStatus): TemplateResult {
    return html`${status === ElectionStatus.closed
        ? nothing
        : html`<div class="actions">
            ${status === ElectionStatus.draft ? html`<button type="button" class="secondary" @click=${this.#open}>Open voting</button>` : nothing}
            ${status === ElectionStatus.open ? html`<button type="button" class="danger" @click=${this.#close}>Close voting</button>` : nothing}
          </div>`}
      ${this.errors.get('status') ? html`<p class="error" role="alert">${this.errors.get('status')}</p>` : nothing}
      <p class="muted" role="status">${this.message}</p>`;
  }

  #form(election: CRDTEntity, status: ElectionStatus, shown: (name: (typeof FIELDS)[number]) => string): TemplateResult {
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
          ${status === ElectionStatus.draft ? html`<button type="button" class="secondary" @click=${this.#open}>Open voting</button>` : nothing}
          ${status === ElectionStatus.open ? html`<button type="button" class="danger" @click=${this.#close}>Close voting</button>` : nothing}
        </div>
        ${this.errors.get('status') ? html`<p class="error" role="alert">${this.errors.get('status')}</p>` : nothing}
        <p class="muted" role="status">${this.message}</p>
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

  #open(): void {
    this.#run(() => this.model!.openElection(this.electionId!), 'Voting is open.');
  }

  #close(): void {
    this.#run(() => this.model!.closeElection(this.electionId!), 'Voting is closed.');
  }

  #run(operation: () => void, done: string, fields = false): void {
    try {
      operation();
      this.succeeded(done);
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      // Lifecycle errors (status, candidates) show next to the lifecycle buttons.
      const key = fields && field && (FIELDS as readonly string[]).includes(field) ? field : fields ? '' : 'status';
      this.refused(new Map([[key, message]]), fields);
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
