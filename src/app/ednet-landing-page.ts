import { LitElement, css, html } from 'lit';
import { baseStyles, cardStyles, controlStyles } from '../ui/shared/theme.js';
import type { RecentRoom } from './recent-rooms.js';
import { parsePastedRoomLink } from './room-link.js';
import type { RoomRef } from './room-session.js';

/** `create-room`: the user asked for a new room, optionally named. */
export type CreateRoomEvent = CustomEvent<{ readonly name: string }>;
/** `open-room`: the user picked a recent room or pasted a valid link. */
export type OpenRoomEvent = CustomEvent<{ readonly room: RoomRef }>;
/** `forget-room`: the user removed a room from the recent list. */
export type ForgetRoomEvent = CustomEvent<{ readonly roomId: string }>;

const lastOpenedFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * The start page: create a room, reopen one this device knows, or join one by its link. It only
 * asks; `ednet-app` opens rooms. Pasted links are parsed here so a bad one is explained next to
 * the field and nothing else happens.
 */
export class EDNetLandingPage extends LitElement {
  static override properties = {
    recent: { attribute: false },
    busy: { type: Boolean },
    joinError: { state: true },
    confirmingForget: { state: true },
  };
  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      .grid {
        display: grid;
        gap: var(--ed-gap, 12px);
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 320px), 1fr));
        align-items: start;
      }
      .grid > .card {
        margin: 0;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: calc(var(--ed-gap, 12px) / 2);
        align-items: center;
        justify-content: space-between;
        padding: calc(var(--ed-gap, 12px) / 2) 0;
        border-top: 1px solid var(--ed-border, #7d8692);
      }
      li:first-child {
        border-top: none;
      }
      .room {
        min-width: 0;
        flex: 1 1 12em;
      }
      .room strong {
        display: block;
      }
      form .actions {
        margin-top: calc(var(--ed-gap, 12px) / 2);
      }
    `,
  ];

  declare recent: readonly RecentRoom[];
  declare busy: boolean;
  declare joinError: string | null;
  /** The recent room whose "Forget" waits for confirmation. */
  declare confirmingForget: string | null;

  constructor() {
    super();
    this.recent = [];
    this.busy = false;
    this.joinError = null;
    this.confirmingForget = null;
  }

  override render() {
    return html`
      <div class="grid">
        <section class="card" aria-labelledby="create-heading">
          <h2 id="create-heading">Start a room</h2>
          <p class="muted">A room holds elections, candidates, voters and ballots. It lives on the devices that join it, not on a server.</p>
          <form @submit=${this.#create}>
            <div class="field">
              <label for="room-name">Room name <span class="muted">(optional; everyone in the room sees it)</span></label>
              <input id="room-name" name="name" maxlength="80" autocomplete="off" placeholder="e.g. Club board election" />
            </div>
            <div class="actions"><button type="submit" ?disabled=${this.busy}>Create room</button></div>
          </form>
        </section>
        <section class="card" aria-labelledby="join-heading">
          <h2 id="join-heading">Join a room</h2>
          <form @submit=${this.#join} novalidate>
            <div class="field">
              <label for="room-link">Room link</label>
              <input
                id="room-link"
                name="link"
                autocomplete="off"
                spellcheck="false"
                placeholder="https://…/#/room/…?k=…"
                aria-invalid=${this.joinError ? 'true' : 'false'}
                aria-describedby="room-link-error"
                @input=${() => (this.joinError = null)}
              />
              <span id="room-link-error" class="field-error" role="alert">${this.joinError ?? ''}</span>
            </div>
            <div class="actions"><button type="submit" ?disabled=${this.busy}>Join</button></div>
          </form>
        </section>
        <section class="card" aria-labelledby="recent-heading">
          <h2 id="recent-heading" tabindex="-1">Your rooms</h2>
          ${this.recent.length === 0
            ? html`<p class="muted">Rooms you open on this device appear here.</p>`
            : html`<ul>
                ${this.recent.map(
                  (room) => html`<li>
                    <span class="room wrap">
                      <strong>${room.name}</strong>
                      <span class="hint">Last opened ${lastOpenedFormat.format(room.lastOpened)}${room.workOffline ? ' · working offline' : ''}</span>
                    </span>
                    ${this.confirmingForget === room.roomId
                      ? html`<span class="actions" role="group" aria-label=${`Forget ${room.name}?`} @keydown=${this.#onConfirmKey}>
                          <span class="hint">Forget it? Its link is kept only in this list (the data stays in this browser).</span>
                          <button type="button" class="danger" @click=${() => this.#forget(room.roomId)}>Forget</button>
                          <button type="button" class="secondary" @click=${() => (this.confirmingForget = null)}>Keep</button>
                        </span>`
                      : html`<span class="actions">
                          <button type="button" ?disabled=${this.busy} aria-label=${`Open ${room.name}`} @click=${() => this.#emit('open-room', { room: { roomId: room.roomId, secret: room.secret } })}>Open</button>
                          <button type="button" class="secondary" aria-label=${`Forget ${room.name}`} @click=${() => this.#askForget(room.roomId)}>Forget…</button>
                        </span>`}
                  </li>`,
                )}
              </ul>
              <p class="hint">Forgetting a room only removes it from this list; its data stays in this browser.</p>`}
        </section>
      </div>
    `;
  }

  #create(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    this.#emit('create-room', { name: String(new FormData(form).get('name') ?? '') });
    form.reset();
  }

  #join(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const parsed = parsePastedRoomLink(String(new FormData(form).get('link') ?? ''));
    if (!parsed.ok) {
      this.joinError = parsed.error;
      return;
    }
    this.joinError = null;
    form.reset();
    this.#emit('open-room', { room: parsed.room });
  }

  // The installed app's shortcuts ("New room", "Recent rooms") open the page at their section.
  protected override firstUpdated(): void {
    const params = new URLSearchParams(location.search);
    const shortcut = params.get('shortcut');
    if (!shortcut) return;
    const target = this.renderRoot.querySelector<HTMLElement>(shortcut === 'new-room' ? '#room-name' : shortcut === 'recent-rooms' ? '#recent-heading' : 'none');
    target?.focus();
    target?.scrollIntoView({ block: 'start' });
    params.delete('shortcut');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  }

  #askForget(roomId: string): void {
    this.confirmingForget = roomId;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('button.danger')?.focus());
  }

  #forget(roomId: string): void {
    this.confirmingForget = null;
    this.#emit('forget-room', { roomId });
  }

  // Escape backs out of the confirmation.
  #onConfirmKey(event: KeyboardEvent): void {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    const roomId = this.confirmingForget;
    this.confirmingForget = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`button[aria-label="Forget ${CSS.escape(this.recent.find((room) => room.roomId === roomId)?.name ?? '')}"]`)?.focus());
  }

  #emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

customElements.define('ednet-landing-page', EDNetLandingPage);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-landing-page': EDNetLandingPage;
  }
}
