import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { baseStyles, controlStyles } from '../ui/shared/theme.js';
import { generateRoomSecret } from '../security/room-keys.js';
import { createRoom } from './create-room.js';
import { DisplayNameStore } from './display-name-store.js';
import './ednet-undo-toast.js';
import { exposeOnWindow } from './ednet-console.js';
import './ednet-landing-page.js';
import type { InstallPrompt } from './install-prompt.js';
import { type PwaUpdates, UpdateState } from './pwa-updates.js';
import { RECENT_ROOMS_KEY, RecentRooms } from './recent-rooms.js';
import { type Route, roomLink, routeFromHash } from './room-link.js';
import type { RoomRef, RoomSession } from './room-session.js';
import { EditRecorder } from '../ui/shared/edit-recorder.js';
import { loadElectionsView, loadRoomPage, loadShareDialog, type RoomViews } from './room-code.js';

/** The room's code (room-views.ts), once loaded: a session only exists after it loaded. */
let roomViews: RoomViews | undefined;

/** What `SessionOpener` is told besides the room. */
export interface SessionOpenerOptions {
  /**
   * Read just before the room's network starts: true opens it working offline. Another tab of
   * this device may have chosen so; starting online first would send what that tab kept back.
   */
  readonly workOffline?: () => boolean;
}

/** Opens a room; the app uses `openRoomSession`, tests a fake. */
export type SessionOpener = (room: RoomRef, options?: SessionOpenerOptions) => Promise<RoomSession>;

/** Makes a new room's id and secret; the app's names this device as the creator. */
export type RoomMaker = () => Promise<RoomRef>;

type Page =
  | { readonly kind: 'landing' }
  | { readonly kind: 'opening'; readonly room: RoomRef }
  | { readonly kind: 'room'; readonly session: RoomSession }
  | { readonly kind: 'failed'; readonly room: RoomRef; readonly error: string }
  /** A link with another key for a room this device holds: the user chooses which key to keep. */
  | { readonly kind: 'key-choice'; readonly room: RoomRef; readonly known: RoomRef };

/**
 * The app shell and its composition root: it follows the location fragment (the landing page, or
 * a room link), opens and closes room sessions, remembers rooms, applies the choices the pages
 * report, and shows the install button and the update prompt. Exactly one session is open at a
 * time; the fragment is the only place a room's id and secret appear in the address.
 */
export class EDNetApp extends LitElement {
  static override properties = {
    page: { state: true },
    linkError: { state: true },
    updateState: { state: true },
    installAvailable: { state: true },
    askingName: { state: true },
    sharing: { state: true },
    shareFailure: { state: true },
  };
  static override styles = [
    baseStyles,
    controlStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 100vh;
        min-height: 100dvh;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: calc(var(--ed-gap, 12px) / 2) var(--ed-gap, 12px);
        padding: calc(var(--ed-gap, 12px) / 2) var(--ed-gap, 12px);
        background: var(--ed-accent, #1a56c4);
        color: var(--ed-accent-text, #ffffff);
      }
      header h1 {
        margin: 0;
        font-size: 1.1rem;
        white-space: nowrap;
      }
      header a {
        color: inherit;
        font-weight: 700;
        text-decoration: none;
        min-height: 44px;
        display: inline-flex;
        align-items: center;
      }
      header {
        flex-wrap: nowrap;
      }
      header .room-name {
        flex: 1 1 0;
        min-width: 0;
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      /* A phone's one row: the room's name gets the room the brand and the buttons leave. */
      @media (max-width: 420px) {
        header {
          column-gap: 8px;
        }
        header button .long,
        header.in-room h1 .long {
          display: none;
        }
        header h1 {
          font-size: 1rem;
        }
        header button {
          padding-inline: 0.7em;
        }
      }
      header button {
        flex: none;
        background: var(--ed-accent-text, #ffffff);
        color: var(--ed-accent, #1a56c4);
        border-color: var(--ed-accent-text, #ffffff);
      }
      .banner {
        display: flex;
        flex-wrap: wrap;
        gap: calc(var(--ed-gap, 12px) / 2) var(--ed-gap, 12px);
        align-items: center;
        justify-content: space-between;
        padding: calc(var(--ed-gap, 12px) / 2) var(--ed-gap, 12px);
        background: var(--ed-surface, #ffffff);
        border-bottom: 2px solid var(--ed-warn, #8a4b00);
      }
      .banner.error {
        border-bottom-color: var(--ed-danger, #b3261e);
      }
      main {
        flex: 1;
      }
      .centered {
        max-width: 1100px;
        margin: 0 auto;
        padding: var(--ed-gap, 12px);
        width: 100%;
      }
    `,
  ];

  declare page: Page;
  declare linkError: string | null;
  declare updateState: UpdateState;
  declare installAvailable: boolean;
  /** The one-time question for a display name is showing. */
  declare askingName: boolean;
  /** The invitation sheet is showing. */
  declare sharing: boolean;
  /** Why the invitation sheet's code could not load (a reload gets the current version). */
  declare shareFailure: string | null;
  /** How new rooms are made; main.ts names this device as their creator. */
  newRoom: RoomMaker = async () => createRoom();
  /** This device's display name and whether it was asked for one. */
  displayNames = new DisplayNameStore();
  /** How rooms are opened; set by main.ts (tests set a fake) before the element connects. */
  openSession: SessionOpener | undefined;
  recentRooms = new RecentRooms();
  updates: PwaUpdates | undefined;
  install: InstallPrompt | undefined;
  #names = new Map<string, string>();
  // Rooms created in this tab that have not shown their invitation yet.
  #invite = new Set<string>();
  #unsubscribeRoom: (() => void) | undefined;
  #generation = 0;
  /** A key for a known room the user chose (or made, by rotating): opened without asking again. */
  #acceptedKey: RoomRef | null = null;
  #cleanups: Array<() => void> = [];
  #onHashChange = (): void => void this.#route(routeFromHash(location.hash));
  // "Work offline" is the device's choice for a room: every tab of it shares storage, so one tab
  // switching while another keeps sending would leak its edits. Tabs follow the remembered choice.
  #onStorage = (event: StorageEvent): void => {
    if (event.key !== RECENT_ROOMS_KEY && event.key !== null) return;
    const session = this.session;
    if (!session) return;
    // A room forgotten in another tab's list keeps the choice this tab follows (forgetting is no switch).
    const offline = this.recentRooms.get(session.room.roomId)?.workOffline ?? this.#offline;
    if (offline === this.#offline) return;
    this.#offline = offline;
    session.setWorkOffline(offline);
    this.requestUpdate();
  };
  #offline = false;
  // Escape closes the open disclosure it was pressed in (dialogs and confirmations close themselves).
  #onEscape = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || event.defaultPrevented) return;
    for (const target of event.composedPath()) {
      if (target instanceof HTMLDialogElement) return;
      if (target instanceof HTMLDetailsElement && target.open) {
        target.open = false;
        target.querySelector<HTMLElement>(':scope > summary')?.focus();
        event.preventDefault();
        return;
      }
    }
  };

  constructor() {
    super();
    this.page = { kind: 'landing' };
    this.linkError = null;
    this.updateState = UpdateState.current;
    this.installAvailable = false;
    this.askingName = false;
    this.sharing = false;
    this.shareFailure = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.#onHashChange);
    window.addEventListener('storage', this.#onStorage);
    window.addEventListener('keydown', this.#onEscape);
    this.#cleanups.push(() => window.removeEventListener('keydown', this.#onEscape));
    this.#cleanups.push(() => window.removeEventListener('hashchange', this.#onHashChange), () => window.removeEventListener('storage', this.#onStorage));
    if (this.updates) {
      this.updateState = this.updates.state;
      this.#cleanups.push(this.updates.onChange((state) => (this.updateState = state)));
    }
    if (this.install) {
      this.installAvailable = this.install.available;
      this.#cleanups.push(this.install.onChange((available) => (this.installAvailable = available)));
    }
    void this.#route(routeFromHash(location.hash));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    void this.closeRoom();
  }

  /** The open session, if any. */
  get session(): RoomSession | null {
    return this.page.kind === 'room' ? this.page.session : null;
  }

  /** Closes the open room (saving it), e.g. before the page reloads into a new version. */
  async closeRoom(): Promise<void> {
    const session = this.session;
    this.#generation++;
    this.#followRoom(undefined);
    this.renderRoot.querySelector('ednet-undo-toast')?.clear();
    this.page = { kind: 'landing' };
    exposeOnWindow(null);
    await session?.close();
  }

  // The invitation sheet's code loads when it is first asked for; the element opens once defined.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('sharing') || !this.sharing) return;
    this.shareFailure = null;
    loadShareDialog().catch((error: unknown) => {
      this.sharing = false;
      this.shareFailure = error instanceof Error ? error.message : String(error);
    });
  }

  override render() {
    const room = this.page.kind === 'room' ? this.page.session.room : this.page.kind === 'landing' ? null : this.page.room;
    const roomName = room ? this.#roomName(room.roomId) : '';
    const session = this.session;
    return html`
      <header class=${room ? 'in-room' : ''}>
        <h1><a href="#/" aria-label="EDNet P2P, all rooms">EDNet<span class="long">&nbsp;P2P</span></a></h1>
        <span class="room-name">${roomName}</span>
        ${session ? html`<button type="button" @click=${() => (this.sharing = true)}>Invite</button>` : nothing}
        ${this.installAvailable
          ? html`<button type="button" class="install" @click=${() => void this.install?.install()}>Install<span class="long"> app</span></button>`
          : nothing}
      </header>
      ${this.#updateBanner()}
      ${this.linkError
        ? html`<div class="banner error" role="alert">
            <span class="wrap"
              >This link cannot be opened. ${this.linkError} Ask whoever shared it to send the whole link again (copied with the app's
              “Copy link” button), or paste it under “Join a room”.</span
            >
            <button type="button" class="secondary" @click=${this.#dismissLinkError}>${this.session ? 'Back to the room' : 'OK'}</button>
          </div>`
        : nothing}
      ${this.shareFailure
        ? html`<div class="banner error" role="alert">
            <span class="wrap">${this.shareFailure}</span>
            <button type="button" class="secondary" @click=${() => (this.shareFailure = null)}>OK</button>
          </div>`
        : nothing}
      <main
        @create-room=${this.#onCreateRoom}
        @open-room=${(event: CustomEvent<{ room: RoomRef }>) => this.#goTo(event.detail.room)}
        @forget-room=${this.#onForgetRoom}
        @work-offline-change=${this.#onWorkOffline}
        @display-name-change=${(event: CustomEvent<{ name: string }>) => this.session?.setDisplayName(event.detail.name)}
        @rotate-room-key=${this.#onRotateRoomKey}
      >
        ${this.#main(roomName)}
      </main>
      ${session
        ? html`<ednet-name-dialog ?open=${this.askingName} @name-dialog-close=${this.#onNameAnswered}></ednet-name-dialog>
            <ednet-share-dialog
              ?open=${this.sharing}
              .link=${roomLink(baseAddress(), session.room)}
              room-name=${roomName}
              @share-dialog-close=${() => (this.sharing = false)}
            ></ednet-share-dialog>`
        : nothing}
      <ednet-undo-toast></ednet-undo-toast>
    `;
  }

  #main(roomName: string) {
    switch (this.page.kind) {
      case 'landing':
        return html`<div class="centered"><ednet-landing-page .recent=${this.recentRooms.list()}></ednet-landing-page></div>`;
      case 'opening':
        return html`<div class="centered"><p role="status">Opening ${roomName || 'the room'}…</p></div>`;
      case 'failed':
        return html`<div class="centered" role="alert">
          <h2>The room could not be opened</h2>
          <p class="wrap">${this.page.error}</p>
          <div class="actions">
            <button type="button" @click=${() => void this.#route(routeFromHash(location.hash))}>Try again</button>
            <a href="#/">All rooms</a>
          </div>
        </div>`;
      case 'key-choice': {
        const { room, known } = this.page;
        return html`<div class="centered" role="alertdialog" aria-labelledby="key-choice-title" aria-describedby="key-choice-text">
          <h2 id="key-choice-title" class="wrap">This link has another key for ${roomName || 'this room'}</h2>
          <p id="key-choice-text" class="wrap">
            This device already holds the room with a different key. A mistyped or altered link would cut you off from the
            room; a new key is what a member sends after changing the room's key. Which key do you want to keep?
          </p>
          <div class="actions">
            <button type="button" @click=${() => this.#goTo(known)}>Keep the key I have</button>
            <button type="button" class="secondary" @click=${() => this.#useLinkKey(room)}>Use the key in this link</button>
          </div>
        </div>`;
      }
      case 'room': {
        const session = this.page.session;
        return html`<ednet-room-page
          .session=${session}
          room-name=${roomName}
          link=${roomLink(baseAddress(), session.room)}
          ?work-offline=${this.recentRooms.get(session.room.roomId)?.workOffline ?? false}
        ></ednet-room-page>`;
      }
    }
  }

  #updateBanner() {
    switch (this.updateState) {
      case UpdateState.current:
        return nothing;
      case UpdateState.applying:
        return html`<div class="banner" role="status">Updating…</div>`;
      case UpdateState.waiting:
      case UpdateState.updatedElsewhere:
        return html`<div class="banner" role="status">
          <span>${this.updateState === UpdateState.waiting ? 'A new version of the app is available.' : 'The app was updated in another tab.'}</span>
          <button type="button" @click=${() => void this.updates?.applyUpdate()}>Reload</button>
        </div>`;
    }
  }

  async #route(route: Route): Promise<void> {
    if (route.page === 'invalid') {
      // A bad link changes nothing: the open room (or the landing page) stays as it was.
      this.linkError = route.error;
      return;
    }
    this.linkError = null;
    if (route.page === 'landing') {
      if (this.page.kind !== 'landing') await this.closeRoom();
      this.requestUpdate();
      return;
    }
    const current = this.session;
    if (current && current.room.roomId === route.room.roomId && current.room.secret === route.room.secret) return;
    // Another key for a room this device holds never silently replaces the stored one.
    const known = this.recentRooms.get(route.room.roomId);
    const accepted = this.#acceptedKey;
    this.#acceptedKey = null;
    if (known && known.secret !== route.room.secret && !(accepted?.roomId === route.room.roomId && accepted.secret === route.room.secret)) {
      ++this.#generation;
      this.page = { kind: 'key-choice', room: route.room, known: { roomId: known.roomId, secret: known.secret } };
      exposeOnWindow(null);
      await current?.close();
      return;
    }
    const generation = ++this.#generation;
    this.renderRoot.querySelector('ednet-undo-toast')?.clear();
    this.page = { kind: 'opening', room: route.room };
    exposeOnWindow(null);
    await current?.close();
    const pendingName = this.#names.get(route.room.roomId);
    const remembered = this.recentRooms.opened(route.room, pendingName);
    this.#names.delete(route.room.roomId);
    let session: RoomSession;
    // Whether the session started working offline (if the opener asked).
    let startedOffline = false;
    try {
      if (!this.openSession) throw new Error('The app has no way to open rooms (openSession is not set).');
      // The room's views load (once) while the room itself opens. The marks time the opening
      // (bench/app.bench.js reads them).
      performance.mark('ednet:room-opening');
      const workOffline = (): boolean => (startedOffline = this.recentRooms.get(route.room.roomId)?.workOffline ?? remembered.workOffline);
      // A room opened here before, or just created, shows its elections tab first: its code
      // loads alongside (a failure shows in the tab, which tries again).
      if (known || this.#invite.has(route.room.roomId)) loadElectionsView().catch(() => undefined);
      const [opened, views] = await Promise.allSettled([this.openSession(route.room, { workOffline }), loadRoomPage()]);
      if (opened.status === 'rejected') throw opened.reason;
      session = opened.value;
      if (views.status === 'rejected') {
        await session.close();
        throw views.reason;
      }
      roomViews = views.value;
    } catch (error) {
      if (generation === this.#generation) this.page = { kind: 'failed', room: route.room, error: error instanceof Error ? error.message : String(error) };
      return;
    }
    // Another route won while this room was opening: it is no longer wanted.
    if (generation !== this.#generation) {
      await session.close();
      return;
    }
    performance.mark('ednet:room-opened');
    // Read again: another tab of this device may have switched while this one was opening.
    this.#offline = this.recentRooms.get(route.room.roomId)?.workOffline ?? remembered.workOffline;
    if (this.#offline !== startedOffline) session.setWorkOffline(this.#offline);
    // The name typed when creating the room becomes its shared name (only its creator can set it).
    if (pendingName?.trim() && roomViews.canNameRoom(session.model, route.room.roomId) && !roomViews.roomInfoOf(session.model, route.room.roomId))
      roomViews.setRoomInfo(session.model, route.room.roomId, { name: pendingName });
    this.page = { kind: 'room', session };
    this.#followRoom(session);
    exposeOnWindow(session);
    // First the name (once per device), then, for a room just made, the invitation.
    const invite = this.#invite.delete(route.room.roomId);
    if (!this.displayNames.asked) {
      this.askingName = true;
      this.#inviteAfterName = invite;
    } else if (invite) this.sharing = true;
  }

  #inviteAfterName = false;

  #onNameAnswered(event: CustomEvent<{ name: string | null }>): void {
    this.askingName = false;
    this.displayNames.markAsked();
    if (event.detail.name) {
      this.displayNames.write(event.detail.name);
      this.session?.setDisplayName(event.detail.name);
    }
    if (this.#inviteAfterName) this.sharing = true;
    this.#inviteAfterName = false;
  }

  /** The room's name: the shared one its creator gave, else the one this device gave it. */
  #roomName(roomId: string): string {
    const session = this.session;
    const shared = session && session.room.roomId === roomId ? roomViews?.roomInfoOf(session.model, roomId)?.name : undefined;
    return shared || (this.recentRooms.get(roomId)?.name ?? '');
  }

  // Follows the open room's shared name: the header shows it, and the recent rooms remember it.
  // It also records this device's edits for undo (Ctrl+Z, and the toast after a deletion).
  #followRoom(session: RoomSession | undefined): void {
    this.#unsubscribeRoom?.();
    this.#unsubscribeRoom = undefined;
    if (!session) return;
    let shown: string | undefined;
    // Only a new name re-renders the app: the views follow the model on their own.
    const sync = (): void => {
      const shared = roomViews?.roomInfoOf(session.model, session.room.roomId)?.name;
      if (shared && this.recentRooms.get(session.room.roomId)?.name !== shared) this.recentRooms.rename(session.room.roomId, shared);
      if (shared !== shown) this.requestUpdate();
      shown = shared;
    };
    const unsubscribe = session.model.onChange(sync);
    // A touch screen has no Ctrl+Z: there every edit offers its undo on screen, not only deletions.
    const touchOnly = typeof matchMedia === 'function' && matchMedia('(hover: none) and (pointer: coarse)').matches;
    const recorder = new EditRecorder(session.model, (edit) => this.renderRoot.querySelector('ednet-undo-toast')?.push(edit, edit.deletion || touchOnly), {
      notRecorded: ['Member'],
    });
    this.#unsubscribeRoom = () => {
      unsubscribe();
      recorder.dispose();
    };
    sync();
  }

  #goTo(room: RoomRef): void {
    const hash = new URL(roomLink(baseAddress(), room)).hash;
    if (location.hash === hash) void this.#route({ page: 'room', room });
    else location.hash = hash;
  }

  async #onCreateRoom(event: CustomEvent<{ name: string }>): Promise<void> {
    let room: RoomRef;
    try {
      room = await this.newRoom();
    } catch {
      room = createRoom(); // No device key here (storage blocked): a room without a shared name.
    }
    if (event.detail.name.trim()) this.#names.set(room.roomId, event.detail.name);
    this.#invite.add(room.roomId);
    this.#goTo(room);
  }

  /**
   * A new secret for the open room: the room reopens under it (its stored data is kept, since
   * storage is per room id) and the address, recent rooms and share panel show the new link.
   * Peers still on the old key now see a key mismatch instead of syncing.
   */
  #onRotateRoomKey(): void {
    const session = this.session;
    if (!session) return;
    const room = { roomId: session.room.roomId, secret: generateRoomSecret() };
    this.#acceptedKey = room;
    this.#goTo(room);
  }

  /** The user chose the link's key over the stored one: open the room with it (it is then stored). */
  #useLinkKey(room: RoomRef): void {
    this.#acceptedKey = room;
    void this.#route({ page: 'room', room });
  }

  #onForgetRoom(event: CustomEvent<{ roomId: string }>): void {
    const entry = this.recentRooms.get(event.detail.roomId);
    this.recentRooms.forget(event.detail.roomId);
    this.requestUpdate();
    // The list is the only place this device keeps the room's link: forgetting can be undone.
    if (entry)
      this.renderRoot.querySelector('ednet-undo-toast')?.push({
        label: `Forgot “${entry.name}”`,
        undo: () => {
          this.recentRooms.restore(entry);
          this.requestUpdate();
        },
      });
  }

  #onWorkOffline(event: CustomEvent<{ offline: boolean }>): void {
    const session = this.session;
    if (!session) return;
    this.#offline = event.detail.offline;
    session.setWorkOffline(event.detail.offline);
    this.recentRooms.setWorkOffline(session.room.roomId, event.detail.offline);
    this.requestUpdate();
  }

  #dismissLinkError(): void {
    this.linkError = null;
    // Put the address back to what is shown, so reloading shows it again.
    const session = this.session;
    history.replaceState(history.state, '', session ? roomLink(baseAddress(), session.room) : `${baseAddress()}#/`);
  }
}

/** The app's own address without query or fragment. */
function baseAddress(): string {
  return `${location.origin}${location.pathname}`;
}

customElements.define('ednet-app', EDNetApp);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-app': EDNetApp;
  }
}
