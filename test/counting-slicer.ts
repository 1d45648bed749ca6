import type { WorkSlicer } from '../src/domain/index.js';

/**
 * A slicer of `itemsPerSlice` that counts its pauses and runs `onPause` inside each, between two
 * slices (another task's work there).
 */
export function countingSlicer(itemsPerSlice: number, onPause: (pauses: number) => void = () => {}): WorkSlicer & { pauses: number } {
  const slicer = {
    itemsPerSlice,
    pauses: 0,
    pause(): Promise<void> {
      onPause(++slicer.pauses);
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
  return slicer;
}
