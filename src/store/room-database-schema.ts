import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { VersionVectorJSON } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { CHUNK_TARGET_ENTITIES, type ChunkEntry, type ChunkRecord, NodeTable, chunkRecords, encodeEntity } from './entity-chunks.js';
import type { LogRecord } from './entity-log.js';
import { type QuarantinedRecord, entityRecordProblem } from './quarantine.js';
import type { RoomMetadata, StoredIdentity } from './storage-adapter.js';

/**
 * The schema version this code writes. Raise it by one for every change of the stored format and
 * add a migration step below: an app update must open every older database, never wipe it.
 */
export const DB_VERSION = 7;

/** The database of a room: one per room per origin, shared by every tab of that room. */
export const roomDatabaseName = (roomId: string): string => `ednet-room-${roomId}`;

/** One model: its causal context and commit counter. */
export interface ModelRecord {
  readonly modelId: string;
  readonly version: VersionVectorJSON;
  readonly commit: number;
}

/** One entity's whole state, with the commit that last wrote it (schema versions 1–4; see `ChunkRecord` since). */
export interface EntityRecord {
  readonly modelId: string;
  readonly oid: string;
  readonly commit: number;
  readonly entity: EntityState;
}

/**
 * Change certificates, encoded (`encodeCertificate`), with the commit that last wrote them. A save
 * of one certificate writes it alone, keyed by a digest of its bytes (`certificateKey`); a save of
 * several writes them together in bundles keyed `@<commit>.<n>` (`bytes` a list, since version 7).
 */
export interface CertificateRecord {
  readonly modelId: string;
  readonly key: string;
  readonly commit: number;
  readonly bytes: Uint8Array | readonly Uint8Array[];
}

/** A damaged record kept aside, with an auto-incremented `id`. */
export interface QuarantineRecord extends QuarantinedRecord {
  readonly id?: number;
}

/**
 * The current (version 7) format, from which every store name, key and value type follows. Values
 * are read back leniently (`quarantine.ts`): what is stored may have been damaged since.
 */
export interface RoomDatabase extends DBSchema {
  models: { key: string; value: ModelRecord };
  chunks: { key: [string, string]; value: ChunkRecord; indexes: { 'by-commit': [string, number] } };
  log: { key: [string, number]; value: LogRecord };
  certificates: { key: [string, string]; value: CertificateRecord; indexes: { 'by-commit': [string, number] } };
  identities: { key: string; value: StoredIdentity };
  meta: { key: string; value: RoomMetadata };
  quarantine: { key: number; value: QuarantineRecord };
}

/** The key of the room's metadata record in `meta`. */
export const ROOM_META_KEY = 'room';

type UpgradeTransaction = IDBPTransaction<RoomDatabase, StoreNames<RoomDatabase>[], 'versionchange'>;

/**
 * Brings a database from `oldVersion` to `DB_VERSION`, one step per version, inside the upgrade
 * transaction. A new database runs every step from nothing. The returned promise rejects if a
 * step failed; the caller then aborts the upgrade, which leaves the old database untouched.
 */
export async function upgradeRoomDatabase(db: IDBPDatabase<RoomDatabase>, oldVersion: number, tx: UpgradeTransaction): Promise<void> {
  // Older steps address stores that the current schema type no longer describes.
  const raw = db as unknown as IDBPDatabase;
  const rawTx = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>;
  if (oldVersion < 1) createVersion1(raw);
  if (oldVersion < 2) await migrateToVersion2(raw, rawTx);
  if (oldVersion < 3) createVersion3(raw);
  if (oldVersion < 4) createVersion4(raw);
  if (oldVersion < 5) await migrateToVersion5(raw, rawTx);
  if (oldVersion < 6) createVersion6(raw);
  // Version 7 changes no store: it adds certificate bundles (`CertificateRecord`), which code of
  // version 6 would read as damaged certificates and keep aside. The version bump makes such code
  // stop at `outdated` instead.
}

/**
 * Version 1: `entities` keyed by `[modelId, oid]` holding `{modelId, oid, entity}`, and one `meta`
 * store whose `versions` record held every model's version vector (`modelId → vector`), whose
 * `identities` record held the node identities as an array, and whose `room` record held
 * `{createdAt}`.
 */
function createVersion1(db: IDBPDatabase): void {
  db.createObjectStore('entities', { keyPath: ['modelId', 'oid'] });
  const meta = db.createObjectStore('meta');
  void meta.put({ createdAt: Date.now() }, ROOM_META_KEY);
}

/**
 * Version 2 moves each model's version vector into its own `models` record with a commit counter
 * (so a save rewrites one small record, not every model's vector), stamps every entity with the
 * commit that wrote it and indexes that (so other tabs read only what changed), and gives node
 * identities their own store.
 */
async function migrateToVersion2(db: IDBPDatabase, tx: IDBPTransaction<unknown, string[], 'versionchange'>): Promise<void> {
  const models = db.createObjectStore('models', { keyPath: 'modelId' });
  const identities = db.createObjectStore('identities', { keyPath: 'nodeId' });
  const entities = tx.objectStore('entities');
  entities.createIndex('by-commit', ['modelId', 'commit']);
  const meta = tx.objectStore('meta');

  const versions = ((await meta.get('versions')) ?? {}) as Record<string, VersionVectorJSON>;
  for (const [modelId, version] of Object.entries(versions)) await models.put({ modelId, version, commit: 1 });
  const oldIdentities = ((await meta.get('identities')) ?? []) as Array<{ nodeId: string; reservedUpTo: number }>;
  for (const { nodeId, reservedUpTo } of oldIdentities) await identities.put({ nodeId, reservedUpTo, lastClaimedAt: 0 });
  const seen = new Set(Object.keys(versions));
  for (let cursor = await entities.openCursor(); cursor; cursor = await cursor.continue()) {
    const record = cursor.value as { modelId: string };
    await cursor.update({ ...record, commit: 1 });
    // Every model with entities gets a record, so its commit counter continues above 1.
    if (!seen.has(record.modelId)) {
      seen.add(record.modelId);
      await models.put({ modelId: record.modelId, version: {}, commit: 1 });
    }
  }
  await meta.delete('versions');
  await meta.delete('identities');
}

/**
 * Version 3 adds `certificates`: the change certificates of the items a model holds, written in
 * the same transaction as the entities they vouch for and indexed by commit like them, so other
 * tabs read only new ones. Nothing older changes: version 2 data held no certificates.
 */
function createVersion3(db: IDBPDatabase): void {
  const certificates = db.createObjectStore('certificates', { keyPath: ['modelId', 'key'] });
  certificates.createIndex('by-commit', ['modelId', 'commit']);
}

/**
 * Version 4 adds `quarantine`: records that could not be read (an entity stored as `null`, a
 * damaged version, reservation or metadata record) are moved here, with why and when, instead of
 * keeping the room from opening; nothing else changes.
 */
function createVersion4(db: IDBPDatabase): void {
  db.createObjectStore('quarantine', { keyPath: 'id', autoIncrement: true });
}

/**
 * Version 5 keeps a model's entities in chunk records of a few hundred, sorted by oid
 * (`entity-chunks.ts`), instead of one record per entity: opening a room reads a few strings
 * instead of cloning every object of every entity. Every entity moves into a chunk with the commit
 * that last wrote it, so partial loads of other tabs still see exactly what later commits wrote;
 * a record that holds no entity state at all (damaged) moves unchanged, as a loose entry, and is
 * found and kept aside by the next load as before. `entities` is deleted in the same upgrade
 * transaction: if anything fails, the upgrade aborts and the version 4 database stays as it was.
 */
async function migrateToVersion5(db: IDBPDatabase, tx: IDBPTransaction<unknown, string[], 'versionchange'>): Promise<void> {
  const chunks = db.createObjectStore('chunks', { keyPath: ['modelId', 'start'] });
  chunks.createIndex('by-commit', ['modelId', 'commit']);
  const byModel = new Map<string, { entries: ChunkEntry[]; table: NodeTable }>();
  // Keys `[modelId, oid]`: the records come sorted by model, then oid.
  for (const raw of (await tx.objectStore('entities').getAll()) as Array<Partial<EntityRecord>>) {
    const { modelId, oid, entity } = raw;
    if (typeof modelId !== 'string' || typeof oid !== 'string') continue;
    const commit = Number.isSafeInteger(raw.commit) && (raw.commit as number) >= 0 ? (raw.commit as number) : 1;
    let model = byModel.get(modelId);
    if (!model) byModel.set(modelId, (model = { entries: [], table: new NodeTable() }));
    const json = entityRecordProblem(oid, entity) === undefined ? encodeEntity(entity as EntityState, model.table) : undefined;
    model.entries.push(json === undefined ? { oid, commit, value: entity } : { oid, commit, json });
  }
  const store = tx.objectStore('chunks');
  const writes: Promise<unknown>[] = [];
  for (const [modelId, { entries, table }] of byModel) {
    for (let start = 0; start < entries.length; start += CHUNK_TARGET_ENTITIES) {
      const piece = entries.slice(start, start + CHUNK_TARGET_ENTITIES);
      const commit = piece.reduce((highest, entry) => Math.max(highest, entry.commit), 0);
      for (const record of chunkRecords(modelId, start === 0 ? '' : piece[0]!.oid, commit, piece, table.nodes)) writes.push(store.put(record));
    }
  }
  await Promise.all(writes);
  db.deleteObjectStore('entities');
}

/**
 * Version 6 adds `log`: small saves (live edits) are appended there, keyed by `[modelId, commit]`,
 * without reading or rewriting a chunk, and folded into the chunks later (`entity-log.ts`). Nothing
 * older changes: a version 5 database holds no log, and its chunks are read as before.
 */
function createVersion6(db: IDBPDatabase): void {
  db.createObjectStore('log', { keyPath: ['modelId', 'commit'] });
}
