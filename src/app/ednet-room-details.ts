import { LitElement, css, html, nothing } from 'lit';
import {
  type ElectoralSystemModel,
  MAX_ROOM_DESCRIPTION_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  canNameRoom,
  memberNames,
  roomCreatorOf,
  roomInfoOf,
  setRoomInfo,
} from '../models/electoral/index.js';
import { ModelController } from '../ui/shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles } from '../ui/shared/theme.js';

/**
 * The room's shared name and description: its creator edits them (an ordinary synced edit),
 * everyone else reads them. A room made before names were shared says so.
 */
export class EDNetRoomDetails extends LitElement {
  static override properties = { model: { attribute: false }, roomId: { attribute: 'room-id' }, localName: { attribute: 'local-name' }, message: { state: true } };
  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      .description {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
    `,
  ];

  declare model: ElectoralSystemModel | undefined;
  declare roomId: string;
  /** The name this device gave the room (rooms without a shared name). */
  declare localName: string;
  declare message: { readonly ok: boolean; readonly text: string } | null;

  constructor() {
    super();
    this.roomId = '';
    this.localName = '';
    this.message = null;
    new ModelController(this, () => this.model);
  }

  override render() {
    const model = this.model;
    if (!model) return nothing;
    const info = roomInfoOf(model, this.roomId);
    const creator = roomCreatorOf(this.roomId);
    if (!canNameRoom(model, this.roomId)) {
      const by = creator ? (memberNames(model).get(creator) ?? 'the person who created it') : undefined;
      return html`<section class="card" aria-labelledby="room-heading">
        <h2 id="room-heading">${info?.name || this.localName || 'This room'}</h2>
        ${info?.description ? html`<p class="description">${info.description}</p>` : nothing}
        <p class="hint">
          ${creator
            ? `Named by ${by}; only they can rename it.`
            : 'This room was made before rooms had shared names: its name is kept on this device only.'}
        </p>
      </section>`;
    }
    return html`<section class="card" aria-labelledby="room-heading">
      <h2 id="room-heading">About this room</h2>
      <form @submit=${this.#save}>
        <div class="field">
          <label for="room-name">Room name</label>
          <input id="room-name" name="name" required maxlength=${MAX_ROOM_NAME_LENGTH} .value=${info?.name ?? this.localName} />
          <span class="hint">Everyone in the room sees it. Only you, its creator, can change it.</span>
        </div>
        <div class="field">
          <label for="room-description">Description (optional)</label>
          <textarea id="room-description" name="description" maxlength=${MAX_ROOM_DESCRIPTION_LENGTH} .value=${info?.description ?? ''}></textarea>
        </div>
        <div class="actions">
          <button type="submit">Save</button>
          <span role="status" class=${this.message?.ok === false ? 'error' : 'hint'}>${this.message?.text ?? ''}</span>
        </div>
      </form>
    </section>`;
  }

  #save(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    try {
      setRoomInfo(this.model!, this.roomId, { name: String(data.get('name') ?? ''), description: String(data.get('description') ?? '') });
      this.message = { ok: true, text: 'Saved.' };
    } catch (error) {
      this.message = { ok: false, text: error instanceof Error ? error.message : String(error) };
    }
  }
}

customElements.define('ednet-room-details', EDNetRoomDetails);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-room-details': EDNetRoomDetails;
  }
}
