import type { NodeId } from '../../../src/crdt/dot.js';
import type { VersionVector } from '../../../src/crdt/version-vector.js';
import type { EntityState } from '../../../src/domain/model-change.js';
import type { MemoryStorageAdapter } from '../../../src/store/memory-storage-adapter.js';
import type { RoomMetadata, SequenceReservation, StorageAdapter, StoredIdentity, StoredModel } from '../../../src/store/storage-adapter.js';
import { StorageError } from '../../../src/store/storage-error.js';
import type { ClaimsToForget, QuarantinedRecord, QuarantineRequest, StorageProblem } from '../../../src/store/quarantine.js';

/** One write waiting to commit: `commit` runs it on the real adapter, `fail` rejects it unapplied. */
interface PendingWrite {
  readonly kind: 'merge' | 'reserve' | 'metadata' | 'forget' | 'quarantine';
  readonly commit: () => Promise<void>;
  readonly fail: (error: StorageError) => void;
}

/**
 * A `MemoryStorageAdapter` whose writes do not commit by themselves: each waits, in order, until
 * the simulation commits or fails it, like an IndexedDB transaction that has not finished yet.
 * `crash()` is the process dying: every write not yet committed is gone (its promise never
 * settles, as nobody is left to hear it) and the adapter is closed. Reads see committed data only.
 * `onCommitted` hears the entities and version of every committed merge (the simulation's record
 * of what was saved).
 */
export class CrashableStorage implements StorageAdapter {
  readonly #pending: PendingWrite[] = [];
  #crashed = false;

  constructor(
    private readonly inner: MemoryStorageAdapter,
    private readonly onCommitted: (entities: readonly EntityState[], version: VersionVector) => void,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  /** Writes waiting to commit. */
  get pendingWrites(): number {
    return this.#pending.length;
  }

  /** Commits the oldest waiting write; false if there was none. */
  async commitNext(): Promise<boolean> {
    const write = this.#pending.shift();
    if (!write) return false;
    await write.commit();
    return true;
  }

  /** Fails the oldest waiting write (nothing of it is stored); false if there was none. */
  failNext(): boolean {
    const write = this.#pending.shift();
    if (!write) return false;
    write.fail(new StorageError('unknown', 'simulated storage failure'));
    return true;
  }

  /** The process died: waiting writes are lost, the adapter is closed. */
  crash(): void {
    this.#crashed = true;
    this.#pending.length = 0;
    this.inner.close();
  }

  load(modelId: string, sinceCommit?: number): Promise<StoredModel> {
    return this.inner.load(modelId, sinceCommit);
  }

  merge(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates?: readonly Uint8Array[]): Promise<number> {
    return this.#write('merge', async () => {
      const commit = await this.inner.merge(modelId, entities, version, certificates);
      this.onCommitted(entities, version);
      return commit;
    });
  }

  quarantine(modelId: string, records: readonly QuarantineRequest[], forget: ClaimsToForget): Promise<StorageProblem[]> {
    return this.#write('quarantine', () => this.inner.quarantine(modelId, records, forget));
  }

  quarantined(): Promise<QuarantinedRecord[]> {
    return this.inner.quarantined();
  }

  get problems(): readonly StorageProblem[] {
    return this.inner.problems;
  }

  forgetCertificates(modelId: string, certificates: readonly Uint8Array[]): Promise<void> {
    return this.#write('forget', () => this.inner.forgetCertificates(modelId, certificates));
  }

  identities(): Promise<StoredIdentity[]> {
    return this.inner.identities();
  }

  reserveSequences(nodeId: NodeId, above: number, count: number): Promise<SequenceReservation> {
    return this.#write('reserve', () => this.inner.reserveSequences(nodeId, above, count));
  }

  readMetadata(): Promise<RoomMetadata> {
    return this.inner.readMetadata();
  }

  writeMetadata(patch: RoomMetadata): Promise<void> {
    return this.#write('metadata', () => this.inner.writeMetadata(patch));
  }

  deleteRoom(): Promise<void> {
    return Promise.reject(new Error('the fault simulation never deletes a room'));
  }

  close(): void {
    this.inner.close();
  }

  onExternalChange(listener: (modelId: string | null) => void): () => void {
    return this.inner.onExternalChange(listener);
  }

  onProblem(listener: (problem: StorageError) => void): () => void {
    return this.inner.onProblem(listener);
  }

  #write<T>(kind: PendingWrite['kind'], run: () => Promise<T>): Promise<T> {
    if (this.#crashed) return Promise.reject(new StorageError('closed'));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        kind,
        commit: () => run().then(resolve, reject),
        fail: reject,
      });
    });
  }
}
