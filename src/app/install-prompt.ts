/** Chromium's `beforeinstallprompt` event (not in the DOM typings). */
export interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  readonly userChoice: Promise<{ readonly outcome: 'accepted' | 'dismissed' }>;
}

/**
 * Keeps the browser's install offer so the app can show its own install button, and forgets it
 * once used or once the app is installed (the event can be used only once).
 */
export class InstallPrompt {
  readonly #target: EventTarget;
  readonly #listeners = new Set<(available: boolean) => void>();
  #event: BeforeInstallPromptEvent | null = null;
  #onOffer = (event: Event): void => {
    // Without preventDefault the browser may show its own mini-infobar instead of our button.
    event.preventDefault();
    this.#set(event as BeforeInstallPromptEvent);
  };
  #onInstalled = (): void => this.#set(null);

  constructor(target: EventTarget = window) {
    this.#target = target;
    target.addEventListener('beforeinstallprompt', this.#onOffer);
    target.addEventListener('appinstalled', this.#onInstalled);
  }

  /** True while the browser offers to install the app. */
  get available(): boolean {
    return this.#event !== null;
  }

  onChange(listener: (available: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Shows the browser's install dialog; resolves with the user's answer. */
  async install(): Promise<'accepted' | 'dismissed' | 'unavailable'> {
    const event = this.#event;
    if (!event) return 'unavailable';
    this.#set(null);
    await event.prompt();
    return (await event.userChoice).outcome;
  }

  dispose(): void {
    this.#target.removeEventListener('beforeinstallprompt', this.#onOffer);
    this.#target.removeEventListener('appinstalled', this.#onInstalled);
  }

  #set(event: BeforeInstallPromptEvent | null): void {
    const changed = (event !== null) !== (this.#event !== null);
    this.#event = event;
    if (changed) for (const listener of this.#listeners) listener(event !== null);
  }
}
