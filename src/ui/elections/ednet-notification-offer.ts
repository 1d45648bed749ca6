import { LitElement, type TemplateResult, html, nothing } from 'lit';
import { baseStyles, controlStyles } from '../shared/theme.js';

/**
 * Offers system notifications for what waits for this device (voters waiting, voting opened,
 * results in), shown only while the browser can still ask. The browser's prompt comes only from
 * this button, never on load.
 */
export class EdnetNotificationOffer extends LitElement {
  static override properties = { permission: { state: true } };
  static override styles = [baseStyles, controlStyles];

  private declare permission: NotificationPermission | 'unsupported';

  constructor() {
    super();
    this.permission = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  }

  override render(): TemplateResult | typeof nothing {
    if (this.permission === 'unsupported' || this.permission === 'granted') return nothing;
    if (this.permission === 'denied') return html`<p class="muted">Notifications are blocked for this site; the Elections tab still shows what waits for you.</p>`;
    return html`<button type="button" class="secondary" @click=${this.#ask}>Notify me when an election needs me</button>`;
  }

  async #ask(): Promise<void> {
    this.permission = await Notification.requestPermission();
  }
}

customElements.define('ednet-notification-offer', EdnetNotificationOffer);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-notification-offer': EdnetNotificationOffer;
  }
}
