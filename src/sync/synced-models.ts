import type { NodeId } from '../crdt/dot.js';
import type { VersionVector } from '../crdt/index.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';

/**
 * What the engine must know of a model's storage (`ModelPersistence` fits): the version it may
 * claim to hold and send changes of, which is what is stored; and when that grows.
 */
export interface ModelDurability {
  claimableVersion(): VersionVector;
  onDurable(listener: (claimable: VersionVector) => void): () => void;
}

/** One registered model. The engine compares entries by identity to tell a re-registered model apart. */
export interface SyncedModel {
  readonly model: SynchronizableDomainModel;
  readonly durability: ModelDurability | undefined;
  /** Ends the engine's subscriptions to the model and its storage. */
  readonly unsubscribe: () => void;
}

/**
 * The models the engine syncs, and what this node may claim of each: the version it holds in
 * storage, its state digest where that is all it holds, and how many of its own operations peers
 * confirmed holding. Every part of the engine asks here before it claims or sends anything.
 */
export class SyncedModels {
  readonly #entries = new Map<string, SyncedModel>();
  /** Per model, the highest own seq some peer confirmed holding (this session or before). */
  readonly #acknowledgedOwnSeq = new Map<string, number>();

  constructor(private readonly nodeId: NodeId) {}

  get(modelId: string): SyncedModel | undefined {
    return this.#entries.get(modelId);
  }

  has(modelId: string): boolean {
    return this.#entries.has(modelId);
  }

  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  add(modelId: string, entry: SyncedModel): void {
    this.#entries.set(modelId, entry);
  }

  /** Unsubscribes and forgets `modelId`. */
  remove(modelId: string): void {
    this.#entries.get(modelId)?.unsubscribe();
    this.#entries.delete(modelId);
  }

  /** The version of `modelId` this node may claim and send changes of (what is stored). */
  claimable(modelId: string): VersionVector | undefined {
    const entry = this.#entries.get(modelId);
    return entry && (entry.durability?.claimableVersion() ?? entry.model.version);
  }

  /** Our digest of `modelId`, where this node holds exactly the version it claims (nothing unsaved). */
  ownDigest(modelId: string): string | undefined {
    const entry = this.#entries.get(modelId);
    if (!entry) return undefined;
    if (entry.durability && !entry.durability.claimableVersion().equals(entry.model.version)) return undefined;
    return entry.model.digest().root;
  }

  /** A peer holds `version`: our own operations in it count as delivered. */
  noteConfirmed(modelId: string, version: VersionVector): void {
    const own = this.#entries.get(modelId)?.model.version.get(this.nodeId) ?? 0;
    // A peer cannot hold more of ours than we made; a claim beyond that is ignored.
    const seq = Math.min(version.get(this.nodeId), own);
    if (seq > (this.#acknowledgedOwnSeq.get(modelId) ?? 0)) this.#acknowledgedOwnSeq.set(modelId, seq);
  }

  /** Own operations of `modelId` past the highest one any peer confirmed holding. */
  unsentChanges(modelId: string): number {
    const entry = this.#entries.get(modelId);
    if (!entry) return 0;
    return Math.max(0, entry.model.version.get(this.nodeId) - (this.#acknowledgedOwnSeq.get(modelId) ?? 0));
  }

  /** Peers had confirmed holding own changes of `modelId` up to `seq` before (e.g. from storage). */
  setAcknowledgedOwnChanges(modelId: string, seq: number): void {
    this.#acknowledgedOwnSeq.set(modelId, Math.max(seq, this.#acknowledgedOwnSeq.get(modelId) ?? 0));
  }
}
