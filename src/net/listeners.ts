import type { NetLogger } from './logger.js';

/**
 * A set of callbacks. `emit` calls each one and reports what it throws instead of rethrowing, so
 * one faulty subscriber cannot break the transport that emits, nor the other subscribers.
 */
export class Listeners<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  constructor(
    private readonly logger: NetLogger,
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
