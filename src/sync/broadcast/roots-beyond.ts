import type { NodeId } from '../../crdt/dot.js';
import type { VersionVector } from '../../crdt/index.js';

/**
 * The nodes of which `version` holds something `base` lacks: the writers (roots of broadcast
 * trees) whose changes a delta from `base` to `version` carries, or that `base` has not received.
 */
export function rootsBeyond(version: VersionVector, base: VersionVector): NodeId[] {
  const roots: NodeId[] = [];
  for (const node of version.nodes()) {
    if (version.get(node) > base.get(node) || version.extrasOf(node).some((seq) => !base.covers({ node, seq }))) roots.push(node);
  }
  return roots;
}
