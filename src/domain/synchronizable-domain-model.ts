import type { VersionVector } from '../crdt/version-vector.js';
import type {
  ApplyChangesResult,
  AttributeChange,
  AttributeValue,
  ChangeBatch,
  ConflictResolution,
  EntityState,
  ModelChange,
  ModelChangedDetail,
  ModelSnapshot,
} from './model-change.js';
import type { RemovalEvidence } from './removal-evidence.js';
import type { ModelDigest } from './state-digest.js';

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
  /** A digest of the entity states held (cached, updated per changed entity); equal states, equal digests. */
  digest(): ModelDigest;
  /** Brings the digest up to date for at most `maxEntities` changed entities; true once it is current (optional). */
  refreshDigest?(maxEntities: number): boolean;
  /** The digest's bucket hashes in bucket order; compare two lists with `differingBuckets`. */
  digestBuckets(): string[];
  /** `[oid, hash]` of every entity in `buckets`, sorted by oid: which entities of a differing bucket differ. */
  entityDigestsInBuckets(buckets: readonly number[]): Array<readonly [oid: string, hash: string]>;
  /** The states of the entities in `buckets`, sorted by oid, for a peer whose buckets differ. */
  entityStatesInBuckets(buckets: readonly number[]): EntityState[];
  /**
   * Joins another replica's entity states for a repair, with its version (untrusted input,
   * validated; never throws). `options.evidence` as for `applyChanges`.
   */
  repairEntities(states: readonly unknown[], version: VersionVector, options?: ApplyChangesOptions): ApplyChangesResult;
  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
}
