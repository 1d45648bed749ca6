import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { NodeStatus } from '../node/node-events.js';
import { plural } from '../ui/shared/format.js';
import { Memo } from '../ui/shared/memo.js';
import { ModelController } from '../ui/shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles } from '../ui/shared/theme.js';
import '../ui/ednet-status-bar.js';
import { AttentionNotifier } from '../ui/elections/attention-notifier.js';
import { electionAttention } from '../ui/elections/election-attention.js';
import { memberNames } from '../models/electoral/index.js';
import './ednet-room-arrival.js';
import type { RoomSession } from './room-session.js';
import { lazyModule } from './lazy-module.js';
import { loadElectionsView } from './room-code.js';

/** The sections of a room, in tab order. */
export const RoomTab = { elections: 'elections', conflicts: 'conflicts', explorer: 'explorer', audit: 'audit', room: 'room' } as const;
export type RoomTab = (typeof RoomTab)[keyof typeof RoomTab];

const TAB_LABELS: Record<RoomTab, string> = { elections: 'Elections', conflicts: 'Conflicts', explorer: 'Explorer', audit: 'Audit', room: 'Room' };
const TABS = Object.values(RoomTab);

/**
 * Each tab's views load when the tab is first shown; their elements upgrade in place once defined.
 * A room link never opened here shows only the arrival screen, so its first paint needs none of
 * them; the elections view loads when the first peer has made the room this device's (the
 * service worker has it precached), not while the arrival screen is still the page's first work.
 */
const TAB_CODE: Record<RoomTab, () => Promise<unknown>> = {
  elections: loadElectionsView,
  conflicts: lazyModule('The conflicts view', () => import('../ui/ednet-conflicts-panel.js')),
  explorer: lazyModule('The model explorer', () => import('../ui/ednet-model-explorer.js')),
  audit: lazyModule('The audit view', () => import('../ui/audit/ednet-audit-view.js')),
  room: lazyModule('The room tab', () => Promise.all([import('./ednet-room-details.js'), import('./ednet-room-people.js'), import('./ednet-share-panel.js')])),
};

const PERSISTENCE_TEXT: Record<NodeStatus['persistence'], string> = {
  granted: 'Persistent: the browser keeps this room’s data even when space runs low.',
  denied: 'Not persistent: the browser may clear this room’s data when space runs low. Export the room now and then to keep a copy, or install the app (installed apps are usually granted persistence).',
  unsupported: 'This browser does not offer persistent storage: export the room now and then to keep a copy.',
  unknown: 'Persistent storage has not been requested yet.',
};

/** One status message of the backup section. */
interface Notice {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * An open room: the status bar (always visible), and tabs for the elections, the conflicts, the
 * model explorer, the audit, and sharing and backup. It reads the session and its model; choices the app
 * keeps (work offline, display name) go up as the status bar's events.
 */
export class EDNetRoomPage extends LitElement {
  static override properties = {
    session: { attribute: false },
    roomName: { attribute: 'room-name' },
    link: {},
    workOffline: { type: Boolean, attribute: 'work-offline' },
    tab: { state: true },
    status: { state: true },
    notice: { state: true },
    busy: { state: true },
  };
  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      ednet-status-bar {
        position: sticky;
        top: 0;
        z-index: 2;
      }
      /* Short viewports (a landscape phone, 400% zoom): the bar scrolls away instead of covering the page. */
      @media (max-height: 500px) {
        ednet-status-bar {
          position: static;
        }
      }
      [role='tablist'] {
        display: flex;
        gap: 4px;
        overflow-x: auto;
        padding: var(--ed-gap, 12px) var(--ed-gap, 12px) 0;
        border-bottom: 1px solid var(--ed-border, #7d8692);
        scrollbar-width: thin;
      }
      [role='tab'] {
        flex: none;
        border-radius: var(--ed-radius, 8px) var(--ed-radius, 8px) 0 0;
        border: 1px solid transparent;
        border-bottom: none;
        background: transparent;
        color: var(--ed-text, #1b1f24);
        font-weight: 600;
        margin-bottom: -1px;
      }
      @media (max-width: 480px) {
        [role='tablist'] {
          gap: 0;
          padding: calc(var(--ed-gap, 12px) / 2) 4px 0;
        }
        /* Five tabs fit a 360px screen side by side: none hides behind a scroll. */
        [role='tab'] {
          padding: 0.45em 0.3em;
          font-size: 0.875rem;
        }
      }
      [role='tab'][aria-selected='true'] {
        background: var(--ed-surface, #ffffff);
        border-color: var(--ed-border, #7d8692);
        color: var(--ed-accent, #1a56c4);
      }
      .count {
        display: inline-block;
        min-width: 1.6em;
        margin-left: 0.35em;
        padding: 0 0.4em;
        border-radius: 999px;
        background: var(--ed-warn, #8a4b00);
        color: var(--ed-surface, #ffffff);
        font-size: 0.8rem;
        text-align: center;
      }
      [role='tabpanel'] {
        padding: var(--ed-gap, 12px);
        /* Aligned with the bars above it, which start at the left edge too. */
        max-width: 1200px;
      }
      [role='tabpanel']:focus-visible {
        outline-offset: -3px;
      }
      .backup {
        display: grid;
        gap: var(--ed-gap, 12px);
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 260px), 1fr));
        align-items: start;
      }
    `,
  ];

  declare session: RoomSession | undefined;
  declare roomName: string;
  declare link: string;
  declare workOffline: boolean;
  declare tab: RoomTab;
  declare status: NodeStatus | undefined;
  declare notice: Notice | null;
  declare busy: boolean;
  #unsubscribe: (() => void) | undefined;
  #subscribed: RoomSession | undefined;
  // Keeps focus from landing under the sticky status bar (WCAG 2.4.11): the page's scroll padding
  // follows the bar's height, and is none while the bar does not stick.
  #barSize = new ResizeObserver((entries) => {
    const bar = entries[0]?.target as HTMLElement | undefined;
    const sticky = bar && getComputedStyle(bar).position === 'sticky';
    document.documentElement.style.scrollPaddingTop = sticky ? `${Math.ceil(bar.getBoundingClientRect().height) + 8}px` : '';
  });

  constructor() {
    super();
    this.roomName = '';
    this.link = '';
    this.workOffline = false;
    this.tab = RoomTab.elections;
    this.notice = null;
    this.busy = false;
    // The conflict count in the tab follows every merge.
    this.#changes = new ModelController(this, () => this.session?.model);
  }

  readonly #changes: ModelController;
  // Derived once per model change: a render for another reason (status, tab) scans nothing, and
  // the status bar gets the same names object, so it re-renders only when a name may have changed.
  readonly #names = new Memo((model: RoomSession['model'], _revision: number) => memberNames(model));
  readonly #attention = new Memo((model: RoomSession['model'], _revision: number, _seen: number) => electionAttention(model));
  // Bumped when this device has looked at results (kept outside the model).
  #seen = 0;

  readonly #notifier = new AttentionNotifier();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#follow(undefined);
    this.#barSize.disconnect();
    document.documentElement.style.scrollPaddingTop = '';
  }

  protected override updated(): void {
    const bar = this.renderRoot.querySelector('ednet-status-bar');
    if (bar) this.#barSize.observe(bar);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#follow(this.session);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.isConnected) this.#follow(this.session);
    // Undefined while no panel shows (no session, or the arrival screen).
    const shown = this.session && this.session.held !== false ? this.tab : undefined;
    if (shown !== this.#shownTab || changed.has('tab')) {
      this.#shownTab = shown;
      if (shown) this.#loadTab(shown);
    }
  }

  #shownTab: RoomTab | undefined;

  /** Why a tab's code could not load, shown in its panel (a reload gets the current version). */
  #tabFailure = new Map<RoomTab, string>();

  #loadTab(tab: RoomTab): void {
    this.#tabFailure.delete(tab);
    TAB_CODE[tab]().catch((error: unknown) => {
      this.#tabFailure.set(tab, messageOf(error));
      this.requestUpdate();
    });
  }

  override render() {
    const session = this.session;
    if (!session) return nothing;
    const conflicts = session.model.conflicts.length;
    // What waits for this device in the elections: a badge, and a system notification in the background.
    const attention = this.#attention.get(session.model, this.#changes.revision, this.#seen);
    this.#notifier.update(attention);
    const waiting = attention.reduce((sum, item) => sum + item.count, 0);
    const bar = html`<ednet-status-bar
      .status=${this.status}
      .workOffline=${this.workOffline}
      .names=${this.#names.get(session.model, this.#changes.revision)}
      .model=${session.model}
      .unsentEdits=${this.status?.unsentEdits}
    ></ednet-status-bar>`;
    // A room never held here has nothing to show yet: no tabs inviting to create in an empty room.
    if (session.held === false) return html`${bar}<ednet-room-arrival .status=${this.status}></ednet-room-arrival>`;
    return html`
      ${bar}
      <div role="tablist" aria-label="Room sections" @keydown=${this.#onTabKey}>
        ${TABS.map(
          (tab) => html`<button
            type="button"
            role="tab"
            id=${`tab-${tab}`}
            aria-controls=${`panel-${tab}`}
            aria-selected=${tab === this.tab ? 'true' : 'false'}
            tabindex=${tab === this.tab ? '0' : '-1'}
            @click=${() => (this.tab = tab)}
          >
            ${TAB_LABELS[tab]}${tab === RoomTab.conflicts && conflicts > 0
              ? html`<span class="count" aria-label=${`, ${conflicts} open`}>${conflicts}</span>`
              : nothing}${tab === RoomTab.elections && waiting > 0
              ? html`<span class="count" title=${attention.map((item) => item.text).join('\n')} aria-label=${`, ${waiting} waiting for you`}>${waiting}</span>`
              : nothing}
          </button>`,
        )}
      </div>
      <div role="tabpanel" id=${`panel-${this.tab}`} aria-labelledby=${`tab-${this.tab}`} tabindex="0" @attention-changed=${this.#onAttentionChanged}>
        ${this.#panel(session)}
      </div>
    `;
  }

  #panel(session: RoomSession) {
    const failure = this.#tabFailure.get(this.tab);
    if (failure) return html`<p role="alert" class="wrap">${failure}</p>`;
    switch (this.tab) {
      case RoomTab.elections:
        return html`<ednet-elections-view .model=${session.model} .peers=${this.status?.peers ?? []}></ednet-elections-view>`;
      case RoomTab.conflicts:
        return html`<ednet-conflicts-panel .model=${session.model} .peers=${this.status?.peers ?? []}></ednet-conflicts-panel>`;
      case RoomTab.explorer:
        return html`<ednet-model-explorer .model=${session.model}></ednet-model-explorer>`;
      case RoomTab.audit:
        return html`<ednet-audit-view .model=${session.model} .node=${session.node}></ednet-audit-view>`;
      case RoomTab.room:
        return this.#roomPanel();
    }
  }

  #roomPanel() {
    return html`
      <ednet-room-details .model=${this.session?.model} room-id=${this.session?.room.roomId ?? ''} local-name=${this.roomName}></ednet-room-details>
      <ednet-room-people .model=${this.session?.model} .status=${this.status} room-id=${this.session?.room.roomId ?? ''}></ednet-room-people>
      <ednet-share-panel .link=${this.link} room-name=${this.roomName}></ednet-share-panel>
      <section class="card" aria-labelledby="backup-heading">
        <h2 id="backup-heading">Storage and backup</h2>
        <p>${PERSISTENCE_TEXT[this.status?.persistence ?? 'unknown']}</p>
        ${this.status?.storageError ? html`<p class="error" role="alert">Storage problem: ${this.status.storageError}</p>` : nothing}
        <p class="muted">A room file holds the whole room. Importing one merges it into this room: nothing newer is overwritten.</p>
        <div class="backup">
          <div>
            <span class="label">Export</span>
            <button type="button" ?disabled=${this.busy} @click=${this.#export}>Export room</button>
            <span class="hint">Downloads the room as a .json file.</span>
          </div>
          <div>
            <label for="import-file">Import a room file</label>
            <input id="import-file" type="file" accept=".json,application/json" ?disabled=${this.busy} @change=${this.#import} />
          </div>
        </div>
        <p role="status" class=${this.notice?.ok === false ? 'error' : 'hint'}>${this.notice?.text ?? ''}</p>
      </section>
    `;
  }

  #follow(session: RoomSession | undefined): void {
    if (session === this.#subscribed) return;
    this.#unsubscribe?.();
    this.#subscribed = session;
    this.#unsubscribe = session?.onStatus((status) => (this.status = status));
    this.status = session?.status;
    this.notice = null;
  }

  #onAttentionChanged(): void {
    this.#seen++;
    this.requestUpdate();
  }

  #onTabKey(event: KeyboardEvent): void {
    const index = TABS.indexOf(this.tab);
    const next =
      event.key === 'ArrowRight' ? TABS[(index + 1) % TABS.length] : event.key === 'ArrowLeft' ? TABS[(index + TABS.length - 1) % TABS.length] : event.key === 'Home' ? TABS[0] : event.key === 'End' ? TABS[TABS.length - 1] : undefined;
    if (!next) return;
    event.preventDefault();
    this.tab = next;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${next}`)?.focus());
  }

  async #export(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.busy = true;
    try {
      const blob = await session.exportRoom();
      downloadBlob(blob, `ednet-room-${session.room.roomId}-${new Date().toISOString().slice(0, 10)}.json`);
      this.notice = { ok: true, text: `Exported (${Math.max(1, Math.round(blob.size / 1024))} KiB).` };
    } catch (error) {
      this.notice = { ok: false, text: `Export failed: ${messageOf(error)}` };
    } finally {
      this.busy = false;
    }
  }

  async #import(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    const session = this.session;
    if (!file || !session) return;
    this.busy = true;
    try {
      const result = await session.importRoom(file);
      this.notice = result.ok
        ? { ok: true, text: `Imported ${file.name}: ${result.value.map((model) => plural(model.entities, 'entity', 'entities')).join(', ') || 'nothing new'}.` }
        : { ok: false, text: `Import failed: ${result.error}` };
    } catch (error) {
      this.notice = { ok: false, text: `Import failed: ${messageOf(error)}` };
    } finally {
      input.value = '';
      this.busy = false;
    }
  }
}

/** Saves a blob as a file through a temporary download link. */
function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // The download has started reading the blob by the next task; revoking sooner can cancel it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

customElements.define('ednet-room-page', EDNetRoomPage);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-room-page': EDNetRoomPage;
  }
}
