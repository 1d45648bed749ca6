import { ID_PATTERN, isId } from '../util/ids.js';
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

/** Node ids are ids like every other (`ID_PATTERN`: no `:`, so `dotKey` is unambiguous). */
export const NODE_ID_PATTERN = ID_PATTERN;

/** True for a well-formed node id. `__proto__` is refused because ids become object keys on the wire. */
export const isNodeId = (value: unknown): value is NodeId => isId(value);

/** True for a positive safe integer, the only valid sequence number. */
export const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** Total order on dots: by node id, then sequence number. */
export const compareDots = (a: Dot, b: Dot): number =>
  a.node < b.node ? -1 : a.node > b.node ? 1 : a.seq - b.seq;

/** Anything that can say whether it has seen a dot: a `VersionVector`, or the dots of one change. */
export interface CausalContext {
  covers(dot: Dot): boolean;
}
