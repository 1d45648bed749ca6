import type { AttentionItem } from './election-attention.js';

/** What `AttentionNotifier` needs of the browser; `window`'s by default. */
export interface NotificationHost {
  readonly permission: () => NotificationPermission | 'unsupported';
  readonly hidden: () => boolean;
  readonly show: (title: string, body: string, tag: string) => void;
}

const browserHost: NotificationHost = {
  permission: () => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission),
  hidden: () => document.visibilityState === 'hidden',
  show: (title, body, tag) => void new Notification(title, { body, tag }),
};

/**
 * Shows a system notification for each new thing that waits for this device, once, and only while
 * the page is in the background and the user has allowed notifications (it never asks: the
 * elections view offers a button for that). What waited when the page loaded is not announced.
 */
export class AttentionNotifier {
  readonly #host: NotificationHost;
  #known: Set<string> | undefined;

  constructor(host: NotificationHost = browserHost) {
    this.#host = host;
  }

  /** Takes the current items; returns those it announced. */
  update(items: readonly AttentionItem[]): AttentionItem[] {
    const known = this.#known;
    this.#known = new Set([...(known ?? []), ...items.map((item) => item.key)]);
    if (!known) return [];
    const fresh = items.filter((item) => !known.has(item.key));
    if (!fresh.length || this.#host.permission() !== 'granted' || !this.#host.hidden()) return [];
    for (const item of fresh) {
      try {
        this.#host.show('EDNet elections', item.text, item.key);
      } catch {
        // Some browsers allow notifications only from a service worker: the badge still shows it.
      }
    }
    return fresh;
  }
}
