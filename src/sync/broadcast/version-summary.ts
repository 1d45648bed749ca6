import type { VersionVector, VersionVectorJSON } from '../../crdt/index.js';

/**
 * The entries of `ours` that `told` (what the receiver already heard from us) does not state the
 * same way: a node's whole entry (its max and seqs past a gap) where they differ. Merged into what
 * the receiver heard before, it gives `ours` again, as long as claims only grow (a node's
 * claimable version never shrinks on one connection). One entry per node that wrote since, so an
 * announcement of one edit is one entry, whatever the room's size.
 */
export function versionSummary(ours: VersionVector, told: VersionVector | undefined): VersionVectorJSON {
  const mine = ours.toJSON();
  if (!told) return mine;
  const theirs = told.toJSON();
  const summary: VersionVectorJSON = {};
  for (const [node, entry] of Object.entries(mine)) {
    if (JSON.stringify(entry) !== JSON.stringify(theirs[node])) summary[node] = entry;
  }
  return summary;
}
