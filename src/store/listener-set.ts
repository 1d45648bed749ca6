/**
 * Subscribers to one kind of storage event. A subscriber that throws is reported to `onError` and
 * does not stop the others: a broken view must not break saving.
 */
export class ListenerSet<T> {
  readonly #listeners = new Set<(value: T) => void>();

  constructor(private readonly onError: (error: unknown) => void = (error) => console.error(error)) {}

  /** Subscribes; returns the unsubscribe function. */
  add(listener: (value: T) => void): () => void {
    const entry = (value: T): void => listener(value);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
