import { nextMessageTurn } from '../util/message-turn.js';

/**
 * How long work on the page's main thread is cut up: at most `itemsPerSlice` items (changes,
 * entities, hashes) in one task, then `pause()` lets the browser run other tasks (input,
 * rendering, other messages) before the next slice. Injected so tests count slices instead of
 * timing them.
 */
export interface WorkSlicer {
  /** The most items one slice handles. */
  readonly itemsPerSlice: number;
  /** Resolves in a later task. */
  pause(): Promise<void>;
}

/**
 * Items per slice by default: about 5–15 ms of applying, verifying or storing changes in
 * Chromium on a slow machine, well under the 50 ms that makes a long task.
 */
export const ITEMS_PER_SLICE = 250;

/** A `WorkSlicer` of `itemsPerSlice` items yielding to the event loop between slices. */
export function workSlicer(itemsPerSlice = ITEMS_PER_SLICE): WorkSlicer {
  if (!Number.isSafeInteger(itemsPerSlice) || itemsPerSlice < 1) throw new RangeError('itemsPerSlice must be a positive integer');
  return { itemsPerSlice, pause: yieldToEventLoop };
}

// `scheduler.yield()` where the browser has it (the continuation keeps its priority); else a
// message to ourselves, which, unlike nested `setTimeout(0)`, is not clamped to 4 ms.
function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  if (typeof MessageChannel === 'function') return nextMessageTurn();
  return new Promise((resolve) => setTimeout(resolve, 0));
}
