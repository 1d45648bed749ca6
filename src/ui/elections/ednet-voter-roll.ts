import { type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { CRDTEntity } from '../../domain/index.js';
import type { ElectoralSystemModel } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import { Memo } from '../shared/memo.js';
import { ElectionFormPart } from './election-form-part.js';

const PAGE = 50;
const VOTER_FIELDS = ['name', 'voterNumber', 'email', 'district', 'address', 'birthDate'] as const;

/**
 * The voter roll: every voter with a switch for their registration in this election, a search,
 * and the form registering a new voter. Long rolls show a page at a time.
 */
export class EdnetVoterRoll extends ElectionFormPart {
  static override properties = {
    rowErrors: { state: true },
    filter: { state: true },
    limit: { state: true },
  };

  private declare rowErrors: ReadonlyMap<string, string>;
  private declare filter: string;
  private declare limit: number;
  // One pass over the roll per model change (or new search or page), not one per render.
  readonly #roll = new Memo(rollOf);

  constructor() {
    super();
    this.rowErrors = new Map();
    this.filter = '';
    this.limit = PAGE;
  }

  static override styles = [
    ElectionFormPart.styles,
    css`
      .voter {
        display: flex;
        flex-direction: column;
      }
      .voter .check {
        margin: 0;
        min-height: 32px;
      }
      fieldset.roll ul.plain > li {
        padding: 4px 0;
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const roll = this.#roll.get(this.modelChanges.revision, model, election.oid, this.filter.trim().toLowerCase(), this.limit);
    const { voters, registered, matching, shown } = roll;
    const title = String(election.getAttribute('title') ?? '');
    return html`<section class="card" aria-labelledby="voters-heading">
      <h3 id="voters-heading">Voters <span class="muted">(${registered.toLocaleString()} of ${voters.count.toLocaleString()} registered)</span></h3>
      ${voters.count > 5
        ? html`<div class="field">
            <label for="voter-filter">Find a voter</label>
            <input id="voter-filter" type="search" .value=${this.filter} @input=${this.#onFilter} />
          </div>`
        : nothing}
      ${voters.count === 0
        ? html`<p class="muted">No voters yet.</p>`
        : html`<fieldset class="roll">
            <legend class="wrap">Registered for ${title}</legend>
            ${shown.length ? nothing : html`<p class="muted">No voter matches.</p>`}
            <ul class="plain">
              ${repeat(
                shown,
                (voter) => voter.oid,
                (voter) => this.#voter(voter, election.oid),
              )}
            </ul>
            ${matching > shown.length
              ? html`<p class="actions">
                  <span>Showing ${shown.length.toLocaleString()} of ${matching.toLocaleString()}.</span>
                  <button type="button" class="secondary" @click=${() => (this.limit += PAGE)}>Show more voters</button>
                </p>`
              : nothing}
          </fieldset>`}
      <details ?open=${voters.count === 0}>
        <summary>Register a new voter</summary>
        <form novalidate @submit=${this.#register}>
          <div class="grid">
            ${inputField({ id: 'voter-name', name: 'name', label: 'Name', error: this.errors.get('name'), required: true, maxLength: 200, autocomplete: 'off' })}
            ${inputField({ id: 'voter-number', name: 'voterNumber', label: 'Voter number', error: this.errors.get('voterNumber'), required: true, hint: 'Letters, digits and dashes, unique.' })}
            ${inputField({ id: 'voter-email', name: 'email', label: 'Email', type: 'email', error: this.errors.get('email'), maxLength: 254 })}
            ${inputField({ id: 'voter-district', name: 'district', label: 'District', error: this.errors.get('district'), maxLength: 100 })}
            ${inputField({ id: 'voter-address', name: 'address', label: 'Address', error: this.errors.get('address'), maxLength: 300 })}
            ${inputField({ id: 'voter-birth', name: 'birthDate', label: 'Birth date', type: 'date', error: this.errors.get('birthDate') })}
          </div>
          <div class="field">
            <label class="check"><input type="checkbox" name="register" checked /> Register for ${title} too</label>
          </div>
          ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
          <button type="submit">Register voter</button>
        </form>
      </details>
      <p class="muted" role="status">${this.message}</p>
    </section>`;
  }

  protected override resetForElection(): void {
    this.rowErrors = new Map();
  }

  #voter(voter: CRDTEntity, electionId: string): TemplateResult {
    const name = String(voter.getAttribute('name') ?? voter.oid);
    const number = String(voter.getAttribute('voterNumber') ?? '');
    const district = voter.getAttribute('district');
    const error = this.rowErrors.get(voter.oid);
    const errorId = `row-error-${voter.oid}`;
    return html`<li class="voter">
      <label class="check wrap">
        <input
          type="checkbox"
          .checked=${isRegistered(voter, electionId)}
          aria-describedby=${error ? errorId : nothing}
          @change=${(event: Event) => this.#toggle(voter.oid, (event.target as HTMLInputElement).checked, event.target as HTMLInputElement)}
        />
        <span>${name} <span class="muted">${number}${district ? `, ${district}` : ''}</span></span>
      </label>
      ${error ? html`<span class="field-error" id=${errorId} role="alert">${error}</span>` : nothing}
    </li>`;
  }

  #toggle(voterId: string, register: boolean, input: HTMLInputElement): void {
    const rowErrors = new Map(this.rowErrors);
    rowErrors.delete(voterId);
    try {
      if (register) this.model!.registerForElection(voterId, this.electionId!);
      else this.model!.unregisterFromElection(voterId, this.electionId!);
      this.message = register ? 'Registered.' : 'Registration withdrawn.';
    } catch (error) {
      // The model refused: the switch goes back to what the model holds.
      input.checked = !register;
      rowErrors.set(voterId, fieldErrorOf(error).message);
      this.message = '';
    }
    this.rowErrors = rowErrors;
  }

  #register(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const model = this.model!;
    const text = (name: string) => formValue(form, name).trim();
    const optional = (name: string) => text(name) || undefined;
    let voter: CRDTEntity;
    try {
      voter = model.registerVoter({
        name: text('name'),
        voterNumber: text('voterNumber'),
        email: optional('email'),
        district: optional('district'),
        address: optional('address'),
        birthDate: optional('birthDate'),
      });
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.refused(new Map([[field && (VOTER_FIELDS as readonly string[]).includes(field) ? field : '', message]]));
      return;
    }
    const alsoRegister = (form.elements.namedItem('register') as HTMLInputElement).checked;
    form.reset();
    this.succeeded(`${String(voter.getAttribute('name'))} registered as a voter.`);
    if (!alsoRegister) return;
    try {
      model.registerForElection(voter.oid, this.electionId!);
    } catch (error) {
      // The voter exists now (the message says so); only the registration was refused.
      this.errors = new Map([['', fieldErrorOf(error).message]]);
    }
  }

  #onFilter(event: Event): void {
    this.filter = (event.target as HTMLInputElement).value;
    this.limit = PAGE;
  }
}

/** What the roll shows of the voters: counts, and the first `limit` voters matching `needle`. */
function rollOf(_revision: number, model: ElectoralSystemModel, electionId: string, needle: string, limit: number) {
  const voters = model.voters();
  const shown: CRDTEntity[] = [];
  let registered = 0;
  let matching = 0;
  for (const voter of voters) {
    if (isRegistered(voter, electionId)) registered++;
    if (needle && !matches(voter, needle)) continue;
    matching++;
    if (shown.length < limit) shown.push(voter);
  }
  return { voters, registered, matching, shown };
}

function isRegistered(voter: CRDTEntity, electionId: string): boolean {
  return voter.childOids('elections').includes(electionId);
}

function matches(voter: CRDTEntity, needle: string): boolean {
  const name = voter.getAttribute('name');
  const number = voter.getAttribute('voterNumber');
  return (typeof name === 'string' && name.toLowerCase().includes(needle)) || (typeof number === 'string' && number.toLowerCase().includes(needle));
}

customElements.define('ednet-voter-roll', EdnetVoterRoll);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-voter-roll': EdnetVoterRoll;
  }
}
