import { type TemplateResult, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { ownerOf } from '../../domain/index.js';
import { ElectionStatus } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import { ElectionFormPart } from './election-form-part.js';

/**
 * The candidates standing in an election, with adding and withdrawing them while it is a draft:
 * by its organiser and co-organisers, each withdrawing the candidates it added.
 */
export class EdnetCandidateList extends ElectionFormPart {
  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const draft = model.statusOf(election.oid) === ElectionStatus.draft;
    const enforced = this.rolesEnforced();
    const organiser = model.organiserOf(election.oid);
    const editable = draft && this.organising();
    const candidates = model.candidates(election.oid).sortBy('name');
    return html`<section class="card" aria-labelledby="candidates-heading">
      <h3 id="candidates-heading">Candidates <span class="muted">(${candidates.count})</span></h3>
      ${candidates.count
        ? html`<ul class="plain">
            ${repeat(
              candidates,
              (candidate) => candidate.oid,
              (candidate) => {
                const name = String(candidate.getAttribute('name') ?? candidate.oid);
                const party = candidate.getAttribute('party');
                const statement = candidate.getAttribute('statement');
                const owner = ownerOf(candidate.oid);
                // The organiser cannot withdraw a co-organiser's candidate (it revokes the co-organiser).
                const mine = !enforced || owner === model.deviceId;
                return html`<li class="head">
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
                </li>`;
              },
            )}
          </ul>`
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
