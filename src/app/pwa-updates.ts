/** What the app shows about its own version. */
export const UpdateState = {
  /** Running the newest version the browser knows. */
  current: 'current',
  /** A new version is installed and waits for this page's consent to take over. */
  waiting: 'waiting',
  /** The new version is taking over; the page reloads as soon as it controls it. */
  applying: 'applying',
  /** Another tab accepted a new version; this page still runs the old code. */
  updatedElsewhere: 'updated-elsewhere',
} as const;
export type UpdateState = (typeof UpdateState)[keyof typeof UpdateState];

/** The part of workbox-window's `Workbox` used here (structural, so tests can drive it). */
export interface WorkboxLike {
  addEventListener(type: 'waiting' | 'controlling' | 'activated', listener: (event: { readonly isUpdate?: boolean; readonly isExternal?: boolean }) => void): void;
  register(): Promise<unknown>;
  update(): Promise<void>;
  messageSkipWaiting(): void;
}

/** Options of `PwaUpdates`. */
export interface PwaUpdatesOptions {
  /** Saves what must be saved before the page reloads into the new version (the open room). */
  readonly beforeReload?: () => Promise<void>;
  readonly reload?: () => void;
  /** How often to ask the server for a new version while the page is visible. Default one hour. */
  readonly checkIntervalMs?: number;
}

/**
 * The service worker's lifecycle as the app shows it, with `registerType: 'prompt'`: a new version
 * waits until the user accepts it (`applyUpdate`: the room is saved, the waiting worker is told to
 * skip waiting, and the page reloads once it is in control). A stale version never lingers: the
 * page asks for updates on start, hourly and whenever it becomes visible, and a version the user
 * never accepts still takes over once every tab of the app is closed.
 */
export class PwaUpdates {
  readonly #workbox: WorkboxLike;
  readonly #beforeReload: () => Promise<void>;
  readonly #reload: () => void;
  readonly #checkIntervalMs: number;
  readonly #listeners = new Set<(state: UpdateState) => void>();
  #state: UpdateState = UpdateState.current;
  #offlineReady = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #onVisible = (): void => {
    if (document.visibilityState === 'visible') void this.#check();
  };

  constructor(workbox: WorkboxLike, options: PwaUpdatesOptions = {}) {
    this.#workbox = workbox;
    this.#beforeReload = options.beforeReload ?? (async () => {});
    this.#reload = options.reload ?? (() => location.reload());
    this.#checkIntervalMs = options.checkIntervalMs ?? 60 * 60 * 1000;
    workbox.addEventListener('waiting', () => {
      if (this.#state !== UpdateState.applying) this.#set(UpdateState.waiting);
    });
    workbox.addEventListener('activated', (event) => {
      if (!event.isUpdate) this.#offlineReady = true;
    });
    workbox.addEventListener('controlling', (event) => {
      if (this.#state === UpdateState.applying) this.#reload();
      // A worker claiming a page it did not serve is a new version accepted in another tab.
      else if (event.isUpdate) this.#set(UpdateState.updatedElsewhere);
    });
  }

  /** The state now; `onChange` hears every change. */
  get state(): UpdateState {
    return this.#state;
  }

  /** True once a first version is installed: the app now opens without a network. */
  get offlineReady(): boolean {
    return this.#offlineReady;
  }

  onChange(listener: (state: UpdateState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Registers the service worker and starts checking for updates. Failures are logged, never thrown. */
  async start(): Promise<void> {
    try {
      await this.#workbox.register();
    } catch (error) {
      console.warn('Service worker registration failed; the app works online only.', error);
      return;
    }
    this.#timer = setInterval(() => void this.#check(), this.#checkIntervalMs);
    document.addEventListener('visibilitychange', this.#onVisible);
  }

  /** Stops the update checks. */
  stop(): void {
    clearInterval(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisible);
  }

  /** Takes the waiting version (saving the room first), or reloads into the version another tab took. */
  async applyUpdate(): Promise<void> {
    if (this.#state === UpdateState.updatedElsewhere) {
      await this.#beforeReload();
      this.#reload();
      return;
    }
    if (this.#state !== UpdateState.waiting) return;
    this.#set(UpdateState.applying);
    await this.#beforeReload();
    this.#workbox.messageSkipWaiting();
  }

  async #check(): Promise<void> {
    try {
      await this.#workbox.update();
    } catch {
      // Offline or the server is down: the next check tries again.
    }
  }

  #set(state: UpdateState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }
}

/**
 * The app's service worker (generated at build time next to index.html), driven by workbox-window,
 * whose code loads when `register` is called, after the page's load event: no page needs it for
 * its first paint. Listeners
 * added before are handed to it then; nothing else can happen before it registers.
 */
export function appServiceWorker(base: string): WorkboxLike {
  const early: Array<Parameters<WorkboxLike['addEventListener']>> = [];
  let workbox: WorkboxLike | undefined;
  return {
    addEventListener(type, listener) {
      if (workbox) workbox.addEventListener(type, listener);
      else early.push([type, listener]);
    },
    async register() {
      if (!workbox) {
        // Registering waits for the page's load event (as workbox-window does): so does its code.
        if (document.readyState !== 'complete') await new Promise((loaded) => window.addEventListener('load', loaded, { once: true }));
        const { Workbox } = await import('workbox-window');
        workbox = new Workbox(`${base}sw.js`, { scope: base });
        for (const [type, listener] of early.splice(0)) workbox.addEventListener(type, listener);
      }
      return workbox.register();
    },
    async update() {
      await workbox?.update();
    },
    messageSkipWaiting() {
      workbox?.messageSkipWaiting();
    },
  };
}
