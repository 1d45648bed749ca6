import { type IDBPDatabase, type IDBPTransaction, deleteDB, openDB, unwrap } from 'idb';
import { type NodeId, isNodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { certificateKey } from './certificate-key.js';
import { bundleRange, certificateRecords, parseMemberKey, storedCertificates } from './certificate-records.js';
import { type ChunkEntry, NodeTable, chunkEntries, chunkIndexOf, chunkLabel, chunkRecords, decodeEntry, encodeEntity, entitiesOfChunks } from './entity-chunks.js';
import { type LogStep, logLabel, logRecord, readLog, readLogRecord, replayLog } from './entity-log.js';
import { joinStoredEntity } from './join-stored-entity.js';
import { Listeners } from '../util/listeners.js';
import { type Timers, globalTimers } from '../util/timers.js';
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
import {
  DB_VERSION,
  type QuarantineRecord,
  ROOM_META_KEY,
  type RoomDatabase,
  roomDatabaseName,
  upgradeRoomDatabase,
} from './room-database-schema.js';
import type { RoomMetadata, SequenceReservation, StorageAdapter, StoredIdentity, StoredModel } from './storage-adapter.js';
import { StorageError, toStorageError } from './storage-error.js';

/** Options of `IndexedDbStorageAdapter`. */
export interface IndexedDbStorageAdapterOptions {
  readonly roomId: string;
  /** Defaults to `roomDatabaseName(roomId)`; tests pass a unique name. */
  readonly dbName?: string;
  /**
   * Commit durability. `strict` (the default) resolves a save only once the browser flushed it to
   * disk, so "saved" survives a power cut, not only a closed tab.
   */
  readonly durability?: IDBTransactionDurability;
  /**
   * A save reads, joins and writes at most this many entities in one task (all in one
   * transaction), so saving a large arrival never holds the page long. Default 100 (a join and
   * a structured clone cost about 0.1–0.3 ms per entity in Chromium).
   */
  readonly entitiesPerTask?: number;
  /** Called with the number of entities each such task joined, or encoded for writing (tests count them). */
  readonly onSaveTask?: (entities: number) => void;
  /**
   * The change log is folded into the chunks once no save was appended to it for this long
   * (default 250 ms), and at once when this adapter appended `LOG_FOLD_AT` records since its last
   * fold. A fold is one transaction that competes with saves, so it waits for a pause.
   */
  readonly foldDelayMs?: number;
  /** Where the fold timer runs (default the global timers). */
  readonly timers?: Timers;
}

const ENTITIES_PER_TASK = 100;
/**
 * Saves of up to this many entities are appended to the log (`entity-log.ts`) instead of joined
 * into the chunks: live edits, small deltas from peers. Larger saves read their chunks anyway.
 */
const LOG_ENTITIES = 32;
/** Records this adapter appends before it folds without waiting for a pause. */
const LOG_FOLD_AT = 32;
/** After this many records appended without a successful fold (folds failing), saves join into the chunks, which folds. */
const LOG_MAX_RECORDS = 256;
const FOLD_DELAY_MS = 250;
/**
 * Chunk pieces put per task of a save. Each put clones its record on the page's thread, 0.3–1 ms
 * apiece on a loaded machine (the 235 certificates of a 10,000-entity arrival, one record each
 * then, put in one go, made a task of 70–80 ms; they are bundled since).
 */
const PUTS_PER_TASK = 24;

// A notice between tabs after a commit; validated on arrival since any script of the origin may post.
interface CommitNotice {
  readonly type: 'commit';
  readonly modelId: string;
}

/**
 * The `StorageAdapter` on IndexedDB (through `idb`). One database per room, shared by all tabs:
 * writes join into stored state inside one readwrite transaction, and each commit is announced on
 * a `BroadcastChannel` (`ednet-store-<database>`) so other tabs read what changed.
 *
 * Errors: calls reject with `StorageError` (`quota-exceeded`, `outdated`, `closed`, `corrupt`,
 * `unknown`) and leave stored data unchanged, since a failing transaction is aborted as a whole.
 * `onProblem` reports `blocked` (an upgrade waits for a tab holding an older version open),
 * `outdated` (a newer app version wants the database: this connection closes itself so the
 * upgrade can proceed) and `deleted` (the database was deleted or closed by the browser). After
 * `deleted`, the next call opens a fresh database.
 */
export class IndexedDbStorageAdapter implements StorageAdapter {
  readonly name: string;
  readonly #durability: IDBTransactionDurability;
  readonly #entitiesPerTask: number;
  readonly #onSaveTask: ((entities: number) => void) | undefined;
  readonly #foldDelayMs: number;
  readonly #timers: Timers;
  /** Per model: records appended since this adapter last folded, and the pending fold's timer. */
  readonly #unfolded = new Map<string, { appended: number; timer: unknown }>();
  readonly #externalChange = new Listeners<[string | null]>(storeLogger, 'external change');
  readonly #problem = new Listeners<[StorageError]>(storeLogger, 'storage problem');
  readonly #problems: StorageProblem[] = [];
  readonly #channel: BroadcastChannel | null;
  #opening: Promise<IDBPDatabase<RoomDatabase>> | null = null;
  #connection: IDBPDatabase<RoomDatabase> | null = null;
  #closed = false;

  constructor(options: IndexedDbStorageAdapterOptions) {
    this.name = options.dbName ?? roomDatabaseName(options.roomId);
    this.#durability = options.durability ?? 'strict';
    this.#entitiesPerTask = options.entitiesPerTask ?? ENTITIES_PER_TASK;
    this.#onSaveTask = options.onSaveTask;
    this.#foldDelayMs = options.foldDelayMs ?? FOLD_DELAY_MS;
    this.#timers = options.timers ?? globalTimers;
    if (!Number.isSafeInteger(this.#entitiesPerTask) || this.#entitiesPerTask < 1) throw new RangeError('entitiesPerTask must be a positive integer');
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`ednet-store-${this.name}`) : null;
    if (this.#channel) this.#channel.onmessage = (event) => this.#onNotice(event.data);
    if (typeof document !== 'undefined') document.addEventListener('resume', this.#onResume);
    if (typeof window !== 'undefined') window.addEventListener('pageshow', this.#onResume);
  }

  get problems(): readonly StorageProblem[] {
    return this.#problems;
  }

  /** Opens (creating or migrating) the database now rather than on first use, to surface errors early. */
  async open(): Promise<void> {
    await this.#database();
  }

  async load(modelId: string, sinceCommit = 0): Promise<StoredModel> {
    const loaded = await this.#run(async (db) => {
      const tx = db.transaction(['models', 'chunks', 'certificates', 'log'], 'readonly');
      const chunks = tx.objectStore('chunks');
      const certificates = tx.objectStore('certificates');
      const since = IDBKeyRange.bound([modelId, sinceCommit], [modelId, Infinity], true);
      const all = IDBKeyRange.bound([modelId], [modelId, []]);
      // One getAll per store over a key range: the load path costs one transaction, whatever the size.
      return inTransaction(tx, async () => {
        const [model, chunkRecords, certificateRecords, logged, keys] = await Promise.all([
          tx.objectStore('models').get(modelId),
          sinceCommit > 0 ? chunks.index('by-commit').getAll(since) : chunks.getAll(all),
          sinceCommit > 0 ? certificates.index('by-commit').getAll(since) : certificates.getAll(all),
          tx.objectStore('log').getAll(all),
          sinceCommit > 0 ? chunks.getAllKeys(all) : [],
        ]);
        const { records, damaged } = entitiesOfChunks(chunkRecords, sinceCommit);
        const steps = readLog(logged, damaged);
        let only: Set<string> | undefined;
        if (sinceCommit > 0) {
          // An entity a later log record wrote is handed out whole: its chunk entry (of any commit)
          // with every log record joined in, so the entry is read too if no later commit wrote it.
          only = new Set(records.map((record) => record.oid));
          const missing = new Set<string>();
          for (const step of steps) if (step.commit > sinceCommit) for (const entity of step.entities) if (!only.has(entity.oid)) missing.add(entity.oid);
          const starts = keys.map((key) => key[1]);
          const wanted = new Set<string>();
          for (const oid of missing) {
            only.add(oid);
            const index = chunkIndexOf(starts, oid);
            if (index >= 0) wanted.add(starts[index]!);
          }
          const starting = [...wanted];
          const read = await Promise.all(starting.map((start) => chunks.get([modelId, start])));
          for (const [i, chunk] of read.entries()) {
            const entries = chunkEntries(chunk);
            if (entries.problem !== undefined) {
              // Listed like a damaged chunk of a full load: the load then claims nothing, so what
              // is handed out without the chunk's part drops nothing the model holds.
              damaged.push({ kind: 'entity', key: chunkLabel(starting[i]!), chunk: starting[i]!, reason: entries.problem, value: chunk });
              continue;
            }
            for (const entry of entries.entries) {
              if (!missing.has(entry.oid)) continue;
              const parsed = decodeEntry(entry, entries.nodes);
              if (parsed.ok) records.push({ oid: entry.oid, entity: parsed.value });
            }
          }
        }
        replayLog(records, steps, only);
        return { model, records, damaged, certificateRecords, logged: logged.length };
      });
    });
    // Read leniently: a damaged record is left out and listed, never thrown (see `quarantine.ts`).
    const { model, records, damaged, certificateRecords, logged } = loaded;
    const screened = screenStoredModel(modelId, model, records, certificateRecords.flatMap(storedCertificates));
    // What an earlier session appended is folded once this one has settled (not before it opens).
    if (sinceCommit === 0 && logged > 0) this.#foldLater(modelId);
    return damaged.length ? { ...screened, damaged: [...(screened.damaged ?? []), ...damaged] } : screened;
  }

  async merge(
    modelId: string,
    entities: readonly EntityState[],
    incomingVersion: VersionVector,
    certificates: readonly Uint8Array[] = [],
  ): Promise<number> {
    // Read now: the caller may go on changing its vector while the transaction runs.
    const version = incomingVersion.clone();
    let commit: number | undefined;
    // (With no entity, a certificate or a version saved alone, nothing is joined: no log record either.)
    if (entities.length <= LOG_ENTITIES) commit = await this.#append(modelId, entities, version, certificates);
    if (commit === undefined) commit = await this.#joinIntoChunks(modelId, entities, version, certificates, false);
    this.#channel?.postMessage({ type: 'commit', modelId } satisfies CommitNotice);
    return commit;
  }

  /**
   * Folds the model's change log into its chunks in one transaction: the chunks rewritten and the
   * folded records deleted together, so a crash leaves either the log or its fold, never neither.
   * Not a commit (what is stored does not change, only where). Resolves with the records folded.
   */
  async fold(modelId: string): Promise<number> {
    const state = this.#unfolded.get(modelId);
    if (state) this.#timers.clearTimeout(state.timer);
    let folded = 0;
    await this.#joinIntoChunks(modelId, [], new VersionVector(), [], true, (count) => (folded = count));
    // Counted again from here (only once a fold succeeded: while folds fail, saves stop appending).
    if (state) state.appended = 0;
    return folded;
  }

  // A small save: one log record (none without entities) and the model record, after reading only
  // the model record. Undefined if it must be joined into the chunks instead (a damaged stored
  // version, which that path keeps aside; an entity that is not written compactly; a log that
  // folds have not kept short).
  async #append(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates: readonly Uint8Array[]): Promise<number | undefined> {
    if (entities.length && (this.#unfolded.get(modelId)?.appended ?? 0) >= LOG_MAX_RECORDS) return undefined;
    const commit = await this.#run((db) => appendToLog(unwrap(db), this.#durability, modelId, entities, version, certificates));
    if (commit === undefined || !entities.length) return commit;
    const state = this.#unfolded.get(modelId) ?? { appended: 0, timer: undefined };
    this.#unfolded.set(modelId, state);
    if (++state.appended >= LOG_FOLD_AT) void this.#foldQuietly(modelId);
    else this.#foldLater(modelId);
    return commit;
  }

  // (Re)arms the model's fold for when saves pause.
  #foldLater(modelId: string): void {
    if (this.#closed) return;
    const state = this.#unfolded.get(modelId) ?? { appended: 0, timer: undefined };
    this.#unfolded.set(modelId, state);
    this.#timers.clearTimeout(state.timer);
    state.timer = this.#timers.setTimeout(() => void this.#foldQuietly(modelId), this.#foldDelayMs);
  }

  // A fold that fails loses nothing (the log stays and is replayed); the next save or fold retries.
  async #foldQuietly(modelId: string): Promise<void> {
    if (this.#closed) return;
    await this.fold(modelId).catch((error: unknown) => storeLogger.warn('folding the change log failed', error));
  }

  /**
   * Joins `entities` (with the log, folded in the same transaction) into the chunks: one
   * read–merge–write transaction. With `fold`, only the log is joined and no commit is made.
   */
  async #joinIntoChunks(
    modelId: string,
    entities: readonly EntityState[],
    version: VersionVector,
    certificates: readonly Uint8Array[],
    fold: boolean,
    onFolded?: (records: number) => void,
  ): Promise<number> {
    let afterCommit: StorageProblem[] = [];
    const commit = await this.#run(async (db) => {
      const stores = certificates.length ? (['models', 'chunks', 'quarantine', 'log', 'certificates'] as const) : (['models', 'chunks', 'quarantine', 'log'] as const);
      const tx = db.transaction([...stores], 'readwrite', { durability: this.#durability });
      return inTransaction(tx, async () => {
        const aside = new KeepAside(tx.objectStore('quarantine'));
        const commit = await this.#joinInTransaction(tx, aside, modelId, entities, version, fold, onFolded);
        if (certificates.length) {
          const certificateStore = tx.objectStore('certificates');
          await Promise.all(certificateRecords(modelId, commit, certificates).map((record) => observed(certificateStore.put(record))));
        }
        afterCommit = aside.problems;
        return commit;
      });
    });
    this.#problems.push(...afterCommit);
    return commit;
  }

  // The body of `#joinIntoChunks` inside its transaction (also the start of `quarantine`, which
  // folds the log first). Resolves with the commit written (the current one for a fold).
  async #joinInTransaction(
    tx: IDBPTransaction<RoomDatabase, Array<'models' | 'chunks' | 'quarantine' | 'log' | 'certificates'>, 'readwrite'>,
    aside: KeepAside,
    modelId: string,
    entities: readonly EntityState[],
    version: VersionVector,
    fold: boolean,
    onFolded?: (records: number) => void,
  ): Promise<number> {
    const models = tx.objectStore('models');
    const chunks = tx.objectStore('chunks');
    const log = tx.objectStore('log');
    const all = IDBKeyRange.bound([modelId], [modelId, []]);
    const writes: Promise<unknown>[] = [];
    const [model, keys, logged] = await Promise.all([observed(models.get(modelId)), observed(chunks.getAllKeys(all)), observed(log.getAll(all))]);
    if (fold && !logged.length) return readModelRecord(model).commit;
    // A damaged stored version or entity is kept aside, not joined: a damaged version claims
    // nothing (the join then keeps every stored dot), a damaged entity counts as not stored.
    const read = readModelRecord(model);
    if (read.problem) aside.put('version', modelId, modelId, read.problem, model);
    const storedVersion = read.version;
    const commit = fold ? read.commit : read.commit + 1;
    let chunkLost = false;
    // The log first, in commit order, each record with its own contexts; then what is saved now.
    const steps: LogStep[] = [];
    for (const raw of logged) {
      const step = readLogRecord(raw);
      if ('problem' in step) {
        // Its entities cannot be joined: kept aside, and the stored version claims nothing.
        aside.put('entity', modelId, logLabel((raw as { commit: number }).commit), step.problem, raw);
        chunkLost = true;
      } else steps.push(step);
    }
    if (!fold) steps.push({ commit, entities, base: storedVersion, version });
    // Incoming entities by the chunk covering them (-1: below every chunk, a new first chunk).
    const starts = keys.map((key) => key[1]);
    const groups = new Map<number, Array<{ readonly entity: EntityState; readonly step: LogStep }>>();
    for (const step of steps) {
      for (const entity of step.entities) {
        const index = chunkIndexOf(starts, entity.oid);
        const group = groups.get(index);
        if (group) group.push({ entity, step });
        else groups.set(index, [{ entity, step }]);
      }
    }
    // At most `entitiesPerTask` joins per task. Work pauses on a pending request of the
    // transaction (its reply comes in a later task), so the page runs other tasks between
    // slices and the transaction stays open all the while: still all of the save or none of it.
    let joined = 0;
    let puts = 0;
    const pause = async (): Promise<void> => {
      if (joined) this.#onSaveTask?.(joined);
      joined = 0;
      await observed(models.count(modelId));
    };
    const order = [...groups.keys()].sort((a, b) => a - b);
    for (let next = 0; next < order.length; ) {
      // The chunks of one slice are read together.
      const slice: number[] = [];
      for (let incoming = 0; next < order.length && (!slice.length || (incoming + groups.get(order[next]!)!.length <= this.#entitiesPerTask && slice.length < 16)); next++) {
        slice.push(order[next]!);
        incoming += groups.get(order[next]!)!.length;
      }
      const stored = await Promise.all(slice.map((index) => (index < 0 ? undefined : observed(chunks.get([modelId, starts[index]!])))));
      for (const [k, index] of slice.entries()) {
        const start = index < 0 ? '' : starts[index]!;
        let existing: ChunkEntry[] = [];
        let nodes: readonly string[] = [];
        if (stored[k] !== undefined) {
          const entries = chunkEntries(stored[k]);
          if (entries.problem === undefined) ({ entries: existing, nodes } = entries);
          else {
            // Its entities cannot be told apart: kept aside whole, and the stored version claims nothing.
            aside.put('entity', modelId, chunkLabel(start), entries.problem, stored[k]);
            chunkLost = true;
          }
        }
        const byOid = new Map(existing.map((entry) => [entry.oid, entry]));
        const table = new NodeTable(nodes);
        // Each entity's state as joined so far, and the commit that last joined into it.
        const joinedStates = new Map<string, { state: EntityState; commit: number }>();
        let added = false;
        for (const { entity, step } of groups.get(index)!) {
          let state = joinedStates.get(entity.oid)?.state;
          let base = step.base;
          if (!joinedStates.has(entity.oid)) {
            const entry = byOid.get(entity.oid);
            if (entry) {
              const parsed = decodeEntry(entry, table.nodes);
              const value = parsed.ok ? parsed.value : entry.json;
              const damage = parsed.ok ? entityRecordProblem(entity.oid, value) : parsed.reason;
              if (damage) {
                aside.put('entity', modelId, entity.oid, damage, value);
                // A damaged record holds nothing to join: nothing of it may drop what the model sends.
                base = new VersionVector();
              } else state = value as EntityState;
            } else added = true;
          }
          joinedStates.set(entity.oid, { state: joinStoredEntity(state, base, entity, step.version), commit: step.commit });
          if (++joined >= this.#entitiesPerTask) await pause();
        }
        // Encoded at most `entitiesPerTask` per task too: a fresh peer's first save puts every
        // entity in one new chunk, and encoding thousands at once was one long task (66 ms of CPU
        // in a trace of a 10,000-entity arrival).
        let encoded = 0;
        for (const [oid, { state, commit: written }] of joinedStates) {
          const json = encodeEntity(state, table);
          byOid.set(oid, json === undefined ? { oid, commit: written, value: state } : { oid, commit: written, json });
          if (++encoded >= this.#entitiesPerTask) {
            this.#onSaveTask?.(encoded);
            encoded = 0;
            await observed(models.count(modelId));
          }
        }
        const all = [...byOid.values()];
        if (added) all.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
        // The chunk's commit is its latest entry's: a fold writes nothing new for other tabs to read.
        const chunkCommit = all.reduce((latest, entry) => Math.max(latest, entry.commit), 0);
        for (const record of chunkRecords(modelId, start, chunkCommit, all, table.nodes)) {
          writes.push(observed(chunks.put(record)));
          // A chunk that grew to many pieces (a first save) is encoded a few pieces per task.
          if (++puts % PUTS_PER_TASK === 0) await pause();
        }
      }
    }
    if (joined) this.#onSaveTask?.(joined);
    // The folded records go in the same transaction as the chunks that now hold them.
    if (logged.length) writes.push(observed(log.delete(all)));
    onFolded?.(logged.length);
    // Entities of a chunk or log record kept aside are no longer stored: their claims are given up (peers send them again).
    const stored = chunkLost ? new VersionVector() : storedVersion.mergeWith(version);
    writes.push(observed(models.put({ modelId, version: stored.toJSON(), commit })));
    writes.push(...aside.writes);
    await Promise.all(writes);
    return commit;
  }

  async quarantine(modelId: string, requests: readonly QuarantineRequest[], forget: ClaimsToForget): Promise<StorageProblem[]> {
    const found = await this.#run(async (db) => {
      const tx = db.transaction(['models', 'chunks', 'quarantine', 'log', 'certificates'], 'readwrite', { durability: this.#durability });
      return inTransaction(tx, async () => {
        const aside = new KeepAside(tx.objectStore('quarantine'));
        // The log is folded first, so every entity is in its chunk (a damaged log record is kept
        // aside by the fold itself, and reported with the rest).
        await this.#joinInTransaction(tx, aside, modelId, [], new VersionVector(), true);
        const models = tx.objectStore('models');
        const model = await models.get(modelId);
        if (model === undefined) return [];
        const certificates = tx.objectStore('certificates');
        const chunks = tx.objectStore('chunks');
        let byKey: Map<string, { bytes: unknown }> | undefined;
        let starts: string[] | undefined;
        for (const request of requests) {
          if (request.kind === 'version') {
            // Unless another tab wrote a valid version since (its claims are given up all the same).
            if (readModelRecord(model).problem) aside.put('version', modelId, modelId, request.reason, model);
            continue;
          }
          if (request.kind === 'entity') {
            if (request.chunk !== undefined) {
              // A chunk whose entities cannot be told apart: moved aside whole, unless rewritten healthy since.
              const record: unknown = await chunks.get([modelId, request.chunk]);
              if (record === undefined || chunkEntries(record).problem === undefined) continue;
              aside.put('entity', modelId, chunkLabel(request.chunk), request.reason, record);
              await chunks.delete([modelId, request.chunk]);
              continue;
            }
            if (request.key === undefined) continue;
            starts ??= (await chunks.getAllKeys(IDBKeyRange.bound([modelId], [modelId, []]))).map((key) => key[1]);
            const index = chunkIndexOf(starts, request.key);
            if (index < 0) continue;
            const record = await chunks.get([modelId, starts[index]!]);
            const read = record === undefined ? undefined : chunkEntries(record);
            const entries = read?.entries;
            const entry = entries?.find((candidate) => candidate.oid === request.key);
            if (!record || !entries || !entry) continue;
            const parsed = decodeEntry(entry, read!.nodes!);
            const value = parsed.ok ? parsed.value : entry.json;
            if ('value' in request && !stillHolds(value, request.value)) continue;
            aside.put('entity', modelId, request.key, request.reason, value);
            // Not a commit: the chunk keeps its commit number (nothing was written for other tabs to read).
            const rest = entries.filter((candidate) => candidate !== entry);
            for (const rewritten of chunkRecords(modelId, record.start, record.commit, rest, read!.nodes!)) await chunks.put(rewritten);
            continue;
          }
          let key = request.key;
          if (key === undefined) {
            byKey ??= new Map((await certificates.getAll(IDBKeyRange.bound([modelId], [modelId, []]))).flatMap(storedCertificates).map((stored) => [stored.key, stored]));
            key = findCertificateKey(byKey, request.bytes);
          }
          if (key === undefined) continue;
          const member = parseMemberKey(key);
          if (member) {
            // One certificate of a bundle: the bundle is written back without it. Found by what was
            // loaded where possible, since an earlier request may have taken out one before it.
            const bundle = await certificates.get([modelId, member.record]);
            if (bundle === undefined || !Array.isArray(bundle.bytes)) continue;
            const members = bundle.bytes as readonly unknown[];
            const at = 'value' in request ? members.findIndex((stored) => stillHolds(stored, request.value)) : member.position;
            if (at < 0 || at >= members.length) continue;
            aside.put(request.kind, modelId, key, request.reason, members[at]);
            const kept = members.filter((_, i) => i !== at) as Uint8Array[];
            await (kept.length ? certificates.put({ ...bundle, bytes: kept }) : certificates.delete([modelId, member.record]));
            continue;
          }
          const record = await certificates.get([modelId, key]);
          if (record === undefined || ('value' in request && !stillHolds(record.bytes, request.value))) continue;
          aside.put(request.kind, modelId, key, request.reason, record.bytes);
          await certificates.delete([modelId, key]);
        }
        const { version, commit } = readModelRecord(model);
        await Promise.all([...aside.writes, observed(models.put({ modelId, version: forgetClaims(version, forget).toJSON(), commit }))]);
        return aside.problems;
      });
    });
    this.#problems.push(...found);
    return found;
  }

  async quarantined(): Promise<QuarantinedRecord[]> {
    const records = await this.#run((db) => db.getAll('quarantine'));
    return records.map(({ id: _id, ...record }) => record);
  }

  async forgetCertificates(modelId: string, certificates: readonly Uint8Array[]): Promise<void> {
    if (!certificates.length) return;
    const keys = new Set(certificates.map(certificateKey));
    // Only members of these sizes can be among them: the others' digests are not worth taking.
    const sizes = new Set(certificates.map((bytes) => bytes.length));
    await this.#run(async (db) => {
      const tx = db.transaction('certificates', 'readwrite', { durability: this.#durability });
      await inTransaction(tx, async () => {
        const writes: Promise<unknown>[] = [...keys].map((key) => observed(tx.store.delete([modelId, key])));
        for (const bundle of await tx.store.getAll(bundleRange(modelId))) {
          if (!Array.isArray(bundle.bytes)) continue;
          const members = bundle.bytes as readonly unknown[];
          const kept = members.filter((member) => !(member instanceof Uint8Array && sizes.has(member.length) && keys.has(certificateKey(member))));
          if (kept.length === members.length) continue;
          writes.push(kept.length ? observed(tx.store.put({ ...bundle, bytes: kept as Uint8Array[] })) : observed(tx.store.delete([modelId, bundle.key])));
        }
        await Promise.all(writes);
      });
    });
  }

  async identities(): Promise<StoredIdentity[]> {
    const records = await this.#run((db) => db.getAll('identities'));
    const identities: StoredIdentity[] = [];
    for (const raw of records as unknown[]) {
      const record = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<StoredIdentity>;
      if (!isNodeId(record.nodeId)) {
        // Left in place: an identity without a usable node id is never claimed.
        if (!this.#problems.some((problem) => problem.kind === 'identity'))
          this.#problems.push({ kind: 'identity', modelId: null, key: String(record.nodeId), reason: 'the identity record has no valid node id', recovery: recoveryOf('identity'), at: Date.now() });
        continue;
      }
      const lastClaimedAt = Number.isFinite(record.lastClaimedAt) ? record.lastClaimedAt! : 0;
      identities.push({ nodeId: record.nodeId, reservedUpTo: readReservation(record) ?? 0, lastClaimedAt });
    }
    return identities;
  }

  async reserveSequences(nodeId: NodeId, above: number, count: number): Promise<SequenceReservation> {
    const reserve = (store: { put(value: StoredIdentity): Promise<unknown> }, previous: number) => {
      const reservedUpTo = Math.max(previous, above) + count;
      return { write: observed(store.put({ nodeId, reservedUpTo, lastClaimedAt: Date.now() })), result: { previous, reservedUpTo } };
    };
    const reserved = await this.#run(async (db) => {
      // Always strict: a reservation exists to survive crashes.
      const tx = db.transaction(['identities'], 'readwrite', { durability: 'strict' });
      return inTransaction(tx, async () => {
        const raw = await tx.objectStore('identities').get(nodeId);
        const previous = raw === undefined ? 0 : readReservation(raw);
        if (previous === undefined) return undefined;
        const { write, result } = reserve(tx.objectStore('identities'), previous);
        await write;
        return result;
      });
    });
    if (reserved) return reserved;
    // The stored reservation is damaged: recover it from every seq of this node found in storage.
    let found: StorageProblem[] = [];
    const recovered = await this.#run(async (db) => {
      const tx = db.transaction(['identities', 'models', 'chunks', 'log', 'quarantine'], 'readwrite', { durability: 'strict' });
      return inTransaction(tx, async () => {
        const aside = new KeepAside(tx.objectStore('quarantine'));
        const raw = await tx.objectStore('identities').get(nodeId);
        let previous = raw === undefined ? 0 : readReservation(raw);
        if (previous === undefined) {
          const [models, chunks, logged] = await Promise.all([tx.objectStore('models').getAll(), tx.objectStore('chunks').getAll(), tx.objectStore('log').getAll()]);
          const entities = [...entitiesOfChunks(chunks, 0).records.map((record) => record.entity), ...readLog(logged, []).flatMap((step) => step.entities)];
          previous = highestStoredSeq(nodeId, models, entities) + count;
          aside.put('reservation', null, nodeId, 'the sequence reservation is damaged', raw, recoveredReservation(previous));
        }
        const { write, result } = reserve(tx.objectStore('identities'), previous);
        await Promise.all([write, ...aside.writes]);
        found = aside.problems;
        return result;
      });
    });
    this.#problems.push(...found);
    return recovered;
  }

  async readMetadata(): Promise<RoomMetadata> {
    const raw: unknown = await this.#run((db) => db.get('meta', ROOM_META_KEY));
    const { metadata, problem } = sanitizeMetadata(raw);
    if (!problem) return metadata;
    // Damaged: kept aside and replaced by what of it was valid, once (another tab may have done it).
    let found: StorageProblem[] = [];
    const repaired = await this.#run(async (db) => {
      const tx = db.transaction(['meta', 'quarantine'], 'readwrite', { durability: this.#durability });
      return inTransaction(tx, async () => {
        const current: unknown = await tx.objectStore('meta').get(ROOM_META_KEY);
        const { metadata, problem } = sanitizeMetadata(current);
        if (!problem) return metadata;
        const aside = new KeepAside(tx.objectStore('quarantine'));
        aside.put('metadata', null, ROOM_META_KEY, problem, current);
        await Promise.all([...aside.writes, observed(tx.objectStore('meta').put(metadata, ROOM_META_KEY))]);
        found = aside.problems;
        return metadata;
      });
    });
    this.#problems.push(...found);
    return repaired;
  }

  async writeMetadata(patch: RoomMetadata): Promise<void> {
    await this.#run(async (db) => {
      const tx = db.transaction('meta', 'readwrite', { durability: this.#durability });
      await inTransaction(tx, async () => {
        const current = sanitizeMetadata(await tx.store.get(ROOM_META_KEY)).metadata;
        await tx.store.put({ ...current, ...patch }, ROOM_META_KEY);
      });
    });
  }

  async deleteRoom(): Promise<void> {
    this.#checkOpen();
    const opening = this.#opening;
    this.#opening = null;
    this.#connection = null;
    if (opening) (await opening.catch(() => null))?.close();
    try {
      // Other tabs' connections close themselves on `versionchange`, so this is not blocked by them.
      await deleteDB(this.name);
    } catch (error) {
      throw toStorageError(error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { timer } of this.#unfolded.values()) this.#timers.clearTimeout(timer);
    void this.#opening?.then((db) => db.close(), () => undefined);
    this.#opening = null;
    this.#connection = null;
    this.#channel?.close();
    if (typeof document !== 'undefined') document.removeEventListener('resume', this.#onResume);
    if (typeof window !== 'undefined') window.removeEventListener('pageshow', this.#onResume);
    this.#externalChange.clear();
    this.#problem.clear();
  }

  onExternalChange(listener: (modelId: string | null) => void): () => void {
    return this.#externalChange.add(listener);
  }

  onProblem(listener: (problem: StorageError) => void): () => void {
    return this.#problem.add(listener);
  }

  async #run<T>(operation: (db: IDBPDatabase<RoomDatabase>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation(await this.#database());
      } catch (error) {
        const mapped = toStorageError(error);
        // The browser closed the connection before this transaction could start (nothing of it
        // ran): drop the connection and try once more on a fresh one.
        if (mapped.code === 'closed' && !this.#closed && attempt === 1) {
          this.#connection?.close();
          this.#connection = null;
          this.#opening = null;
          continue;
        }
        throw mapped;
      }
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageError('closed');
  }

  #database(): Promise<IDBPDatabase<RoomDatabase>> {
    this.#checkOpen();
    if (!this.#opening) {
      const opening = this.#openDatabase();
      this.#opening = opening;
      // A failed open is retried by the next call (the user may have closed the blocking tab).
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = null;
      });
    }
    return this.#opening;
  }

  async #openDatabase(): Promise<IDBPDatabase<RoomDatabase>> {
    if (typeof indexedDB === 'undefined') throw new StorageError('unavailable');
    let migrationError: unknown;
    let db: IDBPDatabase<RoomDatabase>;
    try {
      db = await openDB<RoomDatabase>(this.name, DB_VERSION, {
        upgrade: (database, oldVersion, _newVersion, tx) => {
          upgradeRoomDatabase(database, oldVersion, tx).catch((error: unknown) => {
            migrationError = error;
            abortQuietly(tx);
          });
        },
        blocked: () => this.#problem.emit(new StorageError('blocked')),
      });
    } catch (error) {
      if (migrationError !== undefined)
        throw new StorageError(
          'corrupt',
          `Stored data could not be upgraded to the current format; it was left as it was (${String(migrationError)}).`,
          { cause: migrationError },
        );
      const mapped = toStorageError(error);
      if (mapped.code === 'outdated' || mapped.code === 'quota-exceeded') throw mapped;
      throw new StorageError('unavailable', undefined, { cause: error });
    }
    if (this.#closed) {
      db.close();
      throw new StorageError('closed');
    }
    this.#connection = db;
    // Another tab deletes the database (newVersion null) or upgrades it: close, so it can proceed.
    db.addEventListener('versionchange', (event) => this.#lose(db, event.newVersion === null ? 'deleted' : 'outdated'));
    // The browser closed the connection itself, e.g. the user cleared site data.
    db.addEventListener('close', () => this.#lose(db, 'deleted'));
    return db;
  }

  // The connection is gone or must go: close it, forget it (the next call reopens), tell the UI.
  // Nothing is re-created here: after a deletion, the next save decides to write again.
  #lose(db: IDBPDatabase<RoomDatabase>, code: 'deleted' | 'outdated'): void {
    db.close();
    if (this.#connection !== db) return;
    this.#connection = null;
    this.#opening = null;
    // A fold due later would open (so re-create) a deleted database: only a save may do that.
    for (const { timer } of this.#unfolded.values()) this.#timers.clearTimeout(timer);
    this.#unfolded.clear();
    if (!this.#closed) this.#problem.emit(new StorageError(code));
  }

  #onNotice(data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const { type, modelId } = data as Partial<CommitNotice>;
    if (type === 'commit' && typeof modelId === 'string') this.#externalChange.emit(modelId);
  }

  // A frozen or cached page missed its BroadcastChannel messages: check everything on return.
  readonly #onResume = (event: Event): void => {
    if (event.type === 'pageshow' && !(event as PageTransitionEvent).persisted) return;
    this.#externalChange.emit(null);
  };
}

/**
 * The append of a small save, on the raw IndexedDB API: one request round trip (the model record)
 * and one callback that issues every write, with no promise or listener per request (the `idb`
 * wrappers cost more main-thread time here than the writes). Resolves once the transaction
 * committed, with the commit written, or undefined if nothing was written (see `#append`); all or
 * nothing, since an error in any request aborts the transaction.
 */
function appendToLog(
  db: IDBDatabase,
  durability: IDBTransactionDurability,
  modelId: string,
  entities: readonly EntityState[],
  version: VersionVector,
  certificates: readonly Uint8Array[],
): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(certificates.length ? ['models', 'log', 'certificates'] : ['models', 'log'], 'readwrite', { durability });
    let commit: number | undefined;
    let failure: unknown;
    const request = tx.objectStore('models').get(modelId);
    request.onsuccess = () => {
      try {
        const read = readModelRecord(request.result);
        if (read.problem) return;
        const next = read.commit + 1;
        const record = entities.length ? logRecord(modelId, next, entities, read.version, version) : null;
        if (record === undefined) return;
        tx.objectStore('models').put({ modelId, version: read.version.clone().mergeWith(version).toJSON(), commit: next });
        if (record) tx.objectStore('log').put(record);
        if (certificates.length) for (const stored of certificateRecords(modelId, next, certificates)) tx.objectStore('certificates').put(stored);
        commit = next;
      } catch (error) {
        failure = error;
        abortQuietly(tx);
      }
    };
    tx.oncomplete = () => resolve(commit);
    // The transaction's own error (a quota error at commit time) when it has one, else what threw.
    tx.onabort = () => reject(tx.error ?? failure ?? new DOMException('The save was aborted', 'AbortError'));
  });
}

/**
 * Runs `body` in `tx` and resolves once the transaction committed. If anything fails, including a
 * request that throws synchronously, the transaction is aborted, so requests already queued never
 * commit on their own: all or nothing. Rejects with the transaction's own error when it has one
 * (a quota error at commit time), else with what `body` threw.
 */
async function inTransaction<T>(tx: { readonly done: Promise<void>; abort(): void }, body: () => Promise<T>): Promise<T> {
  const done = tx.done;
  // Observed at once, so an abort never surfaces as an unhandled rejection.
  done.catch(() => undefined);
  try {
    const result = await body();
    await done;
    return result;
  } catch (error) {
    abortQuietly(tx);
    const reason = await done.then(
      () => undefined,
      (abort: unknown) => abort,
    );
    throw reason instanceof DOMException && reason.name !== 'AbortError' ? reason : error;
  }
}

// A request promise that rejects when its transaction aborts must not surface as an unhandled
// rejection if a later request threw before anyone awaited it.
function observed<T>(request: Promise<T>): Promise<T> {
  request.catch(() => undefined);
  return request;
}

function abortQuietly(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // Already finished or aborted.
  }
}

// Damaged records put into the quarantine store within one transaction, and their problems.
class KeepAside {
  readonly writes: Promise<unknown>[] = [];
  readonly problems: StorageProblem[] = [];

  constructor(private readonly store: { add(value: QuarantineRecord): Promise<unknown> }) {}

  put(kind: StorageProblemKind, modelId: string | null, key: string, reason: string, value: unknown, recovery = recoveryOf(kind)): void {
    const problem: StorageProblem = { kind, modelId, key, reason, recovery, at: Date.now() };
    this.problems.push(problem);
    this.writes.push(observed(this.store.add({ ...problem, value })));
  }
}
