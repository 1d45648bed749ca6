import type { ChangeBatch } from '../domain/model-change.js';

/**
 * Cuts a delta into parts of at most `maxChanges` changes. Every part carries the sender's
 * version as join context, but only the last may be adopted (`partial` on the others), so a
 * connection lost midway never makes the receiver claim changes it did not get.
 */
export function splitBatch(batch: ChangeBatch, maxChanges: number): ChangeBatch[] {
  if (!Number.isSafeInteger(maxChanges) || maxChanges < 1) throw new RangeError('maxChanges must be a positive integer');
  const { partial: _ignored, ...envelope } = batch;
  const parts: ChangeBatch[] = [];
  let start = 0;
  do {
    const end = start + maxChanges;
    const changes = batch.changes.slice(start, end);
    parts.push(end >= batch.changes.length ? { ...envelope, changes } : { ...envelope, changes, partial: true });
    start = end;
  } while (start < batch.changes.length);
  return parts;
}
