import { type TemplateResult, html, nothing } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { repeat } from 'lit/directives/repeat.js';
import { type CRDTEntity, ValidationError } from '../../domain/index.js';
import { ElectionStatus, type ElectoralSystemModel } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { describedBy, formValue, inputField } from '../shared/form-field.js';
import { Memo } from '../shared/memo.js';
import { ElectionFormPart } from './election-form-part.js';

/** The voter-number field suggests at most this many registered voters. */
const MAX_SUGGESTIONS = 200;

/**
 * Casting a ballot: the voter by voter number (suggested from the registered voters) and a
 * candidate. The model's rules decide (open election, registered voter, one counted ballot per
 * voter, standing candidate); a refusal shows next to the voter or candidate field.
 */
export class EdnetBallotForm extends ElectionFormPart {
  // Once per model change, and only as far as the first registered voters.
  readonly #suggestions = new Memo((_revision: number, model: ElectoralSystemModel, electionId: string) => {
    const found: CRDTEntity[] = [];
    for (const voter of model.voters()) {
      if (found.length >= MAX_SUGGESTIONS) break;
      if (voter.childOids('elections').includes(electionId)) found.push(voter);
    }
    return found;
  });

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const status = election.getAttribute('status');
    const candidates = model.candidates(election.oid).sortBy('name');
    const suggestions = this.#suggestions.get(this.modelChanges.revision, model, election.oid);
    const candidateError = this.errors.get('candidate');
    const candidateNotes = describedBy('candidate', undefined, candidateError);
    return html`<section class="card" aria-labelledby="ballot-heading">
      <h3 id="ballot-heading">Cast a ballot</h3>
      <p class="muted">
        ${status === ElectionStatus.open
          ? 'Voting is open.'
          : status === ElectionStatus.closed
            ? 'Voting has closed; ballots are no longer accepted.'
            : 'Ballots are accepted once voting is opened.'}
      </p>
      <form novalidate @submit=${this.#cast}>
        ${inputField({
          id: 'ballot-voter',
          name: 'voterNumber',
          label: 'Voter number',
          error: this.errors.get('voter'),
          required: true,
          list: 'registered-voters',
          hint: 'As printed on the voter card.',
        })}
        <datalist id="registered-voters">
          ${suggestions.map((voter) => html`<option value=${String(voter.getAttribute('voterNumber') ?? '')}>${String(voter.getAttribute('name') ?? '')}</option>`)}
        </datalist>
        <fieldset aria-describedby=${ifDefined(candidateNotes)}>
          <legend>Candidate</legend>
          ${candidates.count ? nothing : html`<p class="muted">No candidates.</p>`}
          ${repeat(
            candidates,
            (candidate) => candidate.oid,
            (candidate) => {
              const party = candidate.getAttribute('party');
              return html`<label class="check wrap">
                <input type="radio" name="candidate" value=${candidate.oid} aria-invalid=${ifDefined(candidateError ? 'true' : undefined)} />
                ${String(candidate.getAttribute('name') ?? candidate.oid)}${party ? html` <span class="muted">${party}</span>` : nothing}
              </label>`;
            },
          )}
          ${candidateError ? html`<span class="field-error" id="candidate-error">${candidateError}</span>` : nothing}
        </fieldset>
        ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
        <button type="submit">Cast ballot</button>
        <p class="muted" role="status">${this.message}</p>
      </form>
    </section>`;
  }

  #cast(event: SubmitEvent): void {
    event.preventDefault();
    const model = this.model!;
    const form = event.target as HTMLFormElement;
    const number = formValue(form, 'voterNumber').trim();
    const candidateId = (form.querySelector<HTMLInputElement>('input[name="candidate"]:checked')?.value ?? '').trim();
    const errors = new Map<string, string>();
    const voter = number ? model.voterByNumber(number) : undefined;
    if (!number) errors.set('voter', 'Enter the voter number.');
    else if (!voter) errors.set('voter', `No voter has the number ${number}.`);
    if (!candidateId) errors.set('candidate', 'Choose a candidate.');
    if (!errors.size) {
      try {
        model.castBallot({ voterId: voter!.oid, electionId: this.electionId!, candidateId });
        const candidate = model.get(candidateId);
        form.reset();
        this.succeeded(`Ballot cast by ${String(voter!.getAttribute('name') ?? number)} for ${String(candidate?.getAttribute('name') ?? candidateId)}.`);
        return;
      } catch (error) {
        const { field, message } = fieldErrorOf(error);
        errors.set(field === 'voter' || field === 'candidate' ? field : '', voterMessage(error, String(voter!.getAttribute('name') ?? number)) ?? message);
      }
    }
    this.refused(errors);
  }
}

// The model's messages name the voter by id; at a polling desk the name is what helps.
function voterMessage(error: unknown, name: string): string | undefined {
  if (!(error instanceof ValidationError)) return undefined;
  if (error.rule === 'already-voted') return `${name} has already voted in this election.`;
  if (error.rule === 'registered') return `${name} is not registered for this election.`;
  return undefined;
}

customElements.define('ednet-ballot-form', EdnetBallotForm);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-ballot-form': EdnetBallotForm;
  }
}
