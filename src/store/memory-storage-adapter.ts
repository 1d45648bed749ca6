import { type NodeId, isNodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { certificateKey } from './certificate-key.js';
import { joinStoredEntity } from './join-stored-entity.js';
import { Listeners } from '../util/listeners.js';
import { storeLogger } from './store-logger.js';
import {
  type ClaimsToForget,
  type QuarantineRequest,
  type QuarantinedRecord,
  type StorageProblem,
  type StorageProblemKind,
  entityRecordProblem,
  findCertificateKey,
  forgetClaims,
  highestStoredSeq,
  readModelRecord,
  readReservation,
  recoveredReservation,
  recoveryOf,
  sanitizeMetadata,
  screenStoredModel,
  stillHolds,
} from './quarantine.js';
import type { RoomMetadata, SequenceReservation, StorageAdapter, StoredIdentity, StoredModel } from './storage-adapter.js';
import { StorageError } from './storage-error.js';

// Values are kept as stored, unchecked (`unknown`), so tests can store damaged ones (`putRaw`) and
// every read goes through the same lenient checks as the IndexedDB adapter's.
interface MemoryModel {
  /** `{ version, commit }`, as in IndexedDB's `models` store. */
  record: unknown;
  readonly entities: Map<string, { readonly commit: number; readonly entity: unknown }>;
  readonly certificates: Map<string, { readonly commit: number; readonly bytes: unknown }>;
}

// What several adapters of one "room" share, like the tabs of a browser share a database.
interface MemoryRoom {
  readonly name: string;
  models: Map<string, MemoryModel>;
  identities: Map<string, unknown>;
  metadata: unknown;
  quarantine: QuarantinedRecord[];
  readonly adapters: Set<MemoryStorageAdapter>;
}

/** Where `MemoryStorageAdapter.putRaw` writes, one place per store of the IndexedDB schema. */
export type RawPlace =
  | { readonly store: 'models'; readonly modelId: string }
  | { readonly store: 'entities'; readonly modelId: string; readonly oid: string }
  | { readonly store: 'certificates'; readonly modelId: string; readonly key: string }
  | { readonly store: 'identities'; readonly nodeId: string }
  | { readonly store: 'meta' };

let rooms = 0;

/**
 * A `StorageAdapter` in memory, for tests and for apps that need no persistence. Values are
 * copied in and out (as IndexedDB would), and `openAnother()` gives a second adapter on the same
 * data, so two-tab behaviour can be tested without a browser.
 */
export class MemoryStorageAdapter implements StorageAdapter {
  readonly #room: MemoryRoom;
  readonly #externalChange = new Listeners<[string | null]>(storeLogger, 'external change');
  readonly #problem = new Listeners<[StorageError]>(storeLogger, 'storage problem');
  readonly #problems: StorageProblem[] = [];
  #closed = false;

  constructor(room?: MemoryRoom) {
    this.#room = room ?? { name: `memory-${++rooms}`, models: new Map(), identities: new Map(), metadata: {}, quarantine: [], adapters: new Set() };
    this.#room.adapters.add(this);
  }

  get name(): string {
    return this.#room.name;
  }

  /** Another adapter on the same data: a second tab of the same room. */
  openAnother(): MemoryStorageAdapter {
    return new MemoryStorageAdapter(this.#room);
  }

  get problems(): readonly StorageProblem[] {
    return this.#problems;
  }

  /**
   * Stores `value` as it is, unchecked, where IndexedDB would keep the record at `place`: for
   * tests of damaged storage (an entity's `entity` field, a certificate's bytes, a whole model,
   * identity or metadata record).
   */
  putRaw(place: RawPlace, value: unknown): void {
    if (place.store === 'identities') this.#room.identities.set(place.nodeId, structuredClone(value));
    else if (place.store === 'meta') this.#room.metadata = structuredClone(value);
    else {
      const model = this.#model(place.modelId);
      const commit = readModelRecord(model.record).commit;
      if (place.store === 'models') model.record = structuredClone(value);
      else if (place.store === 'entities') model.entities.set(place.oid, { commit, entity: structuredClone(value) });
      else model.certificates.set(place.key, { commit, bytes: structuredClone(value) });
    }
  }

  async load(modelId: string, sinceCommit = 0): Promise<StoredModel> {
    this.#checkOpen();
    const model = this.#room.models.get(modelId);
    if (!model) return { version: new VersionVector(), entities: [], commit: 0, certificates: [] };
    const entities = [...model.entities].filter(([, record]) => record.commit > sinceCommit).map(([oid, record]) => ({ oid, entity: structuredClone(record.entity) }));
    const certificates = [...model.certificates]
      .filter(([, record]) => record.commit > sinceCommit)
      .map(([key, record]) => ({ key, bytes: record.bytes instanceof Uint8Array ? record.bytes.slice() : structuredClone(record.bytes) }));
    return screenStoredModel(modelId, model.record, entities, certificates);
  }

  async merge(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates: readonly Uint8Array[] = []): Promise<number> {
    this.#checkOpen();
    // Everything below runs without awaiting, so it is one atomic step like an IDB transaction.
    const model = this.#model(modelId);
    const stored = readModelRecord(model.record);
    const found: StorageProblem[] = [];
    // A damaged stored version claims nothing: the join then keeps every stored dot.
    if (stored.problem) found.push(this.#keepAside('version', modelId, modelId, stored.problem, model.record));
    const commit = stored.commit + 1;
    const joined = entities.map((entity) => {
      const record = model.entities.get(entity.oid);
      const problem = record && entityRecordProblem(entity.oid, record.entity);
      if (problem) found.push(this.#keepAside('entity', modelId, entity.oid, problem, record.entity));
      // A damaged record holds nothing to join: nothing of it may drop what the model sends.
      if (problem) return structuredClone(joinStoredEntity(undefined, new VersionVector(), entity, version));
      return structuredClone(joinStoredEntity(record?.entity as EntityState | undefined, stored.version, entity, version));
    });
    for (const entity of joined) model.entities.set(entity.oid, { commit, entity });
    for (const bytes of certificates) model.certificates.set(certificateKey(bytes), { commit, bytes: bytes.slice() });
    model.record = { version: stored.version.mergeWith(version).toJSON(), commit };
    this.#report(found);
    this.#notifyOthers((adapter) => adapter.#externalChange.emit(modelId));
    return commit;
  }

  async quarantine(modelId: string, records: readonly QuarantineRequest[], forget: ClaimsToForget): Promise<StorageProblem[]> {
    this.#checkOpen();
    const model = this.#room.models.get(modelId);
    if (!model) return [];
    const found: StorageProblem[] = [];
    for (const request of records) {
      if (request.kind === 'version') {
        // Unless another tab wrote a valid version since (its claims are given up all the same).
        if (readModelRecord(model.record).problem) found.push(this.#keepAside('version', modelId, modelId, request.reason, model.record));
        continue;
      }
      const entries: Map<string, unknown> = request.kind === 'entity' ? model.entities : model.certificates;
      const key = request.key ?? findCertificateKey(model.certificates, request.bytes);
      const record = key === undefined ? undefined : (entries.get(key) as { entity?: unknown; bytes?: unknown } | undefined);
      if (!record || key === undefined) continue;
      const value = request.kind === 'entity' ? record.entity : record.bytes;
      // A tab may have stored a healthy copy since the load: that one stays.
      if ('value' in request && !stillHolds(value, request.value)) continue;
      entries.delete(key);
      found.push(this.#keepAside(request.kind, modelId, key, request.reason, value));
    }
    const stored = readModelRecord(model.record);
    model.record = { version: forgetClaims(stored.version, forget).toJSON(), commit: stored.commit };
    this.#report(found);
    return found;
  }

  async quarantined(): Promise<QuarantinedRecord[]> {
    this.#checkOpen();
    return structuredClone(this.#room.quarantine);
  }

  async identities(): Promise<StoredIdentity[]> {
    this.#checkOpen();
    const identities: StoredIdentity[] = [];
    for (const [key, raw] of this.#room.identities) {
      const record = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<StoredIdentity>;
      if (!isNodeId(record.nodeId) || record.nodeId !== key) {
        this.#reportOnce('identity', key, 'the identity record has no valid node id', recoveryOf('identity'));
        continue;
      }
      const lastClaimedAt = Number.isFinite(record.lastClaimedAt) ? record.lastClaimedAt! : 0;
      identities.push({ nodeId: record.nodeId, reservedUpTo: readReservation(record) ?? 0, lastClaimedAt });
    }
    return identities;
  }

  async reserveSequences(nodeId: NodeId, above: number, count: number): Promise<SequenceReservation> {
    this.#checkOpen();
    const raw = this.#room.identities.get(nodeId);
    let previous = raw === undefined ? 0 : readReservation(raw);
    if (previous === undefined) {
      const models = [...this.#room.models.values()];
      const highest = highestStoredSeq(nodeId, models.map((model) => model.record), models.flatMap((model) => [...model.entities.values()].map((record) => record.entity)));
      previous = highest + count;
      this.#report([this.#keepAside('reservation', null, nodeId, 'the sequence reservation is damaged', raw, recoveredReservation(previous))]);
    }
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
    const { metadata, problem } = sanitizeMetadata(this.#room.metadata);
    if (problem) {
      this.#report([this.#keepAside('metadata', null, 'room', problem, this.#room.metadata)]);
      this.#room.metadata = structuredClone(metadata);
    }
    return structuredClone(metadata);
  }

  async writeMetadata(patch: RoomMetadata): Promise<void> {
    this.#checkOpen();
    this.#room.metadata = { ...sanitizeMetadata(this.#room.metadata).metadata, ...structuredClone(patch) };
  }

  async deleteRoom(): Promise<void> {
    this.#checkOpen();
    this.#room.models = new Map();
    this.#room.identities = new Map();
    this.#room.metadata = {};
    this.#room.quarantine = [];
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

  #model(modelId: string): MemoryModel {
    let model = this.#room.models.get(modelId);
    if (!model) this.#room.models.set(modelId, (model = { record: { version: {}, commit: 0 }, entities: new Map(), certificates: new Map() }));
    return model;
  }

  // Puts a damaged record into the quarantine store and returns its problem.
  #keepAside(kind: StorageProblemKind, modelId: string | null, key: string, reason: string, value: unknown, recovery = recoveryOf(kind)): StorageProblem {
    const problem: StorageProblem = { kind, modelId, key, reason, recovery, at: Date.now() };
    this.#room.quarantine.push({ ...problem, value: structuredClone(value) });
    return problem;
  }

  #report(found: readonly StorageProblem[]): void {
    this.#problems.push(...found);
  }

  // A damaged record left in place (it is never used) is reported once per adapter.
  #reportOnce(kind: StorageProblem['kind'], key: string, reason: string, recovery: string): void {
    if (!this.#problems.some((problem) => problem.kind === kind && problem.key === key))
      this.#problems.push({ kind, modelId: null, key, reason, recovery, at: Date.now() });
  }

  // Other tabs hear about a commit asynchronously, as over a BroadcastChannel.
  #notifyOthers(notify: (adapter: MemoryStorageAdapter) => void): void {
    for (const adapter of this.#room.adapters) if (adapter !== this) queueMicrotask(() => notify(adapter));
  }
}

