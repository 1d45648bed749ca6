import type { KeyValueStorage } from './recent-rooms.js';

/** The localStorage key of this device's display name (one for every room). */
export const DISPLAY_NAME_KEY = 'ednet-p2p/display-name';
/** Set once the user was asked for a name (answered or skipped), so the question comes once. */
export const DISPLAY_NAME_ASKED_KEY = 'ednet-p2p/display-name-asked';

/**
 * This device's display name, remembered in localStorage for every room it opens. Where storage
 * is blocked, the name lasts for the page only and nothing throws.
 */
export class DisplayNameStore {
  readonly #storage: KeyValueStorage | null;
  #memory: string | null = null;
  #askedInMemory = false;

  constructor(storage: KeyValueStorage | null = defaultStorage()) {
    this.#storage = storage;
  }

  /** The remembered name, or null. */
  read(): string | null {
    try {
      return this.#storage?.getItem(DISPLAY_NAME_KEY) || this.#memory;
    } catch {
      return this.#memory;
    }
  }

  /** Remembers a name (empty forgets it); answering counts as asked. */
  write(name: string): void {
    const clean = name.trim();
    this.#memory = clean || null;
    this.markAsked();
    try {
      this.#storage?.setItem(DISPLAY_NAME_KEY, clean);
    } catch {
      // Storage blocked: the name lasts for this page.
    }
  }

  /** True once the user gave a name or chose to skip the question. */
  get asked(): boolean {
    if (this.#askedInMemory || this.read()) return true;
    try {
      return this.#storage?.getItem(DISPLAY_NAME_ASKED_KEY) === 'yes';
    } catch {
      return false;
    }
  }

  /** Records that the user was asked (a skip is an answer). */
  markAsked(): void {
    this.#askedInMemory = true;
    try {
      this.#storage?.setItem(DISPLAY_NAME_ASKED_KEY, 'yes');
    } catch {
      // Storage blocked: asked again on the next visit.
    }
  }
}

function defaultStorage(): KeyValueStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
