import { LitElement, css, html } from 'lit';
import { baseStyles, cardStyles, controlStyles } from '../ui/shared/theme.js';
import { copyText, type CopyEnvironment } from './copy-text.js';
import { lazyModule } from './lazy-module.js';

/**
 * The QR code's element and its encoder load when a panel is first on screen, not with the room
 * (the invitation sheet holds a panel from the start, closed): it upgrades in place.
 */
export const loadQrCode = lazyModule('The QR code', () => import('./ednet-qr-code.js'));

/** The part of `navigator` the share button uses. */
export interface ShareTarget {
  share(data: { title?: string; text?: string; url?: string }): Promise<void>;
}

/**
 * Shares a room link: the link itself (read-only field), a copy button, the system share sheet
 * where the browser has one, and a QR code. The link holds the room key, so the panel says so.
 */
export class EDNetSharePanel extends LitElement {
  #seen: IntersectionObserver | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    const load = (): void => {
      this.#seen?.disconnect();
      // If it cannot load, the panel shows no code; the link, copy and share still work.
      loadQrCode().catch((error: unknown) => console.warn(error));
    };
    if (typeof IntersectionObserver === 'undefined') return load();
    this.#seen = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) load();
    });
    this.#seen.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#seen?.disconnect();
  }

  static override properties = {
    link: {},
    roomName: { attribute: 'room-name' },
    compact: { type: Boolean },
    message: { state: true },
    confirmingRotation: { state: true },
  };
  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      .layout {
        display: grid;
        gap: var(--ed-gap, 12px);
        grid-template-columns: minmax(0, 1fr) auto;
        align-items: start;
      }
      @media (max-width: 560px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      input {
        font-family: ui-monospace, monospace;
        font-size: 0.875rem;
      }
      figure {
        margin: 0;
        justify-self: center;
      }
      .rotation {
        margin-top: var(--ed-gap, 12px);
      }
      figcaption {
        text-align: center;
        font-size: 0.875rem;
        color: var(--ed-muted, #545d68);
      }
    `,
  ];

  declare link: string;
  declare roomName: string;
  /** Only the invitation (the share sheet): no key replacement. */
  declare compact: boolean;
  declare message: { readonly text: string; readonly ok: boolean } | null;
  declare confirmingRotation: boolean;
  /** Overridden by tests; defaults to the browser's. */
  copyEnvironment: CopyEnvironment | undefined;
  shareTarget: ShareTarget | null | undefined;

  constructor() {
    super();
    this.link = '';
    this.roomName = '';
    this.message = null;
    this.confirmingRotation = false;
    this.compact = false;
  }

  override render() {
    const share = this.#shareTarget();
    return html`
      <section class="card" aria-labelledby="share-heading">
        <h2 id="share-heading">${this.compact && this.roomName ? `Invite people to ${this.roomName}` : 'Invite people'}</h2>
        <div class="layout">
          <div>
            <div class="field">
              <label for="link">Room link</label>
              <input id="link" type="text" readonly .value=${this.link} @focus=${(event: Event) => (event.target as HTMLInputElement).select()} />
              <span class="hint">Anyone with this link can join the room and edit it. It holds the room key after “#”, which is never sent to a server.</span>
            </div>
            <div class="actions">
              <button type="button" @click=${this.#copy}>Copy link</button>
              ${share ? html`<button type="button" class="secondary" @click=${this.#share}>Share…</button>` : null}
            </div>
            <p role="status" class=${this.message?.ok === false ? 'error' : 'hint'}>${this.message?.text ?? ''}</p>
          </div>
          <figure>
            <ednet-qr-code .text=${this.link} label="QR code of the room link"></ednet-qr-code>
            <figcaption>Scan to join</figcaption>
          </figure>
        </div>
      </section>
      ${this.compact ? null : this.#rotation()}
    `;
  }

  #rotation() {
    return html`
      <section class="card rotation" aria-labelledby="rotate-heading">
        <h2 id="rotate-heading">Replace the room key</h2>
        <p class="hint">
          If the link reached someone it should not have, make a new one. The room and its data stay; devices that have
          only the old link can no longer join, and members must get the new link from you.
        </p>
        ${this.confirmingRotation
          ? html`<div class="actions" role="group" aria-label="Confirm replacing the room key" @keydown=${this.#onConfirmKey}>
              <button type="button" class="danger" @click=${this.#rotate}>Replace the key now</button>
              <button type="button" class="secondary" @click=${() => (this.confirmingRotation = false)}>Cancel</button>
            </div>`
          : html`<div class="actions">
              <button type="button" class="secondary" @click=${() => (this.confirmingRotation = true)}>Make a new link…</button>
            </div>`}
      </section>
    `;
  }

  // Escape backs out of the confirmation, as it closes every disclosure.
  #onConfirmKey(event: KeyboardEvent): void {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    this.confirmingRotation = false;
  }

  #rotate(): void {
    this.confirmingRotation = false;
    this.dispatchEvent(new CustomEvent('rotate-room-key', { bubbles: true, composed: true }));
  }

  async #copy(): Promise<void> {
    const field = this.renderRoot.querySelector<HTMLInputElement>('#link');
    const outcome = await copyText(this.link, field, this.copyEnvironment);
    this.message =
      outcome === 'failed'
        ? { ok: false, text: 'Could not copy automatically: the link is selected, copy it with Ctrl+C (⌘C).' }
        : { ok: true, text: 'Link copied.' };
  }

  async #share(): Promise<void> {
    try {
      await this.#shareTarget()?.share({ title: this.roomName ? `EDNet room: ${this.roomName}` : 'EDNet room', url: this.link });
      this.message = null;
    } catch (error) {
      // Closing the share sheet rejects with AbortError; that is a choice, not a failure.
      if ((error as { name?: string }).name !== 'AbortError') this.message = { ok: false, text: 'Sharing failed; copy the link instead.' };
    }
  }

  #shareTarget(): ShareTarget | null {
    if (this.shareTarget !== undefined) return this.shareTarget;
    return typeof navigator.share === 'function' ? (navigator as ShareTarget) : null;
  }
}

customElements.define('ednet-share-panel', EDNetSharePanel);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-share-panel': EDNetSharePanel;
  }
  interface HTMLElementEventMap {
    /** The user asked for a new room key (and so a new link) for the open room. */
    'rotate-room-key': CustomEvent<void>;
  }
}
