import type { ChangeBatch } from '../domain/model-change.js';

/**
 * Cuts a delta into parts of at most `maxChanges` changes. Every part carries the sender's
 * version as join context, but only the last may be adopted (`partial` on the others), so a
 * connection lost midway never makes the receiver claim changes it did not get.
 */
export function splitBatch(batch: ChangeBatch, maxChanges: number): ChangeBatch[] {
  if (batch.changes.length <= maxChanges) return [{ ...batch, partial: undefined }];
  const parts: ChangeBatch[] = [];
  for (let start = 0; start < batch.changes.length; start += maxChanges) {
    const last = start + maxChanges >= batch.changes.length;
    parts.push({ ...batch, changes: batch.changes.slice(start, start + maxChanges), partial: last ? undefined : true });
  }
  return parts;
}
