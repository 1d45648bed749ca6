import type { VersionVector } from '../crdt/version-vector.js';
import type {
  ApplyChangesResult,
  AttributeChange,
  AttributeValue,
  ChangeBatch,
  ConflictResolution,
  ModelChange,
  ModelChangedDetail,
  ModelSnapshot,
} from './model-change.js';
import type { RemovalEvidence } from './removal-evidence.js';

/** Options of `applyChanges` and `initializeFromSnapshot`. */
export interface ApplyChangesOptions {
  /**
   * Where given (signed rooms), held state is dropped only on signed evidence carried by the
   * change itself, never on the sender's context alone (see `evidencedContext`).
   */
  readonly evidence?: RemovalEvidence;
}

/**
 * The seed's `SynchronizableDomainModel`: what the synchronization engine needs from a model.
 * Calls are synchronous: a model lives in memory, and persistence and network are other layers.
 */
export interface SynchronizableDomainModel {
  readonly modelId: string;
  /** What this replica has seen (its causal context). A copy: mutating it changes nothing. */
  readonly version: VersionVector;
  /** Every change the holder of `since` lacks. Cost is proportional to those changes, not the model. */
  getChangesSince(since: VersionVector): ModelChange[];
  /** `getChangesSince` wrapped with `since` and this replica's version, ready to send. */
  getDelta(since: VersionVector): ChangeBatch;
  /** Merges changes from a peer. Plain arrays are applied without adopting any sender context. */
  applyChanges(changes: ChangeBatch | readonly ModelChange[], options?: ApplyChangesOptions): ApplyChangesResult;
  /**
   * Settles conflicts on the registers named by `conflictingChanges` (attribute changes). For
   * each, `choose` picks the value (default: keep the shown winner); the pick becomes a new write
   * that supersedes every concurrent write.
   */
  resolveConflicts(
    conflictingChanges: readonly ModelChange[],
    choose?: (change: AttributeChange) => AttributeValue,
  ): ConflictResolution;
  getSnapshot(): ModelSnapshot;
  /** Merges a snapshot of this model (never discards local state); false for another model's. */
  initializeFromSnapshot(snapshot: ModelSnapshot, options?: ApplyChangesOptions): boolean;
  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
}
