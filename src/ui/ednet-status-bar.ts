import { LitElement, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { DomainModel } from '../domain/index.js';
import type { NodeStatus, PeerInfo } from '../node/node-events.js';
import { plural } from './shared/format.js';
import { idsInWords } from './shared/ids-in-words.js';
import { type StatusLine, peerName, statusWords } from './status-words.js';
import { baseStyles, controlStyles } from './shared/theme.js';

/** Longest display name the field accepts (peers see it next to every change they receive). */
export const MAX_DISPLAY_NAME_LENGTH = 64;

/** The bar's width (CSS px) up to which each line shows its short words: a phone's, beside "Details". */
const NARROW_PX = 480;

/** Detail of `work-offline-change`. */
export interface WorkOfflineChangeDetail {
  readonly offline: boolean;
}

/** Detail of `display-name-change`. */
export interface DisplayNameChangeDetail {
  readonly name: string;
}

const SERVER_TEXT: Record<NodeStatus['signaling'], string> = {
  off: 'not used (working offline, or none configured)',
  connecting: 'connecting…',
  connected: 'connected',
  disconnected: 'can’t be reached',
};

const PERSISTENCE_TEXT: Record<NodeStatus['persistence'], string> = {
  granted: 'kept: the browser will not clear it to free space',
  denied: 'may be cleared by the browser when space runs low (export the room now and then)',
  unsupported: 'this browser cannot promise to keep it (export the room now and then)',
  unknown: 'not yet asked to keep it',
};

/**
 * The always-visible status of this device in plain words, in two lines of fixed height (who this
 * device reaches; where the user's edits are), so changing words never move the page. The
 * technical detail (the server for finding others, each connection, storage, operation counts,
 * ids), the "work offline" switch and the display name sit behind "Details" (Escape closes it).
 * Intent goes up as `work-offline-change` and `display-name-change`; the app applies it and
 * passes the next `status` down.
 */
export class EdnetStatusBar extends LitElement {
  static override properties = {
    status: { attribute: false },
    workOffline: { type: Boolean, attribute: 'work-offline', reflect: true },
    unsentEdits: { attribute: false },
    names: { attribute: false },
    model: { attribute: false },
    expanded: { state: true },
    narrow: { state: true },
  };

  /** The node's status; until it is set the bar says it is starting. */
  declare status: NodeStatus | undefined;
  /** Whether the user chose to work offline (the switch; it also updates itself when toggled). */
  declare workOffline: boolean;
  /** The user's own edits no peer confirmed yet (entities changed); default the node's operation count. */
  declare unsentEdits: number | undefined;
  /** Names of the room's members by device id. */
  declare names: ReadonlyMap<string, string>;
  /** The room's model, to name the people and items a peer's refusal mentions by id. */
  declare model: DomainModel | undefined;
  private declare expanded: boolean;
  /** The bar is as narrow as a phone's: each line shows its short words (the whole ones are read out). */
  private declare narrow: boolean;
  #sentName: string | undefined;
  // Width decides the words, not only the layout, so it is followed here rather than in CSS alone.
  #width = new ResizeObserver((entries) => {
    const width = entries[0]?.contentRect.width ?? 0;
    const narrow = width > 0 && width <= NARROW_PX;
    if (narrow !== this.narrow) this.narrow = narrow;
  });

  constructor() {
    super();
    this.workOffline = false;
    this.expanded = false;
    this.narrow = false;
    this.names = new Map();
    this.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !this.expanded) return;
      event.stopPropagation();
      this.expanded = false;
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('button.toggle')?.focus());
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#width.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#width.disconnect();
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
        position: relative;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px 16px;
        padding: 6px var(--ed-gap, 12px);
      }
      .lines {
        flex: 1 1 0;
        min-width: 0;
        display: flex;
        gap: 4px 16px;
        margin: 0;
      }
      /* One line each, whatever the words: the bar's height never follows its text. */
      .line {
        display: flex;
        align-items: center;
        gap: 6px;
        min-width: 0;
        white-space: nowrap;
      }
      .line .text {
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .dot {
        width: 10px;
        height: 10px;
        border-radius: 50%;
        flex: none;
        border: 2px solid currentColor;
      }
      .ok > .dot {
        background: var(--ed-ok, #1d6b33);
        border-color: var(--ed-ok, #1d6b33);
      }
      .warn > .dot {
        background: transparent;
        border-color: var(--ed-warn, #8a4b00);
      }
      .bad > .dot {
        background: var(--ed-danger, #b3261e);
        border-color: var(--ed-danger, #b3261e);
      }
      .receiving {
        position: absolute;
        left: 0;
        right: 0;
        bottom: -1px;
        width: 100%;
        height: 3px;
        border: 0;
        accent-color: var(--ed-accent, #1a56c4);
      }
      .toggle {
        min-height: 32px;
        padding: 0.1em 0.8em;
        flex: none;
      }
      .switch {
        display: inline-flex;
        align-items: center;
        gap: 0.5em;
        font-weight: 400;
        margin: 0;
        min-height: 32px;
        cursor: pointer;
        flex: none;
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
        flex: none;
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
      /* Opened under a sticky bar, the details would otherwise cover a phone's screen and hide their own end. */
      .details {
        flex-basis: 100%;
        max-height: 60vh;
        overflow-y: auto;
        overscroll-behavior: contain;
        display: grid;
        gap: 8px 24px;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr));
        align-items: start;
        padding: 6px 0 4px;
      }
      .details[hidden] {
        display: none;
      }
      .details h2 {
        font-size: 0.95rem;
        margin: 0 0 4px;
      }
      .details p {
        margin: 0 0 4px;
      }
      dl {
        margin: 0;
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 2px 8px;
      }
      dt {
        font-weight: 600;
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      ul.peers {
        margin: 0;
        padding: 0;
        list-style: none;
      }
      ul.peers li {
        padding: 2px 0;
        overflow-wrap: anywhere;
      }
      form.name {
        display: flex;
        flex-direction: column;
        gap: 4px;
        margin: 0;
      }
      form.name label {
        margin: 0;
      }
      form.name input {
        min-height: 40px;
        padding: 0.15em 0.5em;
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
      /* Phones: the two lines stacked (always two, whatever they say); the switch behind Details. */
      @container (max-width: 640px) {
        .bar {
          column-gap: 8px;
        }
        .toggle {
          padding-inline: 0.6em;
        }
        .lines {
          flex-direction: column;
          gap: 0;
        }
        .bar > .switch {
          display: none;
        }
        .bar > .switch.expanded {
          display: inline-flex;
          order: 3;
          flex-basis: 100%;
        }
        .details {
          order: 4;
        }
        .storage-error,
        .storage-problems,
        .room-key-problem,
        .connection-problem {
          order: 5;
        }
      }
    `,
  ];

  override render(): TemplateResult {
    const status = this.status;
    if (!status)
      return html`<div class="bar" role="group" aria-label="Connection status">
        <p class="lines"><span class="line reach warn"><span class="dot" aria-hidden="true"></span><span class="text">Starting…</span></span></p>
      </div>`;
    const words = statusWords(status, { workOffline: this.workOffline, unsentEdits: this.unsentEdits, names: this.names });
    return html`<div class="bar" role="group" aria-label="Connection status">
      <p class="lines">
        ${this.#line('reach', words.reach)}<span class="visually-hidden"> · </span>${this.#line('saved', words.saved)}
      </p>
      ${status.receiving
        ? html`<progress class="receiving" aria-label="Receiving the room" max=${status.receiving.parts} .value=${status.receiving.part}></progress>`
        : nothing}
      <label class=${this.expanded ? 'switch expanded' : 'switch'}>
        <input type="checkbox" role="switch" aria-describedby="offline-hint" .checked=${this.workOffline} @change=${this.#onWorkOfflineChange} />
        Work offline
      </label>
      <button class="toggle secondary" type="button" aria-expanded=${this.expanded ? 'true' : 'false'} aria-controls="details" @click=${() => (this.expanded = !this.expanded)}>
        Details
      </button>
      <div id="details" class="details" role="region" aria-label="Status details" tabindex="0" ?hidden=${!this.expanded}>${this.#details(status)}</div>
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

  #line(kind: string, line: StatusLine): TemplateResult {
    const words =
      this.narrow && line.short
        ? html`<span class="text" aria-hidden="true">${line.short}</span><span class="visually-hidden">${line.text}</span>`
        : html`<span class="text">${line.text}</span>`;
    return html`<span class=${`line ${kind} ${line.tone}`} title=${line.text}><span class="dot" aria-hidden="true"></span>${words}</span>`;
  }

  #details(status: NodeStatus): TemplateResult {
    return html`
      <section aria-labelledby="device-heading">
        <h2 id="device-heading">This device</h2>
        <p id="offline-hint" class="hint">
          ${this.workOffline
            ? 'Working offline: every tab of this room on this device sends and receives nothing until you switch it off. Your edits are saved here.'
            : 'Work offline stops every tab of this room on this device from sending or receiving; your edits stay saved here.'}
        </p>
        <form class="name" @submit=${this.#onNameSubmit}>
          <label for="display-name">Your display name</label>
          <input
            id="display-name"
            name="name"
            autocomplete="nickname"
            maxlength=${MAX_DISPLAY_NAME_LENGTH}
            placeholder="How others see you"
            .value=${status.displayName ?? ''}
            @change=${this.#onNameChange}
          />
          <span class="hint">Shown to everyone in the room, also when you are not connected.</span>
        </form>
      </section>
      <section aria-labelledby="tech-heading">
        <h2 id="tech-heading">Technical details</h2>
        <dl>
          <dt>Server for finding others</dt>
          <dd>${SERVER_TEXT[status.signaling]}</dd>
          <dt>Network</dt>
          <dd>${status.online ? 'on' : this.workOffline ? 'off (working offline)' : 'the browser is offline'}</dd>
          <dt>Unconfirmed operations</dt>
          <dd>${plural(status.unsentChanges, 'change')} no peer has confirmed</dd>
          <dt>Not yet stored</dt>
          <dd>${plural(status.unsavedChanges, 'change')}</dd>
          <dt>Stored data</dt>
          <dd>${PERSISTENCE_TEXT[status.persistence]}</dd>
          <dt>This tab</dt>
          <dd>${status.nodeId}</dd>
        </dl>
      </section>
      <section aria-labelledby="connections-heading">
        <h2 id="connections-heading">Connections (${status.peers.length})</h2>
        ${status.peers.length ? this.#peerList(status.peers) : html`<p class="hint">None.</p>`}
      </section>
    `;
  }

  #peerList(peers: readonly PeerInfo[]): TemplateResult {
    return html`<ul class="peers">
      ${repeat(
        peers,
        (peer) => peer.peerId,
        (peer) =>
          html`<li class=${peer.inSync ? 'ok' : 'warn'}>
            <span>${peerName(peer, this.names)}</span>
            <span class="muted">— ${peer.peerId}, via ${peer.via}, ${peer.inSync ? 'up to date' : 'catching up'}</span>
            ${peer.refused > 0
              ? html`<span class="refused error">${plural(peer.refused, 'message')} refused${peer.lastRefusal ? html`, last: ${idsInWords(this.model, peer.lastRefusal, peers)}` : nothing}</span>`
              : nothing}
          </li>`,
      )}
    </ul>`;
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
