import { Listeners } from '../util/listeners.js';
import type { NetLogger } from './logger.js';

/**
 * A connection's message listeners. Messages that arrive while nobody listens are held (up to
 * `maxHeldBytes`; past that `overflow` is called with a reason to close) and handed to the first
 * listener, so nothing is lost between `connect()` resolving and `onMessage`.
 */
export class HeldMessages {
  private readonly listeners: Listeners<[Uint8Array]>;
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;

  constructor(
    logger: NetLogger,
    label: string,
    private readonly maxHeldBytes: number,
    private readonly overflow: (reason: string) => void,
  ) {
    this.listeners = new Listeners(logger, label);
  }

  /** Adds a listener; the first one gets what was held, in a microtask. */
  add(listener: (message: Uint8Array) => void): () => void {
    const unsubscribe = this.listeners.add(listener);
    if (this.held && this.listeners.size === 1) queueMicrotask(() => this.flush());
    return unsubscribe;
  }

  /** Hands a message to the listeners, or holds it until there is one (and behind what is held). */
  deliver(message: Uint8Array): void {
    if (this.held || this.listeners.size === 0) {
      this.held ??= [];
      this.held.push(message);
      this.heldBytes += message.byteLength;
      if (this.heldBytes > this.maxHeldBytes) this.overflow(`more than ${this.maxHeldBytes} bytes arrived with nobody reading them`);
      return;
    }
    this.listeners.emit(message);
  }

  /** Forgets what is held and every listener: the connection closed. */
  clear(): void {
    this.held = undefined;
    this.listeners.clear();
  }

  private flush(): void {
    while (this.held && this.held.length > 0 && this.listeners.size > 0) {
      const message = this.held.shift() as Uint8Array;
      this.heldBytes -= message.byteLength;
      this.listeners.emit(message);
    }
    if (this.held && this.held.length === 0) this.held = undefined;
  }
}
