import { LitElement, html } from 'lit';
import { baseStyles, controlStyles } from '../ui/shared/theme.js';
import { dialogStyles } from './dialog-styles.js';
import './ednet-share-panel.js';

/**
 * The invitation sheet: the room link, copy, the system share sheet and the QR code, as a modal
 * dialog. Opens right after a room is created and from the header's "Invite" button; Escape or
 * "Done" closes it (`share-dialog-close`).
 */
export class EDNetShareDialog extends LitElement {
  static override properties = { open: { type: Boolean, reflect: true }, link: {}, roomName: { attribute: 'room-name' } };
  static override styles = [baseStyles, controlStyles, dialogStyles];

  declare open: boolean;
  declare link: string;
  declare roomName: string;

  constructor() {
    super();
    this.open = false;
    this.link = '';
    this.roomName = '';
  }

  override render() {
    return html`<dialog aria-label=${this.roomName ? `Invite people to ${this.roomName}` : 'Invite people'} @close=${this.#onClose}>
      <ednet-share-panel compact .link=${this.link} room-name=${this.roomName}></ednet-share-panel>
      <div class="actions">
        <button type="button" @click=${() => this.renderRoot.querySelector('dialog')?.close()}>Done</button>
      </div>
    </dialog>`;
  }

  protected override updated(): void {
    const dialog = this.renderRoot.querySelector('dialog');
    if (!dialog) return;
    if (this.open && !dialog.open) dialog.showModal();
    else if (!this.open && dialog.open) dialog.close();
  }

  #onClose(): void {
    this.open = false;
    this.dispatchEvent(new CustomEvent('share-dialog-close', { bubbles: true, composed: true }));
  }
}

customElements.define('ednet-share-dialog', EDNetShareDialog);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-share-dialog': EDNetShareDialog;
  }
  interface HTMLElementEventMap {
    'share-dialog-close': CustomEvent<void>;
  }
}
