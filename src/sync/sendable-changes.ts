import type { CausalContext, Dot } from '../crdt/index.js';
import type { ModelChange } from '../domain/model-change.js';

/**
 * The changes of a delta as far as `version` covers them. A replica can hold writes its version
 * does not cover yet (parts of a delta it could not adopt); a receiver refuses any change with a
 * dot the batch version does not cover, so those writes, adds and removal marks are left out and
 * travel once adopted. What remains is the sender's state as its version knows it, so the
 * receiver may still adopt that version: a write it drops because the version covers it was
 * superseded at the sender, and the superseding write (not covered there) will reach it later.
 * Leaving whole batches unadoptable instead could deadlock: replicas each holding such writes
 * would wait on each other forever.
 */
export function sendableChanges(changes: readonly ModelChange[], version: CausalContext): ModelChange[] {
  let kept: ModelChange[] | undefined;
  changes.forEach((change, index) => {
    const projected = project(change, version);
    if (projected === change && !kept) return;
    kept ??= changes.slice(0, index);
    if (projected) kept.push(projected);
  });
  return kept ?? (changes as ModelChange[]);
}

/** `change` itself if `version` covers all of it, the covered part, or undefined if none. */
function project(change: ModelChange, version: CausalContext): ModelChange | undefined {
  const covered = (dot: Dot) => version.covers(dot);
  switch (change.kind) {
    case 'attribute': {
      if (change.writes.every((write) => covered(write.dot))) return change;
      const writes = change.writes.filter((write) => covered(write.dot));
      return writes.length ? { ...change, writes } : undefined;
    }
    case 'child-add':
      return covered(change.dot) ? change : undefined;
    case 'children': {
      const removals = change.removals ?? [];
      if (change.items.every(([, dots]) => dots.every(covered)) && removals.every(covered)) return change;
      const items = change.items
        .map(([child, dots]) => [child, dots.filter(covered)] as const)
        .filter(([, dots]) => dots.length > 0);
      const marks = removals.filter(covered);
      if (!items.length && !marks.length) return undefined;
      const { removals: _all, ...relation } = change;
      return { ...relation, items, ...(marks.length ? { removals: marks } : {}) };
    }
  }
}
