import { type ApplyChangesOptions, type SynchronizableDomainModel, type WorkSlicer, sliceDecodedBatch, wasDecoded } from '../domain/index.js';
import type { ApplyChangesResult, ChangeBatch, RejectedChange } from '../domain/model-change.js';
import type { VerifiedBatch } from '../security/change-certification.js';

/** What `applyInSlices` needs besides the model and the batch. */
export interface SlicedApplyOptions {
  readonly slicer: WorkSlicer;
  /** Where changes are signed: what verifying the batch found (its certificates are kept slice by slice). */
  readonly verified?: VerifiedBatch;
  readonly apply?: ApplyChangesOptions;
  /** Apply the batch as a part that may not be adopted (a part before it was lost or refused). */
  readonly partial?: boolean;
  /** Checked after every pause: false stops before the next slice (the peer went away). */
  readonly stillWanted: () => boolean;
}

/**
 * Applies a decoded delta (or one part of it) to `model` a slice of `slicer.itemsPerSlice`
 * changes at a time, pausing in between, so a large arrival never holds the page's main thread
 * for long. The slices act exactly as smaller parts of the delta would: each is joined with the
 * delta's version as context, only the last may adopt it (and only if the whole batch may), and
 * each item's certificate is kept in the same step that applies it, so storage saves the two
 * together. The digest is not rehashed here: nothing reads it until the arrival is stored, and
 * `DigestKeeper` brings it up to date in idle time meanwhile.
 *
 * Returns the result synchronously when the batch fits in one slice, else a promise of it, or of
 * undefined if `stillWanted` turned false (the slices applied stay: none adopted the version).
 */
export function applyInSlices(
  model: SynchronizableDomainModel,
  batch: ChangeBatch,
  options: SlicedApplyOptions,
): ApplyChangesResult | Promise<ApplyChangesResult | undefined> {
  const { slicer, verified } = options;
  const size = slicer.itemsPerSlice;
  // A batch not from the decoder (never one from a peer) has no slices that skip validation.
  if (batch.changes.length <= size || !wasDecoded(batch)) {
    const whole = !options.partial || batch.partial ? batch : wasDecoded(batch) ? sliceDecodedBatch(batch, 0, batch.changes.length, true) : { ...batch, partial: true };
    const result = model.applyChanges(whole, options.apply);
    verified?.keep(refusedChanges(result.rejected));
    return result;
  }
  return (async () => {
    let applied = 0;
    let ignored = 0;
    let complete = true;
    const rejected: RejectedChange[] = [];
    const refusedBefore = new Set<unknown>();
    const conflicts: ApplyChangesResult['conflicts'][number][] = [];
    for (let start = 0; start < batch.changes.length; start += size) {
      if (start > 0) {
        await slicer.pause();
        if (!options.stillWanted()) return undefined;
      }
      const end = Math.min(batch.changes.length, start + size);
      const result = model.applyChanges(sliceDecodedBatch(batch, start, end, options.partial), options.apply);
      verified?.keep(refusedChanges(result.rejected), { from: start, to: end });
      applied += result.applied;
      ignored += result.ignored;
      complete &&= result.complete;
      // A refusal of the batch itself (its version) comes with every slice: counted once.
      for (const refusal of result.rejected) {
        if (refusedBefore.has(refusal.change)) continue;
        refusedBefore.add(refusal.change);
        rejected.push(refusal);
      }
      conflicts.push(...result.conflicts);
    }
    return { applied, ignored, rejected, conflicts, complete };
  })();
}

function refusedChanges(rejected: readonly RejectedChange[]): Set<unknown> {
  return new Set(rejected.map((refusal) => refusal.change));
}
