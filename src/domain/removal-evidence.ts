import { type CausalContext, type Dot, compareWrites, containsDot } from '../crdt/index.js';
import type { AttributeValue, AttributeWrite, ModelChange } from './model-change.js';

/**
 * The signed context of an item, where its author signed one (removal marks, in signed rooms):
 * what the author had seen when it removed. Given by the sync layer after verification.
 */
export type RemovalEvidence = (dot: Dot) => CausalContext | undefined;

/**
 * The context a remote change may drop held state with, where drops need evidence (signed rooms).
 * A sender's context is only its claim; what it leaves out of a register or relation it sends is
 * dropped here only if an item it does send proves the drop:
 *
 * - a held write leaves a register only for a sent write of the same register that wins over it
 *   (later by `(ts, node)`). An honest overwrite always does: its author's hybrid clock had seen
 *   the overwritten write, so its stamp is later; and a register's current writes always include
 *   such a descendant. A claim with an old write and a context covering the newer one drops nothing.
 * - a held child add leaves a relation only where a sent removal mark names it (its signed list of
 *   the adds its author removed) and the mark's signed context covers it (the remover had seen it,
 *   so no author can name adds yet to come). A relation sent without a child its remover kept, or
 *   an empty relation with a context covering every child, removes nothing; nor does a mark
 *   signed before the child was added.
 * - a legacy mark (signed before marks named what they removed, so its hash has no list and no
 *   list can have been stripped from it) proves what it always did: any add its signed context
 *   covers. It cannot tell a removed child from a kept one (docs/security.md).
 *
 * `held` gives the register's writes held here (attribute changes only).
 */
export function evidencedContext(
  change: ModelChange,
  context: CausalContext,
  evidence: RemovalEvidence,
  held: () => readonly AttributeWrite[],
): CausalContext {
  if (change.kind === 'attribute') {
    let latest: AttributeWrite | undefined;
    for (const write of change.writes) if (!latest || compareWrites<AttributeValue>(write, latest) > 0) latest = write;
    return {
      covers(dot) {
        if (!latest || !context.covers(dot)) return false;
        const write = held().find((candidate) => candidate.dot.node === dot.node && candidate.dot.seq === dot.seq);
        return write !== undefined && compareWrites<AttributeValue>(latest, write) > 0;
      },
    };
  }
  if (change.kind === 'child-add') return context;
  const proofs: Array<{ readonly removed: readonly Dot[] | undefined; readonly signed: CausalContext }> = [];
  for (const mark of change.removals ?? []) {
    const signed = evidence(mark);
    if (signed) proofs.push({ removed: mark.removed, signed });
  }
  return {
    covers: (dot) =>
      context.covers(dot) && proofs.some(({ removed, signed }) => signed.covers(dot) && (removed === undefined || containsDot(removed, dot))),
  };
}
