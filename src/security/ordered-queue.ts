/**
 * Runs async tasks one after another per key, so work that must keep its order (sealing the
 * signals to one peer, opening the messages of one channel) does, while keys run independently.
 * A failing task never blocks the ones after it.
 */
export class OrderedQueue<K> {
  private readonly tails = new Map<K, Promise<void>>();

  /** Queues `task` after every earlier task of `key`. */
  run(key: K, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const tail = previous.then(task).catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return tail;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
