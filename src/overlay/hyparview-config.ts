// HyParView's parameters in a module of their own: the node reads the active view's size (its
// connection limit) without loading the overlay, which it loads only once a peer is around.

/**
 * HyParView's parameters (Leitão, Pereira, Rodrigues: "HyParView: a membership protocol for
 * reliable gossip-based broadcast", DSN 2007). docs/protocol.md says why these values.
 */
export interface HyParViewConfig {
  /** Neighbors (open connections) kept; the paper's fanout + 1. Default 7. */
  readonly activeViewSize: number;
  /** Members remembered as replacements. Default 30. */
  readonly passiveViewSize: number;
  /** Hops of a FORWARD_JOIN walk before the last node takes the newcomer as neighbor (ARWL). Default 6. */
  readonly activeRandomWalkLength: number;
  /** At this remaining TTL a node of the walk keeps the newcomer in its passive view (PRWL). Default 3. */
  readonly passiveRandomWalkLength: number;
  /** Hops of a SHUFFLE walk. Default 6. */
  readonly shuffleRandomWalkLength: number;
  /** Active and passive members sent in one SHUFFLE. Default 3 and 4. */
  readonly shuffleActive: number;
  readonly shufflePassive: number;
  /** A NEIGHBOR request (which includes opening a connection) not answered by then failed. Default 20 s. */
  readonly neighborTimeoutMs: number;
  /**
   * After a low-priority NEIGHBOR was refused (its target was full), upkeep stops filling free
   * slots for this long: in a room where most views are full, asking again at every upkeep would
   * open and close a connection every few seconds. Failures are still repaired at once. Default 30 s.
   */
  readonly refillBackoffMs: number;
}

/** The defaults: the paper's values, with the active view one larger (7 connections per device). */
export const DEFAULT_HYPARVIEW_CONFIG: HyParViewConfig = {
  activeViewSize: 7,
  passiveViewSize: 30,
  activeRandomWalkLength: 6,
  passiveRandomWalkLength: 3,
  shuffleRandomWalkLength: 6,
  shuffleActive: 3,
  shufflePassive: 4,
  neighborTimeoutMs: 20_000,
  refillBackoffMs: 30_000,
};
