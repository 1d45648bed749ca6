import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import type { WorkSlicer } from '../domain/work-slicer.js';
import { ITEMS_PER_SLICE } from '../domain/work-slicer.js';

/**
 * Keeps a model's state digest up to date in the page's idle time, a slice of entities per task,
 * so the messages that carry it (a hello, the last part of a delta, an ack, a version report) find
 * it ready instead of rehashing what changed in one task of their own.
 *
 * Why idle time: a digest is only sent where this node holds exactly what it stored
 * (`SyncedModels.ownDigest`), so while a large delta arrives, and until it is saved, nothing reads
 * it; rehashing it part by part put about a tenth of a 10,000-entity join on the arrival's path,
 * and entities spread over several parts were hashed more than once. Where a peer connects right
 * after a burst of local writes (a device that made its room alone), the hello hashed every entity
 * in the connection's task (100–290 ms for 10,000 entities). What is still stale when a digest is
 * read is rehashed then, as before, so the digest is always exact.
 */
export class DigestKeeper {
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly model: SynchronizableDomainModel,
    private readonly slicer: WorkSlicer,
  ) {}

  /**
   * The model changed (or was just registered): its digest is brought up to date soon. Resolves
   * once none of it is stale or the keeper stopped (callers need not wait).
   */
  changed(): Promise<void> {
    if (this.#stopped || !this.model.refreshDigest) return Promise.resolve();
    this.#running ??= this.#refresh();
    return this.#running;
  }

  /** The model is no longer synced: no further slices. */
  stop(): void {
    this.#stopped = true;
  }

  async #refresh(): Promise<void> {
    try {
      // Changes during a pause are picked up by the next slice: the loop ends only with none stale.
      do {
        await this.slicer.pause();
        if (this.#stopped) return;
      } while (!this.model.refreshDigest!(this.slicer.itemsPerSlice));
    } finally {
      this.#running = undefined;
    }
  }
}

/**
 * A `WorkSlicer` whose pauses end when the page has nothing more urgent to do: Chromium's
 * `scheduler.postTask` at background priority runs after every message, input and continuation
 * of sliced work waiting, so the digest never delays a part of a delta being received or applied.
 * Elsewhere (Node, other browsers) a `setTimeout(0)`.
 */
export function idleSlicer(itemsPerSlice = ITEMS_PER_SLICE): WorkSlicer {
  return { itemsPerSlice, pause: idlePause };
}

function idlePause(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { postTask?: (task: () => void, options: { priority: string }) => Promise<void> } }).scheduler;
  if (typeof scheduler?.postTask === 'function') return scheduler.postTask(() => undefined, { priority: 'background' });
  return new Promise((resolve) => setTimeout(resolve, 0));
}
