import { LitElement, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { NodeStatus, PeerInfo, RoomStatus } from '../node/node-events.js';
import { shortId, plural } from './shared/format.js';
import { baseStyles, controlStyles } from './shared/theme.js';

/** Longest display name the field accepts (peers see it next to every change they receive). */
export const MAX_DISPLAY_NAME_LENGTH = 64;

/** Detail of `work-offline-change`. */
export interface WorkOfflineChangeDetail {
  readonly offline: boolean;
}

/** Detail of `display-name-change`. */
export interface DisplayNameChangeDetail {
  readonly name: string;
}

const SIGNALING_TEXT: Record<NodeStatus['signaling'], string> = {
  off: 'Signaling off',
  connecting: 'Connecting to signaling…',
  connected: 'Signaling connected',
  disconnected: 'Signaling disconnected',
};

const PERSISTENCE_TEXT: Record<NodeStatus['persistence'], string> = {
  granted: 'Storage is persistent',
  denied: 'Storage may be cleared by the browser',
  unsupported: 'Persistent storage not offered by this browser',
  unknown: 'Persistent storage not yet requested',
};

/**
 * The always-visible status of this device: connectivity, signaling, peers, unsent and unsaved
 * changes, a large room being received, storage. Holds the "work offline" switch and the display
 * name field, which report intent as `work-offline-change` and `display-name-change` events; the
 * app applies them and passes the next `status` down. On narrow screens only the essentials show,
 * the rest behind a "Details" button.
 */
export class EdnetStatusBar extends LitElement {
  static override properties = {
    status: { attribute: false },
    workOffline: { type: Boolean, attribute: 'work-offline', reflect: true },
    expanded: { state: true },
  };

  /** The node's status; until it is set the bar says it is starting. */
  declare status: NodeStatus | undefined;
  /** Whether the user chose to work offline (the switch; it also updates itself when toggled). */
  declare workOffline: boolean;
  private declare expanded: boolean;
  #sentName: string | undefined;

  constructor() {
    super();
    this.workOffline = false;
    this.expanded = false;
  }

  static override styles = [
    baseStyles,
    controlStyles,
    css`
      :host {
        display: block;
        container-type: inline-size;
        background: var(--ed-surface, #ffffff);
        border-bottom: 1px solid var(--ed-border, #7d8692);
        font-size: 0.925rem;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px 16px;
        padding: 6px var(--ed-gap, 12px);
      }
      .item {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        min-width: 0;
      }
      .dot {
        width: 10px;
        height: 10px;
        border-radius: 50%;
        flex: none;
        border: 2px solid currentColor;
      }
      .ok .dot {
        background: var(--ed-ok, #1d6b33);
        border-color: var(--ed-ok, #1d6b33);
      }
      .warn .dot {
        background: transparent;
        border-color: var(--ed-warn, #8a4b00);
      }
      .bad .dot {
        background: var(--ed-danger, #b3261e);
        border-color: var(--ed-danger, #b3261e);
      }
      .details {
        display: contents;
      }
      details.peers > summary {
        cursor: pointer;
        min-height: 32px;
        display: inline-flex;
        align-items: center;
        gap: 0.4em;
        color: var(--ed-accent, #1a56c4);
      }
      /* A flex summary loses its disclosure triangle: draw one. */
      details.peers > summary::before {
        content: '';
        border: 0.35em solid transparent;
        border-left: 0.5em solid currentColor;
        border-right: 0;
      }
      details.peers[open] > summary::before {
        transform: rotate(90deg);
      }
      .item label {
        display: inline;
        margin: 0;
        font-weight: 400;
      }
      details.peers ul {
        margin: 4px 0 0;
        padding: 0;
        list-style: none;
      }
      details.peers li {
        padding: 2px 0;
      }
      progress {
        width: 8em;
        height: 0.9em;
        accent-color: var(--ed-accent, #1a56c4);
      }
      .switch {
        display: inline-flex;
        align-items: center;
        gap: 0.5em;
        font-weight: 400;
        margin: 0;
        min-height: 32px;
        cursor: pointer;
      }
      .switch input {
        appearance: none;
        width: 2.5em;
        height: 1.4em;
        border-radius: 999px;
        border: 2px solid var(--ed-border, #7d8692);
        background: var(--ed-bg, #f4f5f7);
        position: relative;
        margin: 0;
        cursor: pointer;
      }
      .switch input::after {
        content: '';
        position: absolute;
        top: 1px;
        left: 1px;
        width: calc(1.4em - 6px);
        height: calc(1.4em - 6px);
        border-radius: 50%;
        background: var(--ed-muted, #545d68);
        transition: transform 0.15s;
      }
      .switch input:checked {
        background: var(--ed-accent, #1a56c4);
        border-color: var(--ed-accent, #1a56c4);
      }
      .switch input:checked::after {
        transform: translateX(1.1em);
        background: var(--ed-accent-text, #ffffff);
      }
      form.name {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        margin: 0;
      }
      form.name label {
        margin: 0;
        font-weight: 400;
        white-space: nowrap;
      }
      form.name input#display-name {
        width: 11em;
        min-height: 36px;
        padding: 0.15em 0.5em;
      }
      .toggle {
        display: none;
        min-height: 32px;
        padding: 0.1em 0.8em;
        margin-left: auto;
      }
      .storage-error,
      .storage-problems,
      .room-key-problem,
      .connection-problem {
        flex-basis: 100%;
        margin: 0;
      }
      @media (prefers-reduced-motion: reduce) {
        .switch input::after {
          transition: none;
        }
      }
      /* Phones: the essentials in one line, the rest behind the toggle. */
      @container (max-width: 640px) {
        .toggle {
          display: inline-flex;
          align-items: center;
        }
        .details {
          display: none;
        }
        .details.expanded {
          display: flex;
          flex-direction: column;
          align-items: flex-start;
          gap: 8px;
          flex-basis: 100%;
          padding: 6px 0 4px;
          order: 2;
        }
        form.name input#display-name {
          width: 100%;
          min-height: 44px;
        }
        .receiving {
          order: 1;
          flex-basis: 100%;
          flex-wrap: wrap;
        }
        .receiving progress {
          flex: 1 1 6em;
        }
        .storage-error,
        .storage-problems,
        .room-key-problem,
        .connection-problem {
          order: 3;
        }
        form.name {
          display: flex;
          width: 100%;
        }
      }
    `,
  ];

  override render(): TemplateResult {
    const status = this.status;
    if (!status)
      return html`<div class="bar" role="group" aria-label="Connection status"><span class="item warn"><span class="dot" aria-hidden="true"></span>Starting…</span></div>`;
    return html`<div class="bar" role="group" aria-label="Connection status">
      ${this.#connectivity(status)} ${status.room && status.peers.length > 0 ? this.#roomSummary(status.room) : this.#peerSummary(status.peers)} ${this.#unsent(status.unsentChanges)} ${this.#receiving(status)}
      <button
        class="toggle secondary"
        type="button"
        aria-expanded=${this.expanded ? 'true' : 'false'}
        aria-controls="details"
        @click=${() => (this.expanded = !this.expanded)}
      >
        Details
      </button>
      <div id="details" class=${this.expanded ? 'details expanded' : 'details'}>
        <span class=${`item ${status.signaling === 'connected' ? 'ok' : status.signaling === 'connecting' ? 'warn' : 'bad'}`}
          ><span class="dot" aria-hidden="true"></span>${SIGNALING_TEXT[status.signaling]}</span
        >
        ${this.#peerList(status.peers)}
        <span class=${`item ${status.unsavedChanges ? 'warn' : 'ok'}`}
          ><span class="dot" aria-hidden="true"></span>${status.unsavedChanges ? `${plural(status.unsavedChanges, 'unsaved change')}` : 'All changes saved'}</span
        >
        <span class=${`item ${status.persistence === 'granted' ? 'ok' : 'warn'}`}
          ><span class="dot" aria-hidden="true"></span>${PERSISTENCE_TEXT[status.persistence]}</span
        >
        <label class="switch">
          <input type="checkbox" role="switch" .checked=${this.workOffline} @change=${this.#onWorkOfflineChange} />
          Work offline
        </label>
        <form class="name" @submit=${this.#onNameSubmit}>
          <label for="display-name">Your name</label>
          <input
            id="display-name"
            name="name"
            autocomplete="nickname"
            maxlength=${MAX_DISPLAY_NAME_LENGTH}
            placeholder=${shortId(status.nodeId)}
            .value=${status.displayName ?? ''}
            @change=${this.#onNameChange}
          />
        </form>
      </div>
      ${status.storageError ? html`<p class="storage-error error" role="alert">Storage problem: ${status.storageError}</p>` : nothing}
      ${this.#storageProblems(status)}
      ${status.roomKeyProblem ? html`<p class="room-key-problem error" role="alert">${status.roomKeyProblem}</p>` : nothing}
      ${status.connectionProblem ? html`<p class="connection-problem error" role="status">${status.connectionProblem}</p>` : nothing}
    </div>`;
  }

  // Damaged stored records found when the room opened: what happened, where to read more.
  #storageProblems(status: NodeStatus): TemplateResult | typeof nothing {
    const count = status.storageProblems?.length ?? 0;
    if (!count) return nothing;
    return html`<p class="storage-problems warn" role="status">
      ${plural(count, 'damaged stored record')} set aside; the room opened without ${count === 1 ? 'it' : 'them'}, and peers send what was
      lost again. Details in the Audit tab.
    </p>`;
  }

  #connectivity(status: NodeStatus): TemplateResult {
    const text = status.online ? 'Online' : this.workOffline ? 'Working offline' : 'Offline';
    return html`<span class=${`item ${status.online ? 'ok' : 'bad'}`}><span class="dot" aria-hidden="true"></span>${text}</span>`;
  }

  /** The whole room, not only direct connections: "in sync with all 99 devices (7 connected)". */
  #roomSummary(room: RoomStatus): TemplateResult {
    const others = room.devices - 1;
    const ok = room.reached === room.devices && room.inSync === others;
    const text =
      room.reached < room.devices
        ? `reaching ${room.reached} of ${plural(room.devices, 'device')} (${room.connected} connected)`
        : ok
          ? `in sync with all ${plural(others, 'device')} (${room.connected} connected)`
          : `in sync with ${room.inSync} of ${plural(others, 'device')} (${room.connected} connected)`;
    return html`<span class=${`item ${ok ? 'ok' : 'warn'}`}><span class="dot" aria-hidden="true"></span>${text}</span>`;
  }

  #peerSummary(peers: readonly PeerInfo[]): TemplateResult {
    const syncing = peers.filter((peer) => !peer.inSync).length;
    const text = peers.length === 0 ? 'No peers' : syncing ? `${plural(peers.length, 'peer')}, ${syncing} syncing` : `${plural(peers.length, 'peer')}, in sync`;
    return html`<span class=${`item ${peers.length === 0 ? 'warn' : syncing ? 'warn' : 'ok'}`}><span class="dot" aria-hidden="true"></span>${text}</span>`;
  }

  #unsent(count: number): TemplateResult {
    return html`<span class=${`item ${count ? 'warn' : 'ok'}`}
      ><span class="dot" aria-hidden="true"></span>${count ? plural(count, 'unsent change') : 'All changes sent'}</span
    >`;
  }

  #receiving(status: NodeStatus): TemplateResult | typeof nothing {
    const receiving = status.receiving;
    if (!receiving) return nothing;
    const from = this.#peerName(status.peers, receiving.peerId);
    return html`<span class="item receiving">
      <label for="receiving">Receiving room from ${from}</label>
      <progress id="receiving" max=${receiving.parts} .value=${receiving.part}></progress>
      <span>${receiving.part} of ${receiving.parts}</span>
    </span>`;
  }

  #peerList(peers: readonly PeerInfo[]): TemplateResult | typeof nothing {
    if (!peers.length) return nothing;
    return html`<details class="peers">
      <summary>Peers (${peers.length})</summary>
      <ul>
        ${repeat(
          peers,
          (peer) => peer.peerId,
          (peer) =>
            html`<li class=${`item ${peer.inSync ? 'ok' : 'warn'}`}>
              <span class="dot" aria-hidden="true"></span>
              <span class="wrap">${peer.displayName || shortId(peer.peerId)}</span>
              <span class="muted">via ${peer.via}, ${peer.inSync ? 'in sync' : 'syncing'}</span>
              ${peer.refused > 0
                ? html`<span class="refused error">${plural(peer.refused, 'message')} refused${peer.lastRefusal ? html`, last: ${peer.lastRefusal}` : nothing}</span>`
                : nothing}
            </li>`,
        )}
      </ul>
    </details>`;
  }

  #peerName(peers: readonly PeerInfo[], peerId: string): string {
    const peer = peers.find((candidate) => candidate.peerId === peerId);
    return peer?.displayName || shortId(peerId);
  }

  #onWorkOfflineChange(event: Event): void {
    this.workOffline = (event.target as HTMLInputElement).checked;
    this.dispatchEvent(
      new CustomEvent<WorkOfflineChangeDetail>('work-offline-change', { detail: { offline: this.workOffline }, bubbles: true, composed: true }),
    );
  }

  #onNameSubmit(event: SubmitEvent): void {
    event.preventDefault();
    this.#sendName((event.target as HTMLFormElement).elements.namedItem('name') as HTMLInputElement);
  }

  #onNameChange(event: Event): void {
    this.#sendName(event.target as HTMLInputElement);
  }

  // Enter fires both submit and change: the name goes out once.
  #sendName(input: HTMLInputElement): void {
    const name = input.value.trim().slice(0, MAX_DISPLAY_NAME_LENGTH);
    if (name === this.#sentName || name === (this.status?.displayName ?? '')) return;
    this.#sentName = name;
    this.dispatchEvent(new CustomEvent<DisplayNameChangeDetail>('display-name-change', { detail: { name }, bubbles: true, composed: true }));
  }
}

customElements.define('ednet-status-bar', EdnetStatusBar);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-status-bar': EdnetStatusBar;
  }
  interface HTMLElementEventMap {
    'work-offline-change': CustomEvent<WorkOfflineChangeDetail>;
    'display-name-change': CustomEvent<DisplayNameChangeDetail>;
  }
}
