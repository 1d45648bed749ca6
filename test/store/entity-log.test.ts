import { expect } from 'chai';
import { openDB } from 'idb';
import { asNodeId } from '../../src/crdt/index.js';
import type { DomainModel } from '../../src/domain/index.js';
import { chunkRecords, encodeEntity, NodeTable } from '../../src/store/entity-chunks.js';
import { logLabel, logRecord } from '../../src/store/entity-log.js';
import { IndexedDbStorageAdapter, MemoryStorageAdapter, ModelPersistence, type StorageAdapter } from '../../src/store/index.js';
import { election } from './election-model.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { eventually } from '../eventually.js';
import { ManualTimers } from '../manual-timers.js';
import { expectSameVersion } from '../expectations.js';

const MODEL = 'election';

describe('IndexedDbStorageAdapter: the change log', () => {
  let dbName: string;
  const opened: StorageAdapter[] = [];
  // Folds only when a test asks (the timer's delay is longer than any test).
  const adapter = (options: { onSaveTask?: (entities: number) => void; foldDelayMs?: number } = {}): IndexedDbStorageAdapter => {
    const storage = new IndexedDbStorageAdapter({ roomId: 'log', dbName, foldDelayMs: 600_000, ...options });
    opened.push(storage);
    return storage;
  };
  const raw = async <T>(use: (db: Awaited<ReturnType<typeof openDB>>) => Promise<T>): Promise<T> => {
    const db = await openDB(dbName);
    try {
      return await use(db);
    } finally {
      db.close();
    }
  };
  const logCount = () => raw((db) => db.count('log'));
  const chunksOf = () => raw((db) => db.getAll('chunks'));

  beforeEach(() => {
    dbName = uniqueDbName();
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) storage.close();
    await deleteTestDb(dbName);
  });

  // A room of 30 candidates saved into chunks, and the model that made it.
  async function savedRoom(storage: IndexedDbStorageAdapter): Promise<{ alice: DomainModel; oids: string[] }> {
    const alice = election('alice');
    const oids: string[] = [];
    for (let i = 0; i < 40; i++) oids.push(alice.create('Candidate', { name: `c${i}` }).oid);
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    return { alice, oids };
  }

  it('appends a small save without rewriting any chunk, and a load joins it in', async () => {
    const storage = adapter();
    const { alice, oids } = await savedRoom(storage);
    const before = await chunksOf();
    alice.update(oids[3]!, { votes: 7 });
    const commit = await storage.merge(MODEL, alice.getEntityStates([oids[3]!]), alice.version);
    expect(commit).to.equal(2);
    expect(await chunksOf()).to.deep.equal(before);
    expect(await logCount()).to.equal(1);
    const stored = await adapter().load(MODEL);
    expect(stored.commit).to.equal(2);
    expect(stored.entities).to.deep.equal(alice.getEntityStates());
    expectSameVersion(stored.version, alice.version);
  });

  it('folds the log into the chunks in one transaction: the same stored state, no log, no new commit', async () => {
    const storage = adapter();
    const { alice, oids } = await savedRoom(storage);
    for (let i = 0; i < 5; i++) {
      alice.update(oids[i * 7]!, { votes: i + 1 });
      await storage.merge(MODEL, alice.getEntityStates([oids[i * 7]!]), alice.version);
    }
    const before = await storage.load(MODEL);
    expect(await storage.fold(MODEL)).to.equal(5);
    expect(await logCount()).to.equal(0);
    const after = await adapter().load(MODEL);
    expect(after.entities).to.deep.equal(before.entities);
    expect(after.commit).to.equal(6);
    expectSameVersion(after.version, before.version);
    // Partial loads of another tab still see exactly what later commits wrote.
    expect((await storage.load(MODEL, 4)).entities.map((entity) => entity.oid)).to.deep.equal([oids[28], oids[21]].sort());
  });

  it('stores exactly what joining each save into the chunks stores, with concurrent writers, folds and large saves in between', async () => {
    // Two tabs' models writing concurrently into one room, compared with the in-memory adapter
    // (the reference join): the log only defers the join, it must never change its result.
    const storage = adapter();
    const other = adapter();
    const reference = new MemoryStorageAdapter();
    const alice = election('alice');
    const bob = election('bob');
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 60; round++) {
      const [writer, into] = random(2) ? [alice, storage] : [bob, other];
      const peer = writer === alice ? bob : alice;
      const candidates = writer.entities('Candidate').toArray();
      const touched: string[] = [];
      if (!candidates.length || random(4) === 0) touched.push(writer.create('Candidate', { name: `n${round}` }).oid);
      else {
        const target = candidates[random(candidates.length)]!;
        if (random(6) === 0) writer.delete(target.oid);
        else writer.update(target.oid, { votes: random(100) });
        touched.push(target.oid);
      }
      const states = random(10) === 0 ? writer.getEntityStates() : writer.getEntityStates(touched);
      await into.merge(MODEL, states, writer.version);
      await reference.merge(MODEL, states, writer.version);
      // Now and then the other writer hears of it (so later writes overwrite earlier ones), or a fold runs.
      if (random(3) === 0) peer.loadState(states, writer.version);
      if (random(8) === 0) await (random(2) ? storage : other).fold(MODEL);
    }
    const byOid = (entities: readonly { oid: string }[]) => [...entities].sort((a, b) => (a.oid < b.oid ? -1 : 1));
    const expected = await reference.load(MODEL);
    for (const loaded of [await adapter().load(MODEL), await (async () => (await storage.fold(MODEL), adapter().load(MODEL)))()]) {
      expect(byOid(loaded.entities)).to.deep.equal(byOid(expected.entities));
      expectSameVersion(loaded.version, expected.version);
      expect(loaded.commit).to.equal(expected.commit);
    }
  });

  it('a log record holding a write that storage had already seen overwritten does not bring it back (replayed with its own contexts)', async () => {
    const storage = adapter();
    const other = adapter();
    const alice = election('alice');
    const bob = election('bob');
    const oid = alice.create('Candidate', { name: 'Ada' }).oid;
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    bob.loadState(alice.getEntityStates(), alice.version);
    // Alice overwrites the votes; bob, not having seen that, renames: his state still holds the old votes.
    alice.update(oid, { votes: 5 });
    await storage.merge(MODEL, alice.getEntityStates([oid]), alice.version);
    bob.update(oid, { name: 'Ada B.' });
    await other.merge(MODEL, bob.getEntityStates([oid]), bob.version);
    expect(await logCount()).to.equal(3);
    alice.loadState(bob.getEntityStates([oid]), bob.version);
    const expected = alice.getEntityStates([oid]);
    expect(expected[0]!.attributes['votes']).to.have.length(1);
    expect((await adapter().load(MODEL)).entities).to.deep.equal(expected);
    await storage.fold(MODEL);
    expect((await adapter().load(MODEL)).entities).to.deep.equal(expected);
  });

  it('a fold that fails (a crash in the middle) leaves the log and the chunks as they were: nothing is lost, a later fold completes it', async () => {
    let failing = false;
    const storage = adapter({
      onSaveTask: () => {
        if (failing) throw new Error('the page died in the middle of the fold');
      },
    });
    const { alice, oids } = await savedRoom(storage);
    for (const oid of oids.slice(0, 3)) {
      alice.update(oid, { name: `renamed ${oid}` });
      await storage.merge(MODEL, alice.getEntityStates([oid]), alice.version);
    }
    const chunks = await chunksOf();
    failing = true;
    let failed = false;
    await storage.fold(MODEL).catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect(await chunksOf()).to.deep.equal(chunks);
    expect(await logCount()).to.equal(3);
    const reopened = await adapter().load(MODEL);
    expect(reopened.entities).to.deep.equal(alice.getEntityStates());
    failing = false;
    expect(await storage.fold(MODEL)).to.equal(3);
    expect((await adapter().load(MODEL)).entities).to.deep.equal(alice.getEntityStates());
  });

  it('a save that joins into the chunks (a large one) folds the log in the same transaction', async () => {
    const storage = adapter();
    const { alice, oids } = await savedRoom(storage);
    alice.update(oids[0]!, { votes: 1 });
    await storage.merge(MODEL, alice.getEntityStates([oids[0]!]), alice.version);
    alice.update(oids[1]!, { votes: 2 });
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    expect(await logCount()).to.equal(0);
    expect((await adapter().load(MODEL)).entities).to.deep.equal(alice.getEntityStates());
  });

  it('is folded once saves pause, and when a room opens with a log', async () => {
    const storage = adapter({ foldDelayMs: 20 });
    const { alice, oids } = await savedRoom(storage);
    alice.update(oids[0]!, { votes: 1 });
    await storage.merge(MODEL, alice.getEntityStates([oids[0]!]), alice.version);
    await eventually(async () => (await logCount()) === 0, 'the fold after a pause');
    // A log left by a session that ended before its fold (written here by an adapter that never folds).
    alice.update(oids[1]!, { votes: 2 });
    const quitter = adapter();
    await quitter.merge(MODEL, alice.getEntityStates([oids[1]!]), alice.version);
    quitter.close();
    expect(await logCount()).to.equal(1);
    const reopened = adapter({ foldDelayMs: 20 });
    expect((await reopened.load(MODEL)).entities).to.deep.equal(alice.getEntityStates());
    await eventually(async () => (await logCount()) === 0, 'the fold after opening');
  });

  it('a fold still due when another tab deletes the room is dropped (it would create the database again)', async () => {
    const timers = new ManualTimers();
    const storage = new IndexedDbStorageAdapter({ roomId: 'log', dbName, timers });
    opened.push(storage);
    const { alice, oids } = await savedRoom(storage);
    alice.update(oids[0]!, { votes: 1 });
    await storage.merge(MODEL, alice.getEntityStates([oids[0]!]), alice.version);
    expect(timers.scheduled).to.equal(1);
    const deleted = new Promise((resolve) => storage.onProblem((problem) => problem.code === 'deleted' && resolve(undefined)));
    await adapter().deleteRoom();
    await deleted;
    expect(timers.scheduled).to.equal(0);
  });

  // A saved room, another tab that loaded it, and then one edit appended to the log.
  async function editSeenByAnotherTab() {
    const storage = adapter();
    const { alice, oids } = await savedRoom(storage);
    const tab = adapter();
    const seen = (await tab.load(MODEL)).commit;
    alice.update(oids[5]!, { votes: 5 });
    await storage.merge(MODEL, alice.getEntityStates([oids[5]!]), alice.version);
    return { storage, alice, oids, tab, seen };
  }

  it('another tab reading since a commit gets an entity a later log record wrote, whole', async () => {
    const { storage, alice, oids, tab, seen } = await editSeenByAnotherTab();
    alice.update(oids[5]!, { name: 'renamed' });
    await storage.merge(MODEL, alice.getEntityStates([oids[5]!]), alice.version);
    const since = await tab.load(MODEL, seen);
    expect(since.entities).to.deep.equal(alice.getEntityStates([oids[5]!]));
    expect((await tab.load(MODEL, seen + 1)).entities).to.deep.equal(alice.getEntityStates([oids[5]!]));
    expect((await tab.load(MODEL, seen + 2)).entities).to.deep.equal([]);
  });

  it('another tab reading since a commit is told of a damaged chunk under a later log record (so it claims nothing)', async () => {
    const { tab, seen } = await editSeenByAnotherTab();
    await raw(async (db) => {
      const [chunk] = (await db.getAll('chunks')) as Array<{ start: string }>;
      await db.put('chunks', { ...chunk, data: 42 });
    });
    const since = await tab.load(MODEL, seen);
    expect(since.damaged?.map((record) => [record.kind, record.chunk])).to.deep.equal([['entity', '']]);
  });

  describe('a damaged log record', () => {
    // Stores `value` as the log record of the next commit, unchecked, as a torn write might leave it.
    async function putRawLogRecord(value: (commit: number) => Record<string, unknown>): Promise<number> {
      return raw(async (db) => {
        const model = (await db.get('models', MODEL)) as { version: object; commit: number };
        const commit = model.commit + 1;
        const tx = db.transaction(['models', 'log'], 'readwrite');
        await tx.objectStore('log').put({ modelId: MODEL, commit, ...value(commit) });
        await tx.objectStore('models').put({ ...model, commit });
        await tx.done;
        return commit;
      });
    }
    const damage: Record<string, (commit: number, valid: Record<string, unknown>) => Record<string, unknown>> = {
      'data that does not parse': (_commit, valid) => ({ ...valid, data: '[{torn' }),
      'lengths that do not match': (_commit, valid) => ({ ...valid, lengths: [3] }),
      'a damaged version': (_commit, valid) => ({ ...valid, version: 'garbage' }),
      'no entities at all': () => ({ garbage: true }),
    };

    for (const [what, make] of Object.entries(damage)) {
      it(`(${what}) is kept aside and reported; the room opens with the rest and claims nothing, so peers send everything again`, async () => {
        const storage = adapter();
        const { alice, oids } = await savedRoom(storage);
        alice.update(oids[2]!, { votes: 9 });
        const valid = logRecord(MODEL, 0, alice.getEntityStates([oids[2]!]), alice.version, alice.version)!;
        const commit = await putRawLogRecord((n) => make(n, { ...valid, commit: n }) as Record<string, unknown>);
        alice.update(oids[4]!, { votes: 4 });
        await storage.merge(MODEL, alice.getEntityStates([oids[4]!]), alice.version);

        const tab = adapter();
        const loaded = await tab.load(MODEL);
        expect(loaded.damaged?.map((record) => [record.kind, record.key])).to.deep.equal([['entity', logLabel(commit)]]);
        // Through ModelPersistence, as a room opens (own seqs continue above a reservation): reported,
        // kept aside, no claim kept.
        const model = election('alice', { firstSeq: alice.nextSeq + 1000 });
        const persistence = new ModelPersistence(model, tab);
        await persistence.load();
        expect(persistence.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['entity', logLabel(commit)]]);
        expect(model.get(oids[4]!)?.getAttribute('votes')).to.equal(4);
        expect(model.get(oids[0]!)?.getAttribute('name')).to.equal('c0');
        expect((await tab.quarantined()).map((record) => record.key)).to.deep.equal([logLabel(commit)]);
        expect(await logCount()).to.equal(0);
        const reopened = await adapter().load(MODEL);
        expect(reopened.damaged).to.equal(undefined);
        expect(reopened.version.maxSeen(asNodeId('alice'))).to.equal(0);
        persistence.close();
      });
    }

    it('met by a fold is kept aside by the fold, which claims nothing afterwards', async () => {
      const storage = adapter();
      const { alice, oids } = await savedRoom(storage);
      const commit = await putRawLogRecord(() => ({ data: 42 }));
      expect(await storage.fold(MODEL)).to.equal(1);
      expect(storage.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['entity', logLabel(commit)]]);
      const loaded = await adapter().load(MODEL);
      expect(loaded.entities).to.deep.equal(alice.getEntityStates());
      expect(loaded.version.maxSeen(asNodeId('alice'))).to.equal(0);
      expect(oids).to.have.length(40);
    });
  });

  describe('upgrade from schema version 5', () => {
    it('opens a version 5 database (chunks, no log), keeps all its data, and appends from then on', async () => {
      const alice = election('alice');
      for (let i = 0; i < 10; i++) alice.create('Candidate', { name: `c${i}` });
      const table = new NodeTable();
      const entries = alice.getEntityStates().map((entity) => ({ oid: entity.oid, commit: 3, json: encodeEntity(entity, table)! }));
      const db = await openDB(dbName, 5, {
        upgrade(upgrade) {
          upgrade.createObjectStore('models', { keyPath: 'modelId' });
          upgrade.createObjectStore('chunks', { keyPath: ['modelId', 'start'] }).createIndex('by-commit', ['modelId', 'commit']);
          upgrade.createObjectStore('certificates', { keyPath: ['modelId', 'key'] }).createIndex('by-commit', ['modelId', 'commit']);
          upgrade.createObjectStore('identities', { keyPath: 'nodeId' });
          upgrade.createObjectStore('meta');
          upgrade.createObjectStore('quarantine', { keyPath: 'id', autoIncrement: true });
        },
      });
      const tx = db.transaction(['models', 'chunks', 'meta'], 'readwrite');
      for (const record of chunkRecords(MODEL, '', 3, entries, table.nodes)) await tx.objectStore('chunks').put(record);
      await tx.objectStore('models').put({ modelId: MODEL, version: alice.version.toJSON(), commit: 3 });
      await tx.objectStore('meta').put({ createdAt: 42 }, 'room');
      await tx.done;
      db.close();

      const storage = adapter();
      const stored = await storage.load(MODEL);
      expect(stored.entities).to.deep.equal(alice.getEntityStates());
      expect(stored.commit).to.equal(3);
      expect((await storage.readMetadata()).createdAt).to.equal(42);
      const oid = alice.entities('Candidate').first()!.oid;
      alice.update(oid, { votes: 3 });
      expect(await storage.merge(MODEL, alice.getEntityStates([oid]), alice.version)).to.equal(4);
      expect(await logCount()).to.equal(1);
      expect((await adapter().load(MODEL)).entities).to.deep.equal(alice.getEntityStates());
      const upgraded = await openDB(dbName);
      expect([...upgraded.objectStoreNames].sort()).to.deep.equal(['certificates', 'chunks', 'identities', 'log', 'meta', 'models', 'quarantine']);
      upgraded.close();
    });
  });
});
