import { LitElement, html } from 'lit';
import { MAX_MEMBER_NAME_LENGTH } from '../models/electoral/room-schema.js';
import { baseStyles, controlStyles } from '../ui/shared/theme.js';
import { dialogStyles } from './dialog-styles.js';

/** Detail of `name-dialog-close`: the name given, or null when the question was skipped. */
export interface NameDialogCloseDetail {
  readonly name: string | null;
}

/**
 * Asks, once, what others in rooms should call this device's user. Skippable (a button, Escape);
 * the answer goes up as `name-dialog-close` and the app applies and remembers it.
 */
export class EDNetNameDialog extends LitElement {
  static override properties = { open: { type: Boolean, reflect: true } };
  static override styles = [baseStyles, controlStyles, dialogStyles];

  /** Whether the dialog shows (modal). */
  declare open: boolean;
  #answered = false;

  constructor() {
    super();
    this.open = false;
  }

  override render() {
    return html`<dialog aria-labelledby="name-title" aria-describedby="name-why" @close=${this.#onClose}>
      <form @submit=${this.#onSubmit}>
        <h2 id="name-title">What should others call you?</h2>
        <p id="name-why">People in this room see this name next to what you do, also when you are not connected. It is kept on this device for every room; you can change it later.</p>
        <div class="field">
          <label for="name">Your display name</label>
          <input id="name" name="name" autocomplete="nickname" maxlength=${MAX_MEMBER_NAME_LENGTH} required />
        </div>
        <div class="actions">
          <button type="submit">Save name</button>
          <button type="button" class="secondary" @click=${() => this.#finish(null)}>Skip</button>
        </div>
      </form>
    </dialog>`;
  }

  protected override updated(): void {
    const dialog = this.renderRoot.querySelector('dialog');
    if (!dialog) return;
    if (this.open && !dialog.open) {
      this.#answered = false;
      dialog.showModal();
    } else if (!this.open && dialog.open) dialog.close();
  }

  #onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#name')!;
    const name = input.value.replace(/\s+/g, ' ').trim();
    if (name) this.#finish(name);
  }

  // Escape closes a modal dialog by itself: a skip.
  #onClose(): void {
    if (!this.#answered) this.#finish(null);
  }

  #finish(name: string | null): void {
    if (this.#answered) return;
    this.#answered = true;
    this.open = false;
    this.dispatchEvent(new CustomEvent<NameDialogCloseDetail>('name-dialog-close', { detail: { name }, bubbles: true, composed: true }));
  }
}

customElements.define('ednet-name-dialog', EDNetNameDialog);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-name-dialog': EDNetNameDialog;
  }
  interface HTMLElementEventMap {
    'name-dialog-close': CustomEvent<NameDialogCloseDetail>;
  }
}
