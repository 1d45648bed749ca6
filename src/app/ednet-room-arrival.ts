import { LitElement, css, html } from 'lit';
import type { NodeStatus } from '../node/node-events.js';
import { baseStyles, cardStyles } from '../ui/shared/theme.js';
import { type Timers, globalTimers } from '../util/index.js';

/** How long the server must have found nobody before the page says nobody is online. */
export const NOBODY_ONLINE_AFTER_MS = 20_000;

/**
 * What a device sees in a room it has never held, until a first peer connects: that it is looking
 * for the room's other devices, then (once the server has been reached and a while has passed with
 * nobody) that nobody is online. Only another member's device can send the room, and meeting one
 * is also what shows the link's key to be the room's: a link with a wrong key meets nobody, so the
 * page says that too, instead of showing an empty room that invites the user to start creating.
 */
export class EDNetRoomArrival extends LitElement {
  static override properties = { status: { attribute: false }, nobody: { state: true } };
  static override styles = [
    baseStyles,
    cardStyles,
    css`
      :host {
        display: block;
        padding: var(--ed-gap, 12px);
        max-width: 720px;
      }
      h2 {
        margin-top: 0;
      }
    `,
  ];

  declare status: NodeStatus | undefined;
  declare nobody: boolean;
  /** Replaced by tests before the element is connected. */
  /** The timers the page waits with; tests give their own to decide when "a while" has passed. */
  clock: Timers = globalTimers;
  #timer: unknown;

  constructor() {
    super();
    this.nobody = false;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopTimer();
  }

  protected override willUpdate(): void {
    // "A while" counts from the moment the server could be asked, and starts over if it is lost.
    const asking = this.status?.signaling === 'connected' && this.status.online && this.status.peers.length === 0;
    if (!asking) {
      this.#stopTimer();
      this.nobody = false;
    } else if (this.#timer === undefined && !this.nobody) {
      this.#timer = this.clock.setTimeout(() => {
        this.#timer = undefined;
        this.nobody = true;
      }, NOBODY_ONLINE_AFTER_MS);
    }
  }

  override render() {
    return html`<section class="card" role="status" aria-live="polite" aria-labelledby="arrival-heading">
      ${this.nobody
        ? html`<h2 id="arrival-heading">Nobody from this room is online.</h2>
            <p>The room appears when one of them opens it. Keep this page open, or come back later: this link stays in Your rooms.</p>
            <p class="hint">
              If someone from the room has it open and it still does not appear, this link may be mistyped or outdated: ask them for a new
              one.
            </p>`
        : html`<h2 id="arrival-heading">Looking for the other devices of this room…</h2>
            <p>This device does not hold this room yet. Another member’s device sends it, and shows on the way that this link’s key is the room’s.</p>`}
    </section>`;
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

customElements.define('ednet-room-arrival', EDNetRoomArrival);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-room-arrival': EDNetRoomArrival;
  }
}
