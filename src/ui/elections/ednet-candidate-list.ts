import { type TemplateResult, html, nothing } from 'lit';
import { type CRDTEntity, ownerOf } from '../../domain/index.js';
import { ElectionStatus } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import '../shared/ednet-virtual-list.js';
import { formValue, inputField } from '../shared/form-field.js';
import { ElectionFormPart } from './election-form-part.js';

/** From this many candidates on, the list can be searched. */
const SEARCH_FROM = 8;

/**
 * The candidates standing in an election, with adding and withdrawing them while it is a draft:
 * by its organiser and co-organisers, each withdrawing the candidates it added. A long list is
 * searchable and renders only the rows in view.
 */
export class EdnetCandidateList extends ElectionFormPart {
  static override properties = { filter: { state: true } };
  private declare filter: string;

  constructor() {
    super();
    this.filter = '';
  }

  protected override resetForElection(): void {
    this.filter = '';
  }

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const draft = model.statusOf(election.oid) === ElectionStatus.draft;
    const enforced = this.rolesEnforced();
    const organiser = model.organiserOf(election.oid);
    const editable = draft && this.organising();
    const candidates = model.candidates(election.oid).sortBy('name');
    const query = this.filter.trim().toLowerCase();
    const shown = query ? [...candidates].filter((candidate) => String(candidate.getAttribute('name') ?? '').toLowerCase().includes(query)) : [...candidates];
    return html`<section class="card" aria-labelledby="candidates-heading">
      <h3 id="candidates-heading">Candidates <span class="muted">(${candidates.count.toLocaleString()})</span></h3>
      ${candidates.count > SEARCH_FROM
        ? html`<div class="field">
            <label for="candidate-filter">Find a candidate</label>
            <input id="candidate-filter" type="search" .value=${this.filter} @input=${(event: Event) => (this.filter = (event.target as HTMLInputElement).value)} />
          </div>`
        : nothing}
      ${candidates.count && !shown.length ? html`<p class="muted">No candidate matches.</p>` : nothing}
      ${shown.length
        ? html`<ednet-virtual-list
            label="Candidates"
            item-class="head"
            search=${query}
            .items=${shown}
            .keyOf=${(candidate: CRDTEntity) => candidate.oid}
            .renderItem=${(candidate: CRDTEntity) => {
                const name = String(candidate.getAttribute('name') ?? candidate.oid);
                const party = candidate.getAttribute('party');
                const statement = candidate.getAttribute('statement');
                const owner = ownerOf(candidate.oid);
                // The organiser cannot withdraw a co-organiser's candidate (it revokes the co-organiser).
                const mine = !enforced || owner === model.deviceId;
                return html`
                  <span class="wrap">
                    <strong>${name}</strong>${party ? html` <span class="muted">${party}</span>` : nothing}
                    ${statement ? html`<span class="hint wrap">${statement}</span>` : nothing}
                    ${enforced && owner !== organiser ? html`<span class="hint">Added by co-organiser ${this.deviceName(owner)}</span>` : nothing}
                  </span>
                  ${editable && mine
                    ? html`<button type="button" class="danger" @click=${() => this.#remove(candidate.oid)}>
                        Remove<span class="visually-hidden"> ${name}</span>
                      </button>`
                    : nothing}
                `;
              }}
          ></ednet-virtual-list>`
        : candidates.count
          ? nothing
          : html`<p class="muted">No candidates yet.</p>`}
      ${this.errors.get('candidates') ? html`<p class="error" role="alert">${this.errors.get('candidates')}</p>` : nothing}
      ${editable
        ? html`<form novalidate @submit=${this.#add}>
            <h4>Add a candidate</h4>
            <div class="grid">
              ${inputField({ id: 'candidate-name', name: 'name', label: 'Name', error: this.errors.get('name'), required: true, maxLength: 200 })}
              ${inputField({ id: 'candidate-party', name: 'party', label: 'Party', error: this.errors.get('party'), maxLength: 200 })}
            </div>
            ${inputField({ id: 'candidate-statement', name: 'statement', label: 'Statement', error: this.errors.get('statement'), multiline: true, maxLength: 2000 })}
            ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
            <button type="submit">Add candidate</button>
          </form>`
        : html`<p class="muted">
            ${draft ? 'Only the organiser and co-organisers can add or remove candidates.' : 'Candidates can be changed only while the election is a draft.'}
          </p>`}
      <p class="muted" role="status">${this.message}</p>
    </section>`;
  }

  #add(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const optional = (name: string) => formValue(form, name).trim() || undefined;
    try {
      const candidate = this.model!.addCandidate(this.electionId!, {
        name: formValue(form, 'name').trim(),
        party: optional('party'),
        statement: optional('statement'),
      });
      form.reset();
      this.succeeded(`${String(candidate.getAttribute('name'))} added.`);
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.refused(new Map([[field === 'name' || field === 'party' || field === 'statement' ? field : '', message]]));
    }
  }

  #remove(candidateId: string): void {
    const model = this.model!;
    const electionId = this.electionId!;
    try {
      // Undo (the toast, Ctrl+Z) comes from the room's edit recorder.
      model.removeCandidate(electionId, candidateId);
      this.succeeded('Candidate removed.');
    } catch (error) {
      this.refused(new Map([['candidates', fieldErrorOf(error).message]]), false);
    }
  }
}

customElements.define('ednet-candidate-list', EdnetCandidateList);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-candidate-list': EdnetCandidateList;
  }
}
