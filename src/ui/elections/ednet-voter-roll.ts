import { type TemplateResult, css, html, nothing } from 'lit';
import type { CRDTEntity } from '../../domain/index.js';
import { ownerOf } from '../../domain/index.js';
import { ElectionStatus, type ElectoralSystemModel, memberNames } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import '../shared/ednet-virtual-list.js';
import { Memo } from '../shared/memo.js';
import { ElectionFormPart } from './election-form-part.js';

const VOTER_FIELDS = ['name', 'voterNumber', 'email', 'district', 'address', 'birthDate'] as const;

/**
 * The voter roll. With open roles: every voter with a switch for their registration in this
 * election, and the form registering a new voter. With roles enforced (voters register themselves,
 * see `ednet-voter-registration`): the voters who asked to vote here, approved or waiting, with the
 * Approve and Withdraw approval buttons of the organiser and co-organisers. Both search, and render only the rows in view.
 */
export class EdnetVoterRoll extends ElectionFormPart {
  static override properties = {
    rowErrors: { state: true },
    filter: { state: true },
  };

  private declare rowErrors: ReadonlyMap<string, string>;
  private declare filter: string;
  // One pass over the roll per model change (or new search), not one per render.
  readonly #roll = new Memo(rollOf);

  constructor() {
    super();
    this.rowErrors = new Map();
    this.filter = '';
  }

  static override styles = [
    ElectionFormPart.styles,
    css`
      li.voter {
        display: flex;
        flex-direction: column;
      }
      .voter .check {
        margin: 0;
        min-height: 32px;
      }
      fieldset.roll li.voter {
        padding: 4px 0;
      }
      .voter > button {
        align-self: flex-start;
        margin-top: 4px;
      }
      details.ids > summary {
        font-weight: 400;
        font-size: 0.9em;
        min-height: 32px;
      }
      details.ids p {
        margin: 0;
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const enforced = this.rolesEnforced();
    const roll = this.#roll.get(this.modelChanges.revision, model, election.oid, this.filter.trim().toLowerCase(), enforced);
    if (enforced) return this.#approvalRoll(election, roll);
    const { voters, registered, shown } = roll;
    const title = String(election.getAttribute('title') ?? '');
    return html`<section class="card" aria-labelledby="voters-heading">
      <h3 id="voters-heading">Voters <span class="muted">(${registered.toLocaleString()} of ${voters.length.toLocaleString()} registered)</span></h3>
      ${this.#search(voters.length)}
      ${voters.length === 0
        ? html`<p class="muted">No voters yet.</p>`
        : html`<fieldset class="roll">
            <legend class="wrap">Registered for ${title}</legend>
            ${shown.length ? nothing : html`<p class="muted">No voter matches.</p>`}
            ${this.#list(shown, (voter) => this.#voter(voter, election.oid))}
          </fieldset>`}
      <details ?open=${voters.length === 0}>
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

  /** Brings the roll's heading into view and focus (the organiser's "Show voters"). */
  showHeading(): void {
    const heading = this.renderRoot.querySelector<HTMLElement>('#voters-heading');
    heading?.scrollIntoView({ block: 'start' });
    heading?.focus({ preventScroll: true });
  }

  protected override resetForElection(): void {
    this.rowErrors = new Map();
  }

  // Roles enforced: who asked to vote here, and the organiser's approvals.
  #approvalRoll(election: CRDTEntity, roll: Roll): TemplateResult {
    const { voters, shown } = roll;
    const organising = this.organising();
    const isApproved = (voter: CRDTEntity) => roll.approved.has(voter.oid);
    const approved = voters.filter(isApproved).length;
    const waiting = voters.filter((voter) => isRegistered(voter, election.oid) && !isApproved(voter)).length;
    return html`<section class="card" aria-labelledby="voters-heading">
      <h3 id="voters-heading" tabindex="-1">Voters <span class="muted">(${approved.toLocaleString()} approved, ${waiting.toLocaleString()} waiting)</span></h3>
      ${this.#search(voters.length)}
      ${voters.length === 0
        ? html`<p class="muted">Nobody has asked to vote in this election yet. Voters register themselves from their own device.</p>`
        : html`${this.#list(shown, (voter) => this.#approval(voter, election, organising, roll.approved.has(voter.oid)))}
            ${shown.length === 0 ? html`<p class="muted">No voter matches.</p>` : nothing}`}
      ${organising ? nothing : html`<p class="muted">Only the organiser and co-organisers can approve voters.</p>`}
      <p class="muted" role="status">${this.message}</p>
    </section>`;
  }

  #approval(voter: CRDTEntity, election: CRDTEntity, organising: boolean, approved: boolean): TemplateResult {
    const model = this.model!;
    const name = String(voter.getAttribute('name') ?? voter.oid);
    const number = String(voter.getAttribute('voterNumber') ?? '');
    const asked = isRegistered(voter, election.oid);
    const status = model.statusOf(election.oid);
    const error = this.rowErrors.get(voter.oid);
    const state = approved ? (asked ? 'Approved' : 'Approved, request withdrawn') : 'Waiting for approval';
    const device = ownerOf(voter.oid);
    // The person behind the device, as they named themselves in the room, where that says more than the voter's name.
    const member = device ? memberNames(model).get(device) : undefined;
    const mine = model.isMyVoter(voter.oid);
    const who = mine ? 'you, on this device' : member && member !== name ? `registered by ${member}` : '';
    return html`
      <div class="head">
        <span class="wrap"><strong>${name}</strong> <span class="muted">${[number, who].filter(Boolean).join(' · ')}</span></span>
        <span class=${`badge ${approved ? 'open' : 'draft'}`}>${state}</span>
      </div>
      <details class="ids">
        <summary>Details<span class="visually-hidden"> of ${name}</span></summary>
        <p class="hint wrap">Voter number ${number}. Registered from device ${device ?? 'unknown'}${mine ? ' (this device)' : ''}; only that device can vote as ${name}.</p>
      </details>
      ${organising && !approved && asked && status !== ElectionStatus.closed
        ? html`<button type="button" @click=${() => this.#approve(voter.oid, true)}>Approve<span class="visually-hidden"> ${name}</span></button>`
        : nothing}
      ${organising && approved && status === ElectionStatus.draft
        ? html`<button type="button" class="secondary" @click=${() => this.#approve(voter.oid, false)}>
            Withdraw approval<span class="visually-hidden"> of ${name}</span>
          </button>`
        : nothing}
      ${error ? html`<span class="field-error" role="alert">${error}</span>` : nothing}
    `;
  }

  #approve(voterId: string, approve: boolean): void {
    const rowErrors = new Map(this.rowErrors);
    rowErrors.delete(voterId);
    try {
      if (approve) {
        this.model!.approveVoter(this.electionId!, voterId);
        this.message = 'Approved.';
      } else if (this.model!.revokeVoter(this.electionId!, voterId)) this.message = this.model!.isApproved(this.electionId!, voterId) ? 'Your approval is withdrawn; another organiser\'s stays.' : 'Approval withdrawn.';
      else {
        // Each organiser withdraws only its own approvals.
        rowErrors.set(voterId, 'Another organiser approved this voter: only they can withdraw it.');
        this.message = '';
      }
    } catch (error) {
      rowErrors.set(voterId, fieldErrorOf(error).message);
      this.message = '';
    }
    this.rowErrors = rowErrors;
  }

  #search(count: number): TemplateResult | typeof nothing {
    return count > 5
      ? html`<div class="field">
          <label for="voter-filter">Find a voter</label>
          <input id="voter-filter" type="search" .value=${this.filter} @input=${this.#onFilter} />
        </div>`
      : nothing;
  }

  // Only the rows in view are in the DOM, however long the roll.
  #list(voters: readonly CRDTEntity[], row: (voter: CRDTEntity) => TemplateResult): TemplateResult | typeof nothing {
    if (!voters.length) return nothing;
    return html`<ednet-virtual-list label="Voters" item-class="voter" search=${this.filter} .items=${voters} .keyOf=${oidOf} .renderItem=${row}></ednet-virtual-list>`;
  }

  #voter(voter: CRDTEntity, electionId: string): TemplateResult {
    const name = String(voter.getAttribute('name') ?? voter.oid);
    const number = String(voter.getAttribute('voterNumber') ?? '');
    const district = voter.getAttribute('district');
    const error = this.rowErrors.get(voter.oid);
    const errorId = `row-error-${voter.oid}`;
    return html`
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
    `;
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
  }
}

/** What the roll shows of the voters: counts, and the voters matching `needle`. */
interface Roll {
  /** Every voter (with roles enforced: those who asked to vote here or were approved). */
  readonly voters: readonly CRDTEntity[];
  readonly registered: number;
  /** Voters approved for the election (with roles enforced; else empty). */
  readonly approved: ReadonlySet<string>;
  /** The voters matching the search (all of them without one). */
  readonly shown: readonly CRDTEntity[];
}

function oidOf(voter: CRDTEntity): string {
  return voter.oid;
}

function rollOf(_revision: number, model: ElectoralSystemModel, electionId: string, needle: string, enforced: boolean): Roll {
  const all = model.voters();
  const approved = enforced ? model.approvedVoters(electionId) : new Set<string>();
  const voters = enforced ? [...all.filter((voter) => approved.has(voter.oid) || isRegistered(voter, electionId))] : [...all];
  const shown: CRDTEntity[] = [];
  let registered = 0;
  for (const voter of voters) {
    if (isRegistered(voter, electionId)) registered++;
    if (!needle || matches(voter, needle)) shown.push(voter);
  }
  return { voters, registered, approved, shown };
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
