import { Listeners } from '../util/listeners.js';
import type { Logger } from '../util/logger.js';

/**
 * The seed's `EventBus`: typed, synchronous publish/subscribe keyed by kebab-case event names.
 * A listener that throws is reported and does not stop the others, so one broken view cannot
 * break synchronization.
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Listeners<[never]>>();
  private readonly logger: Logger;

  constructor(onListenerError: (error: unknown) => void = (error) => console.error(error)) {
    this.logger = { warn: (_message, error) => onListenerError(error) };
  }

  /** Subscribes to one event type; returns the unsubscribe function. */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Listeners(this.logger, String(type))));
    return set.add(listener as (event: never) => void);
  }

  /** Resolves with the next event of `type`. */
  once<K extends keyof Events>(type: K): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (event) => {
        off();
        resolve(event);
      });
    });
  }

  /** True while `type` has a listener: lets a sender skip building events nobody hears. */
  has<K extends keyof Events>(type: K): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0;
  }

  /** Delivers `event` to every listener of `type`, in subscription order. */
  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    this.listeners.get(type)?.emit(event as never);
  }
}
