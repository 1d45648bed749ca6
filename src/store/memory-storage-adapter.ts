import type { NodeId } from '../crdt/dot.js';
import { VersionVector, type VersionVectorJSON } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { certificateKey } from './certificate-key.js';
import { joinStoredEntity } from './join-stored-entity.js';
import { ListenerSet } from './listener-set.js';
import type { RoomMetadata, SequenceReservation, StorageAdapter, StoredIdentity, StoredModel } from './storage-adapter.js';
import { StorageError } from './storage-error.js';

interface MemoryModel {
  version: VersionVectorJSON;
  commit: number;
  readonly entities: Map<string, { readonly commit: number; readonly entity: EntityState }>;
  readonly certificates: Map<string, { readonly commit: number; readonly bytes: Uint8Array }>;
}

// What several adapters of one "room" share, like the tabs of a browser share a database.
interface MemoryRoom {
  readonly name: string;
  models: Map<string, MemoryModel>;
  identities: Map<NodeId, StoredIdentity>;
  metadata: RoomMetadata;
  readonly adapters: Set<MemoryStorageAdapter>;
}

let rooms = 0;

/**
 * A `StorageAdapter` in memory, for tests and for apps that need no persistence. Values are
 * copied in and out (as IndexedDB would), and `openAnother()` gives a second adapter on the same
 * data, so two-tab behaviour can be tested without a browser.
 */
export class MemoryStorageAdapter implements StorageAdapter {
  readonly #room: MemoryRoom;
  readonly #externalChange = new ListenerSet<string | null>();
  readonly #problem = new ListenerSet<StorageError>();
  #closed = false;

  constructor(room?: MemoryRoom) {
    this.#room = room ?? { name: `memory-${++rooms}`, models: new Map(), identities: new Map(), metadata: {}, adapters: new Set() };
    this.#room.adapters.add(this);
  }

  get name(): string {
    return this.#room.name;
  }

  /** Another adapter on the same data: a second tab of the same room. */
  openAnother(): MemoryStorageAdapter {
    return new MemoryStorageAdapter(this.#room);
  }

  async load(modelId: string, sinceCommit = 0): Promise<StoredModel> {
    this.#checkOpen();
    const model = this.#room.models.get(modelId);
    if (!model) return { version: new VersionVector(), entities: [], commit: 0, certificates: [] };
    const entities: EntityState[] = [];
    for (const record of model.entities.values()) if (record.commit > sinceCommit) entities.push(structuredClone(record.entity));
    const certificates: Uint8Array[] = [];
    for (const record of model.certificates.values()) if (record.commit > sinceCommit) certificates.push(record.bytes.slice());
    return { version: VersionVector.fromJSON(model.version), entities, commit: model.commit, certificates };
  }

  async merge(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates: readonly Uint8Array[] = []): Promise<number> {
    this.#checkOpen();
    // Everything below runs without awaiting, so it is one atomic step like an IDB transaction.
    let model = this.#room.models.get(modelId);
    if (!model) this.#room.models.set(modelId, (model = { version: {}, commit: 0, entities: new Map(), certificates: new Map() }));
    const storedVersion = VersionVector.fromJSON(model.version);
    const commit = model.commit + 1;
    const joined = entities.map((entity) => {
      const stored = model.entities.get(entity.oid)?.entity;
      return structuredClone(joinStoredEntity(stored, storedVersion, entity, version));
    });
    for (const entity of joined) model.entities.set(entity.oid, { commit, entity });
    for (const bytes of certificates) model.certificates.set(certificateKey(bytes), { commit, bytes: bytes.slice() });
    model.version = storedVersion.mergeWith(version).toJSON();
    model.commit = commit;
    this.#notifyOthers((adapter) => adapter.#externalChange.emit(modelId));
    return commit;
  }

  async identities(): Promise<StoredIdentity[]> {
    this.#checkOpen();
    return [...this.#room.identities.values()].map((identity) => ({ ...identity }));
  }

  async reserveSequences(nodeId: NodeId, above: number, count: number): Promise<SequenceReservation> {
    this.#checkOpen();
    const previous = this.#room.identities.get(nodeId)?.reservedUpTo ?? 0;
    const reservedUpTo = Math.max(previous, above) + count;
    this.#room.identities.set(nodeId, { nodeId, reservedUpTo, lastClaimedAt: Date.now() });
    return { previous, reservedUpTo };
  }

  async forgetCertificates(modelId: string, certificates: readonly Uint8Array[]): Promise<void> {
    this.#checkOpen();
    const model = this.#room.models.get(modelId);
    for (const bytes of certificates) model?.certificates.delete(certificateKey(bytes));
  }

  async readMetadata(): Promise<RoomMetadata> {
    this.#checkOpen();
    return structuredClone(this.#room.metadata);
  }

  async writeMetadata(patch: RoomMetadata): Promise<void> {
    this.#checkOpen();
    this.#room.metadata = { ...this.#room.metadata, ...structuredClone(patch) };
  }

  async deleteRoom(): Promise<void> {
    this.#checkOpen();
    this.#room.models = new Map();
    this.#room.identities = new Map();
    this.#room.metadata = {};
    this.#notifyOthers((adapter) => adapter.#problem.emit(new StorageError('deleted')));
  }

  close(): void {
    this.#closed = true;
    this.#room.adapters.delete(this);
    this.#externalChange.clear();
    this.#problem.clear();
  }

  onExternalChange(listener: (modelId: string | null) => void): () => void {
    return this.#externalChange.add(listener);
  }

  onProblem(listener: (problem: StorageError) => void): () => void {
    return this.#problem.add(listener);
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageError('closed');
  }

  // Other tabs hear about a commit asynchronously, as over a BroadcastChannel.
  #notifyOthers(notify: (adapter: MemoryStorageAdapter) => void): void {
    for (const adapter of this.#room.adapters) if (adapter !== this) queueMicrotask(() => notify(adapter));
  }
}
