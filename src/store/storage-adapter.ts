import type { NodeId } from '../crdt/dot.js';
import type { VersionVector } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import type { ClaimsToForget, DamagedRecord, QuarantineRequest, QuarantinedRecord, StorageProblem } from './quarantine.js';
import type { StorageError } from './storage-error.js';

/** What is stored for one model, or the part of it written after some commit. */
export interface StoredModel {
  /** The model's causal context: every dot the stored entities reflect. */
  readonly version: VersionVector;
  readonly entities: EntityState[];
  /** Number of the model's last commit, 0 if nothing was ever saved. */
  readonly commit: number;
  /**
   * The encoded change certificates stored with the entities (every one, or those written after
   * `sinceCommit`). Opaque bytes here: the storage layer neither parses nor checks them.
   */
  readonly certificates: Uint8Array[];
  /**
   * Records left out because they could not be read at all (an entity of the wrong shape, a
   * certificate that is not bytes, a damaged version: `version` then claims nothing). The caller
   * moves them aside with `quarantine`.
   */
  readonly damaged?: readonly DamagedRecord[];
}

/** One node identity of this room in this browser (a tab claims one while it is open). */
export interface StoredIdentity {
  readonly nodeId: NodeId;
  /** Own sequence numbers up to here may have been used: a new session starts above. */
  readonly reservedUpTo: number;
  readonly lastClaimedAt: number;
}

/** The result of `reserveSequences`: the reservation before and after. */
export interface SequenceReservation {
  readonly previous: number;
  readonly reservedUpTo: number;
}

/** Small facts about the room's storage. */
export interface RoomMetadata {
  readonly createdAt?: number;
  /** Whether the browser granted persistent storage (`navigator.storage.persist()`). */
  readonly persistenceGranted?: boolean | 'unsupported';
  /** Per model, the own sequence number up to which peers confirmed holding our changes. */
  readonly acknowledgedOwnSeq?: Readonly<Record<string, number>>;
  /** When a peer of the room first connected to this device (ms since the epoch): the room is held here from then on. */
  readonly firstPeerAt?: number;
}

/** What each part of the storage port has: the room's storage name, its problems, and closing. */
export interface RoomStorage {
  /** Names the room's storage; used for tab-wide lock and channel names. */
  readonly name: string;
  /**
   * Damaged records this adapter found and worked around since it was created (kept aside,
   * replaced by defaults, a reservation made afresh), oldest first: state for the UI to read.
   */
  readonly problems: readonly StorageProblem[];
  /** Closes this adapter; later calls reject with `closed`. */
  close(): void;
  /** Problems not tied to one call: `blocked`, `deleted`, `outdated`. Returns the unsubscribe function. */
  onProblem(listener: (problem: StorageError) => void): () => void;
}

/** Storage of a room's models: what `ModelPersistence` needs. */
export interface ModelStorage extends RoomStorage {
  /**
   * Reads a model in one transaction: everything, or with `sinceCommit` only the entities and
   * certificates written by later commits (the version and commit are always the current ones).
   */
  load(modelId: string, sinceCommit?: number): Promise<StoredModel>;
  /**
   * Joins `entities` (whose causal context is `version`) into what is stored, and stores
   * `certificates` (encoded; one stored twice is kept once), all in one read–merge–write
   * transaction: concurrent writers lose nothing, and an entity is never stored without the
   * certificates written with it. Returns the commit number it made.
   */
  merge(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates?: readonly Uint8Array[]): Promise<number>;
  /**
   * Deletes stored certificates (as encoded; matched by content, unknown ones ignored): those whose
   * items the stored state no longer holds. Not a commit: no other tab needs to read anything.
   */
  forgetCertificates(modelId: string, certificates: readonly Uint8Array[]): Promise<void>;
  /**
   * Moves damaged records of a model into the quarantine store (kept aside, never deleted) and, in
   * the same transaction, gives up the stored version's `forget` claims, so peers send what was
   * lost again. Records already gone are skipped. Returns the problems recorded (also in `problems`).
   */
  quarantine(modelId: string, records: readonly QuarantineRequest[], forget: ClaimsToForget): Promise<StorageProblem[]>;
  /** Every record kept aside in the quarantine store, oldest first. */
  quarantined(): Promise<QuarantinedRecord[]>;
  /**
   * Another adapter (usually another tab) committed to `modelId`, or to anything (`null`, e.g.
   * after this tab was frozen). Returns the unsubscribe function.
   */
  onExternalChange(listener: (modelId: string | null) => void): () => void;
}

/** Storage of the node identities used in a room and their reserved sequences: what `NodeIdentity` needs. */
export interface IdentityStorage extends RoomStorage {
  /** Every node identity stored for this room (records without a valid node id are left out and reported). */
  identities(): Promise<StoredIdentity[]>;
  /**
   * Atomically sets `nodeId`'s reservation to `max(stored, above) + count` (creating the identity
   * if new) and returns the reservation before and after. A damaged stored reservation is kept
   * aside and replaced by one a block beyond every seq of `nodeId` found in storage (reported in
   * `problems`).
   */
  reserveSequences(nodeId: NodeId, above: number, count: number): Promise<SequenceReservation>;
}

/** Storage of a room's metadata. */
export interface MetadataStorage {
  /** The metadata; a damaged record is kept aside, replaced by what of it was valid, and reported in `problems`. */
  readMetadata(): Promise<RoomMetadata>;
  /** Shallow-merges `patch` into the metadata. */
  writeMetadata(patch: RoomMetadata): Promise<void>;
}

/**
 * The storage port: one room's models, node identities and metadata. Every write is atomic, and
 * its promise resolves only once it is durable; a failure rejects with a `StorageError` and
 * leaves the stored data as it was. Several adapters may open the same room at once (tabs).
 * Its consumers take only the part they use (`ModelStorage`, `IdentityStorage`, `MetadataStorage`).
 */
export interface StorageAdapter extends ModelStorage, IdentityStorage, MetadataStorage {
  /** Deletes everything stored for the room; other open adapters report `deleted`. */
  deleteRoom(): Promise<void>;
}
