import { type TemplateResult, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { deviceOf } from '../../domain/index.js';
import { memberNames } from '../../models/electoral/index.js';
import { fieldErrorOf } from '../shared/error-message.js';
import { type SelectOption, formValue, inputField, selectField } from '../shared/form-field.js';
import { ElectionFormPart } from './election-form-part.js';
import { shortDevice } from './election-part.js';

/**
 * An election's co-organisers, where election roles are enforced: who they are, for everyone; for
 * the organiser, adding one (a person of the room, connected or not, or any device by its id) and removing one. Others
 * see their own device id, to give to the organiser.
 */
export class EdnetCoOrganisers extends ElectionFormPart {
  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election || !this.rolesEnforced()) return html``;
    const owning = this.owning();
    const coOrganisers = model.coOrganisersOf(election.oid);
    const mine = model.deviceId !== undefined && coOrganisers.includes(model.deviceId);
    return html`<section class="card" aria-labelledby="co-organisers-heading">
      <h3 id="co-organisers-heading">Co-organisers <span class="muted">(${coOrganisers.length})</span></h3>
      <p class="muted">Co-organisers approve voters, add candidates and open and close voting. Only the organiser changes the title, description and dates.</p>
      ${coOrganisers.length
        ? html`<ul class="plain">
            ${repeat(
              coOrganisers,
              (device) => device,
              (device) => html`<li class="head">
                <span class="wrap">${this.deviceName(device)}</span>
                ${owning
                  ? html`<button type="button" class="danger" @click=${() => this.#remove(device)}>
                      Remove<span class="visually-hidden"> ${this.deviceName(device)}</span>
                    </button>`
                  : nothing}
              </li>`,
            )}
          </ul>`
        : html`<p class="muted">No co-organisers.</p>`}
      ${this.errors.get('list') ? html`<p class="error" role="alert">${this.errors.get('list')}</p>` : nothing}
      ${owning ? this.#form(election.oid, coOrganisers) : nothing}
      ${!owning && !mine && model.deviceId
        ? html`<p class="muted">To help organise, give the organiser this device's id: <code class="wrap">${model.deviceId}</code></p>`
        : nothing}
      <p class="muted" role="status">${this.message}</p>
    </section>`;
  }

  #form(electionId: string, current: readonly string[]): TemplateResult {
    const model = this.model!;
    const organiser = model.organiserOf(electionId);
    // The people of the room by the names they share (also while they are away), then connected
    // devices that gave none; the id only where two would read the same.
    const members = memberNames(model);
    const candidates = new Map<string, string>();
    for (const [device, name] of members) candidates.set(device, name);
    for (const peer of this.peers) {
      const device = deviceOf(peer.peerId);
      if (device !== undefined && !candidates.has(device)) candidates.set(device, peer.displayName || '');
    }
    const others = [...candidates.keys()].some((device) => device !== model.deviceId);
    const seen = new Set<string>([...current, organiser ?? '', model.deviceId ?? '']);
    const open = [...candidates].filter(([device]) => !seen.has(device));
    const count = new Map<string, number>();
    for (const [, name] of open) count.set(name, (count.get(name) ?? 0) + 1);
    const connected = new Set(this.peers.map((peer) => deviceOf(peer.peerId)));
    const choices: SelectOption[] = open
      .map(([device, name]) => ({
        value: device,
        label: `${name || 'Unnamed device'}${!name || count.get(name)! > 1 ? ` (device ${shortDevice(device)})` : ''}${connected.has(device) ? '' : ' · not connected now'}`,
      }))
      .sort((a, b) => a.label.localeCompare(b.label));
    return html`<form novalidate @submit=${this.#add}>
      <h4>Add a co-organiser</h4>
      ${choices.length
        ? selectField({ id: 'co-organiser-peer', name: 'peer', label: 'A person in this room', choices, placeholder: 'Choose a person', error: this.errors.get('peer') })
        : html`<p class="muted">${others ? 'Everyone else in this room co-organises already.' : 'Nobody else has joined this room yet.'}</p>`}
      ${inputField({
        id: 'co-organiser-device',
        name: 'device',
        label: choices.length ? 'Or a device id' : 'Device id',
        hint: 'The 32 characters the other device shows here.',
        error: this.errors.get('device'),
        maxLength: 32,
      })}
      ${this.errors.get('') ? html`<p class="error" role="alert">${this.errors.get('')}</p>` : nothing}
      <button type="submit">Add co-organiser</button>
    </form>`;
  }

  #add(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const typed = formValue(form, 'device').trim();
    const device = typed || formValue(form, 'peer');
    if (!device) {
      this.refused(new Map([[formValue(form, 'peer') === '' && form.elements.namedItem('peer') ? 'peer' : 'device', 'Choose a person or enter their device id.']]));
      return;
    }
    try {
      this.model!.addCoOrganiser(this.electionId!, device);
      form.reset();
      this.succeeded(`${this.deviceName(device)} is now a co-organiser.`);
    } catch (error) {
      const { field, message } = fieldErrorOf(error);
      this.refused(new Map([[field === 'device' ? (typed ? 'device' : 'peer') : '', message]]));
    }
  }

  #remove(device: string): void {
    try {
      this.model!.removeCoOrganiser(this.electionId!, device);
      this.succeeded(`${this.deviceName(device)} is no longer a co-organiser.`);
    } catch (error) {
      this.refused(new Map([['list', fieldErrorOf(error).message]]), false);
    }
  }
}

customElements.define('ednet-co-organisers', EdnetCoOrganisers);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-co-organisers': EdnetCoOrganisers;
  }
}
