import type { Logger } from './logger.js';

/**
 * The project's one emitter: a set of callbacks. `emit` calls each in subscription order and
 * reports what one throws to the logger instead of rethrowing, so a faulty subscriber (a broken
 * view, say) breaks neither the code that emits nor the other subscribers.
 */
export class Listeners<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Subscribes; returns the unsubscribe function. The same function may be added twice. */
  add(listener: (...args: Args) => void): () => void {
    const entry = (...args: Args): void => listener(...args);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(...args: Args): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (error) {
        this.logger.warn(`a ${this.what} listener threw`, error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
