import { type PropertyValues, type TemplateResult, html, nothing } from 'lit';
import type { CRDTEntity } from '../../domain/index.js';
import { ElectionStatus, memberNames } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { formValue, inputField } from '../shared/form-field.js';
import { markApprovalSeen, votedIn } from './election-attention.js';
import { ElectionFormPart } from './election-form-part.js';

const FIELDS = ['name', 'voterNumber', 'email', 'district'] as const;

/**
 * This device's own registration, where election roles are enforced: a voter is bound to the
 * device that registers it, so a person registers themselves here (name and voter number), asks
 * to vote in the election shown, and sees whether the organiser has approved them.
 */
export class EdnetVoterRegistration extends ElectionFormPart {
  #messageState: string | undefined;

  protected override succeeded(message: string): void {
    super.succeeded(message);
    this.#messageState = this.#stateKey();
  }

  // Where this device's voter stands in the election shown: registered, asked, approved, status.
  #stateKey(): string {
    const model = this.model;
    const voter = model?.myVoter();
    if (!model || !this.electionId || !voter || !this.election()) return 'none';
    return [voter.oid, voter.childOids('elections').includes(this.electionId), model.isApproved(this.electionId, voter.oid), model.statusOf(this.electionId)].join('|');
  }

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const voter = model.myVoter();
    // A message answers one state ("asked to vote"): once approval or voting moves on, it would contradict the card.
    const state = this.#stateKey();
    if (this.message && this.#messageState !== undefined && this.#messageState !== state) this.#messageState = undefined;
    return html`<section class="card" aria-labelledby="registration-heading">
      <h3 id="registration-heading">Your registration</h3>
      ${voter ? this.#registered(voter, election) : this.#form(election)}
      ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
      <p class="muted" role="status">${this.#messageState === state ? this.message : ''}</p>
    </section>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // The card says "Approved": the Elections tab's "you are approved" badge clears.
    const model = this.model;
    if (model && this.election() && markApprovalSeen(model, this.electionId!))
      this.dispatchEvent(new CustomEvent('attention-changed', { bubbles: true, composed: true }));
  }

  #form(election: CRDTEntity): TemplateResult {
    const closed = this.model!.statusOf(election.oid) === ElectionStatus.closed;
    // Starts from the name this device shares with the room; the roll may need a fuller one.
    const shared = this.model!.deviceId === undefined ? '' : (memberNames(this.model!).get(this.model!.deviceId) ?? '');
    const form = html`<p class="muted">Register yourself to vote from this device. Your registration belongs to this device: only it can vote as you.</p>
      <form novalidate @submit=${this.#register}>
        <div class="grid">
          ${inputField({ id: 'self-name', name: 'name', label: 'Name on the voter roll', error: this.errors.get('name'), required: true, maxLength: 200, autocomplete: 'name', value: shared, hint: 'As the organiser knows you; starts from your display name.' })}
          ${inputField({ id: 'self-number', name: 'voterNumber', label: 'Voter number', error: this.errors.get('voterNumber'), required: true, hint: 'Letters, digits and dashes, unique.' })}
          ${inputField({ id: 'self-email', name: 'email', label: 'Email', type: 'email', error: this.errors.get('email'), maxLength: 254 })}
          ${inputField({ id: 'self-district', name: 'district', label: 'District', error: this.errors.get('district'), maxLength: 100 })}
        </div>
        <button type="submit">${closed ? 'Register' : 'Register and ask to vote'}</button>
      </form>`;
    // The organiser mostly runs the election; voting too is the exception, so it starts folded.
    return this.organising() ? html`<details ?open=${this.errors.size > 0}><summary>Register to vote yourself</summary>${form}</details>` : form;
  }

  #registered(voter: CRDTEntity, election: CRDTEntity): TemplateResult {
    const model = this.model!;
    const name = String(voter.getAttribute('name') ?? '');
    const number = String(voter.getAttribute('voterNumber') ?? '');
    const title = String(election.getAttribute('title') ?? '');
    const status = model.statusOf(election.oid);
    const asked = voter.childOids('elections').includes(election.oid);
    const approved = model.isApproved(election.oid, voter.oid);
    // One state, the current one: what the voter waits for or can do next.
    let state: TemplateResult;
    if (approved && asked)
      state = html`<p>
        <span class="badge open">Approved</span>
        ${status === ElectionStatus.draft
          ? 'You can vote once voting opens.'
          : status === ElectionStatus.closed
            ? 'Voting has closed.'
            : votedIn(model, election.oid, voter.oid)
              ? 'You have voted.'
              : 'Voting is open: see “Your ballot”.'}
      </p>
      ${status === ElectionStatus.draft
        ? html`<button type="button" class="secondary" @click=${() => this.#withdraw(voter.oid, 'Withdrawn from this election.')}>Withdraw from this election</button>`
        : nothing}`;
    else if (asked)
      state = html`<p><span class="badge draft">Waiting</span> ${this.organising() ? 'Approve yourself under “Voters”.' : 'Waiting for the organiser to approve you.'}</p>
        ${status === ElectionStatus.draft ? html`<button type="button" class="secondary" @click=${() => this.#withdraw(voter.oid)}>Withdraw my request</button>` : nothing}`;
    else if (status === ElectionStatus.closed) state = html`<p class="muted">This election has closed.</p>`;
    else
      state = html`<p class="muted">You have not asked to vote in this election.</p>
        <button type="button" @click=${() => this.#ask(voter.oid)}>Ask to vote in <span class="wrap">${title}</span></button>`;
    return html`<p class="wrap">You are registered as <strong>${name}</strong> <span class="muted">${number}</span>.</p>
      ${state}
      <details ?open=${this.errors.has('name')}>
        <summary>Change my name on the voter roll</summary>
        <form novalidate @submit=${(event: SubmitEvent) => this.#rename(event, voter)}>
          ${inputField({ id: 'self-rename', name: 'name', label: 'Name on the voter roll', value: name, error: this.errors.get('name'), required: true, maxLength: 200, autocomplete: 'name' })}
          <button type="submit" class="secondary">Save name on the roll</button>
        </form>
      </details>`;
  }

  #rename(event: SubmitEvent, voter: CRDTEntity): void {
    event.preventDefault();
    const name = formValue(event.target as HTMLFormElement, 'name').trim();
    try {
      this.model!.update(voter.oid, { name });
      this.succeeded(`Your name on the voter roll is now ${name}.`);
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.refused(new Map([[field === 'name' ? 'name' : '', message]]));
    }
  }

  #register(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const model = this.model!;
    const text = (name: string) => formValue(form, name).trim();
    let voter: CRDTEntity;
    try {
      voter = model.registerVoter({ name: text('name'), voterNumber: text('voterNumber'), email: text('email') || undefined, district: text('district') || undefined });
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.refused(new Map([[field && (FIELDS as readonly string[]).includes(field) ? field : '', message]]));
      return;
    }
    this.succeeded(`Registered as ${String(voter.getAttribute('name'))}.`);
    if (this.election() !== undefined && this.model!.statusOf(this.electionId!) === ElectionStatus.closed) return;
    this.#ask(voter.oid, `Registered as ${String(voter.getAttribute('name'))}; the organiser can now approve you.`);
  }

  #ask(voterId: string, done = 'Asked to vote; the organiser can now approve you.'): void {
    try {
      this.model!.registerForElection(voterId, this.electionId!);
      this.succeeded(done);
    } catch (error) {
      this.refused(new Map([['', fieldErrorOf(error).message]]), false);
    }
  }

  #withdraw(voterId: string, done = 'Request withdrawn.'): void {
    try {
      this.model!.unregisterFromElection(voterId, this.electionId!);
      this.succeeded(done);
    } catch (error) {
      this.refused(new Map([['', fieldErrorOf(error).message]]), false);
    }
  }
}

customElements.define('ednet-voter-registration', EdnetVoterRegistration);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-voter-registration': EdnetVoterRegistration;
  }
}
