/** Identifies a peer (one browser tab's node). Branded so it cannot be mixed up with other strings. */
export type NodeId = string & { readonly __brand: 'NodeId' };

/** Casts a string already known to be a node id (checked at the boundary) to `NodeId`. */
export const asNodeId = (id: string): NodeId => id as NodeId;

/**
 * One event: the `seq`-th operation made by `node`. Every register write, set add and set removal
 * has a unique dot, so a version vector (the causal context) can say exactly which it has seen.
 */
export interface Dot {
  readonly node: NodeId;
  readonly seq: number;
}

/** A hybrid logical clock reading. Ties between equal readings are broken by the writer's node id. */
export interface Timestamp {
  /** Wall-clock milliseconds (never behind any timestamp this clock has seen). */
  readonly ms: number;
  /** Counter that orders events within the same millisecond. */
  readonly c: number;
}

/** `"node:seq"`, a dot as a map key. */
export const dotKey = (dot: Dot): string => `${dot.node}:${dot.seq}`;
