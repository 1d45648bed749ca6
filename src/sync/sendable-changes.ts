import type { CausalContext, Dot } from '../crdt/index.js';
import type { ModelChange } from '../domain/model-change.js';

/** What of a delta may be sent, and whether the receiver may then adopt the sender's version. */
export interface SendableChanges {
  readonly changes: readonly ModelChange[];
  readonly adoptable: boolean;
}

/**
 * Keeps the changes whose every dot `version` covers. A replica can hold writes its version does
 * not cover yet (parts of a delta not adopted so far); sending them would make the receiver
 * refuse the change (a dot the batch version does not cover), so they wait until adopted.
 * Dropping a change that also holds covered dots makes the batch unadoptable: the receiver would
 * claim those writes as seen without holding them, and a later join would then drop them.
 */
export function sendableChanges(changes: readonly ModelChange[], version: CausalContext): SendableChanges {
  let adoptable = true;
  let kept: ModelChange[] | undefined;
  changes.forEach((change, index) => {
    const dots = dotsOf(change);
    const covered = dots.filter((dot) => version.covers(dot)).length;
    if (covered === dots.length) {
      kept?.push(change);
      return;
    }
    kept ??= changes.slice(0, index);
    if (covered > 0) adoptable = false;
  });
  return { changes: kept ?? changes, adoptable };
}

function dotsOf(change: ModelChange): readonly Dot[] {
  switch (change.kind) {
    case 'attribute':
      return change.writes.map((write) => write.dot);
    case 'child-add':
      return [change.dot];
    case 'children':
      return [...change.items.flatMap(([, dots]) => dots), ...(change.removals ?? [])];
  }
}
