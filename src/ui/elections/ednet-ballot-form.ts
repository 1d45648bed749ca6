import { type TemplateResult, html, nothing } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { repeat } from 'lit/directives/repeat.js';
import { type CRDTEntity, type Entities, ValidationError } from '../../domain/index.js';
import { ElectionStatus, type ElectoralSystemModel } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { describedBy, formValue, inputField } from '../shared/form-field.js';
import { Memo } from '../shared/memo.js';
import { ElectionFormPart } from './election-form-part.js';

/** The voter-number field suggests at most this many registered voters. */
const MAX_SUGGESTIONS = 200;

/**
 * Casting a ballot. With roles enforced, this device votes as its own voter (once the organiser
 * approved it) and says why it cannot otherwise. With open roles, the voter is chosen by voter
 * number (suggested from the registered voters), as at a polling desk. The model's rules decide
 * (open election, registered voter, one counted ballot per voter, standing candidate); a refusal
 * shows next to the voter or candidate field.
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

  // This voter's ballot that counts (or will, once unsealed), once per model change.
  readonly #counted = new Memo((_revision: number, model: ElectoralSystemModel, electionId: string, voterId: string) =>
    model.tally(electionId).ballots.find((ballot) => ballot.voterId === voterId && (ballot.status === 'counted' || ballot.status === 'sealed')),
  );
  #busy = false;

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const status = model.statusOf(election.oid);
    const candidates = model.candidates(election.oid).sortBy('name');
    const suggestions = this.#suggestions.get(this.modelChanges.revision, model, election.oid);
    const candidateError = this.errors.get('candidate');
    const candidateNotes = describedBy('candidate', undefined, candidateError);
    const enforced = this.rolesEnforced();
    const voter = enforced ? model.myVoter() : undefined;
    const obstacle = enforced ? this.#obstacle(voter, election.oid) : undefined;
    return html`<section class="card" aria-labelledby="ballot-heading">
      <h3 id="ballot-heading">Your ballot</h3>
      ${status === ElectionStatus.open
        ? model.isSealed(election.oid) && !obstacle
          ? html`<p class="muted">Your choice is sealed: nobody can read it until voting closes.</p>`
          : nothing
        : html`<p class="muted">${status === ElectionStatus.closed ? 'Voting has closed.' : 'Ballots are accepted once voting opens.'}</p>`}
      <p class="wrap" role="status">${obstacle ?? this.message}</p>
      ${obstacle ? nothing : this.#form(voter, suggestions, candidates, candidateError, candidateNotes)}
    </section>`;
  }

  #form(
    voter: CRDTEntity | undefined,
    suggestions: readonly CRDTEntity[],
    candidates: Entities,
    candidateError: string | undefined,
    candidateNotes: string | undefined,
  ): TemplateResult {
    const enforced = this.rolesEnforced();
    return html`<form novalidate @submit=${this.#cast}>
        ${voter
          ? html`<p class="wrap">Voting as <strong>${String(voter.getAttribute('name') ?? '')}</strong> <span class="muted">${String(voter.getAttribute('voterNumber') ?? '')}</span>, from this device.</p>`
          : nothing}
        ${enforced ? nothing : inputField({
          id: 'ballot-voter',
          name: 'voterNumber',
          label: 'Voter number',
          error: this.errors.get('voter'),
          required: true,
          list: 'registered-voters',
          hint: 'As printed on the voter card.',
        })}
        ${enforced
          ? nothing
          : html`<datalist id="registered-voters">
              ${suggestions.map((voter) => html`<option value=${String(voter.getAttribute('voterNumber') ?? '')}>${String(voter.getAttribute('name') ?? '')}</option>`)}
            </datalist>`}
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
          <!-- A live region present before the error, so "Choose a candidate." is announced. -->
          <span class="field-error" id="candidate-error" role="alert">${candidateError ?? ''}</span>
        </fieldset>
        ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
        <button type="submit">Cast ballot</button>
      </form>`;
  }

  // Why this device cannot vote here (roles enforced), or undefined if it can.
  #obstacle(voter: CRDTEntity | undefined, electionId: string): string | undefined {
    const model = this.model!;
    const status = model.statusOf(electionId);
    const cast = voter ? this.#counted.get(this.modelChanges.revision, model, electionId, voter.oid) : undefined;
    if (cast) {
      const choice = cast.candidateId ? String(model.get(cast.candidateId)?.getAttribute('name') ?? cast.candidateId) : '';
      if (status === ElectionStatus.closed) {
        if (choice) return `You voted for ${choice}. The results are in “Results”.`;
        const published = model.votingHistory(electionId).rounds.some((round) => round.publishedKeys.length > 0);
        return published ? 'You voted. The results are in “Results”.' : 'You voted. The results show once the organiser’s device publishes the key.';
      }
      return choice ? `Your ballot is in, for ${choice}. Results at the close.` : 'Your ballot is in, sealed. Results at the close.';
    }
    if (status === ElectionStatus.closed) return 'You did not vote in this election.';
    // An organiser approves its own registration like anyone else's: say so, not "wait for the organiser".
    const approver = model.isOrganiser(electionId) ? 'you approve it under “Voters”' : 'the organiser approves it';
    if (!voter) return `To vote, register yourself under “Your registration”; then ${approver}.`;
    if (!voter.childOids('elections').includes(electionId)) return 'To vote, ask to vote in this election under “Your registration”.';
    if (!model.isApproved(electionId, voter.oid))
      return model.isOrganiser(electionId) ? 'You can vote once you approve your registration under “Voters”.' : 'You can vote once the organiser approves your registration.';
    if (status === ElectionStatus.draft) return 'You are approved. You can vote once voting opens.';
    return undefined;
  }

  async #cast(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (this.#busy) return;
    const model = this.model!;
    const form = event.target as HTMLFormElement;
    const enforced = this.rolesEnforced();
    const number = enforced ? '' : formValue(form, 'voterNumber').trim();
    const candidateId = (form.querySelector<HTMLInputElement>('input[name="candidate"]:checked')?.value ?? '').trim();
    const errors = new Map<string, string>();
    const voter = enforced ? model.myVoter() : number ? model.voterByNumber(number) : undefined;
    if (enforced) {
      if (!voter) errors.set('', 'Register yourself first.');
    } else if (!number) errors.set('voter', 'Enter the voter number.');
    else if (!voter) errors.set('voter', `No voter has the number ${number}.`);
    if (!candidateId) errors.set('candidate', 'Choose a candidate.');
    if (!errors.size) {
      const input = { voterId: voter!.oid, electionId: this.electionId!, candidateId };
      try {
        const sealed = model.isSealed(this.electionId!);
        if (sealed) {
          this.#busy = true;
          await model.castSealedBallot(input).finally(() => (this.#busy = false));
        } else model.castBallot(input);
        const candidate = model.get(candidateId);
        form.reset();
        // With roles enforced the card now says "your ballot is in"; at a polling desk, who voted.
        this.succeeded(enforced ? '' : `Ballot cast by ${String(voter!.getAttribute('name') ?? number)}${sealed ? ', sealed' : ` for ${String(candidate?.getAttribute('name') ?? candidateId)}`}.`);
        return;
      } catch (error) {
        const { field, message } = fieldErrorOf(error);
        const key = field === 'candidate' || (field === 'voter' && !enforced) ? field : '';
        errors.set(key, voterMessage(error, String(voter!.getAttribute('name') ?? number)) ?? message);
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
