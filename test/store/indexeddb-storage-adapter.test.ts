import { expect } from 'chai';
import { openDB } from 'idb';
import { VersionVector, asNodeId } from '../../src/crdt/index.js';
import type { DomainModel } from '../../src/domain/index.js';
import { DB_VERSION, IndexedDbStorageAdapter, ModelPersistence, type StorageAdapter, StorageError } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { runStorageAdapterContractTests } from './storage-adapter-contract.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { expectSameVersion } from '../expectations.js';

runStorageAdapterContractTests('IndexedDbStorageAdapter', async () => {
  const dbName = uniqueDbName();
  const opened: StorageAdapter[] = [];
  return {
    open: async () => {
      const adapter = new IndexedDbStorageAdapter({ roomId: 'contract', dbName });
      await adapter.open();
      opened.push(adapter);
      return adapter;
    },
    teardown: async () => {
      for (const adapter of opened) adapter.close();
      await deleteTestDb(dbName);
    },
  };
});

const problemOf = (adapter: StorageAdapter): Promise<StorageError> =>
  new Promise((resolve) => {
    const off = adapter.onProblem((problem) => {
      off();
      resolve(problem);
    });
  });

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );

/** Opens a raw connection and resolves once it is open, for playing "another tab". */
function openRaw(name: string, version?: number, upgrade?: (db: IDBDatabase, tx: IDBTransaction) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result, request.transaction!);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

describe('IndexedDbStorageAdapter', () => {
  let dbName: string;
  const adapters: StorageAdapter[] = [];
  const raw: IDBDatabase[] = [];
  const adapter = (): IndexedDbStorageAdapter => {
    const storage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
    adapters.push(storage);
    return storage;
  };

  beforeEach(() => {
    dbName = uniqueDbName();
  });
  afterEach(async () => {
    for (const storage of adapters.splice(0)) storage.close();
    for (const db of raw.splice(0)) db.close();
    await deleteTestDb(dbName);
  });

  it('names one database per room', () => {
    expect(new IndexedDbStorageAdapter({ roomId: 'town-hall' }).name).to.equal('ednet-room-town-hall');
  });

  describe('migration from schema version 1', () => {
    // The version 1 format, written by hand with the raw API as the previous release wrote it.
    async function writeVersion1(): Promise<void> {
      const alice = election('alice');
      const e = alice.create('Election', { title: 'Board' });
      const c = alice.create('Candidate', { name: 'Ada', votes: 2 });
      e.addChild('candidates', c);
      const db = await openRaw(dbName, 1, (upgrade) => {
        upgrade.createObjectStore('entities', { keyPath: ['modelId', 'oid'] });
        upgrade.createObjectStore('meta');
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(['entities', 'meta'], 'readwrite');
        for (const entity of alice.getEntityStates()) tx.objectStore('entities').put({ modelId: 'election', oid: entity.oid, entity });
        tx.objectStore('meta').put({ election: alice.version.toJSON() }, 'versions');
        tx.objectStore('meta').put([{ nodeId: 'alice', reservedUpTo: 3000 }], 'identities');
        tx.objectStore('meta').put({ createdAt: 42 }, 'room');
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      expected = entitiesOf(alice);
      expectedVersion = alice.version;
    }
    let expected: string;
    let expectedVersion: VersionVector;

    it('opens a version 1 database and finds all its data', async () => {
      await writeVersion1();
      const storage = adapter();
      const stored = await storage.load('election');
      const model = election('zed');
      model.loadState(stored.entities, stored.version);
      expect(entitiesOf(model)).to.equal(expected);
      expectSameVersion(stored.version, expectedVersion);
      expect(await storage.identities()).to.deep.equal([{ nodeId: 'alice', reservedUpTo: 3000, lastClaimedAt: 0 }]);
      expect((await storage.readMetadata()).createdAt).to.equal(42);
      // Commits continue above the migrated data, and partial loads see only later writes.
      model.get(model.entities('Candidate').first()!.oid)!.setAttribute('votes', 3);
      expect(await storage.merge('election', model.getEntityStates(), model.version)).to.equal(2);
      expect((await storage.load('election', 1)).entities).to.have.length(model.getEntityStates().length);
      const db = await openRaw(dbName);
      raw.push(db);
      expect(db.version).to.equal(DB_VERSION);
      expect([...db.objectStoreNames].sort()).to.deep.equal(['certificates', 'chunks', 'identities', 'log', 'meta', 'models', 'quarantine']);
    });

    it('reports "blocked" while a tab holds the old version open, and upgrades once it closes', async () => {
      await writeVersion1();
      const old = await openRaw(dbName, 1);
      // A tab of the old release: it ignores `versionchange`, so the upgrade has to wait.
      old.onversionchange = null;
      const storage = adapter();
      const blocked = problemOf(storage);
      const loading = storage.load('election');
      expect((await blocked).code).to.equal('blocked');
      expect((await blocked).message).to.match(/other tabs/);
      old.close();
      const stored = await loading;
      expect(stored.entities).to.have.length(2);
    });
  });

  describe('migration from schema version 2', () => {
    // The version 2 format, written by hand with the raw API as the previous release wrote it.
    async function writeVersion2(alice: DomainModel, firstOid: string): Promise<void> {
      const db = await openRaw(dbName, 2, (upgrade) => {
        upgrade.createObjectStore('models', { keyPath: 'modelId' });
        upgrade.createObjectStore('entities', { keyPath: ['modelId', 'oid'] }).createIndex('by-commit', ['modelId', 'commit']);
        upgrade.createObjectStore('identities', { keyPath: 'nodeId' });
        upgrade.createObjectStore('meta');
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(['models', 'entities', 'identities', 'meta'], 'readwrite');
        for (const entity of alice.getEntityStates())
          tx.objectStore('entities').put({ modelId: 'election', oid: entity.oid, commit: entity.oid === firstOid ? 1 : 2, entity });
        tx.objectStore('models').put({ modelId: 'election', version: alice.version.toJSON(), commit: 2 });
        tx.objectStore('identities').put({ nodeId: 'alice', reservedUpTo: 2000, lastClaimedAt: 7 });
        tx.objectStore('meta').put({ createdAt: 42, persistenceGranted: true }, 'room');
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }

    it('opens a version 2 database, keeps all its data and commit numbers, and stores certificates from then on', async () => {
      const alice = election('alice');
      const e = alice.create('Election', { title: 'Board' });
      const c = alice.create('Candidate', { name: 'Ada', votes: 2 });
      e.addChild('candidates', c);
      await writeVersion2(alice, e.oid);
      const storage = adapter();
      const stored = await storage.load('election');
      expect(stored.commit).to.equal(2);
      expect(stored.certificates).to.deep.equal([]);
      expectSameVersion(stored.version, alice.version);
      const model = election('zed');
      model.loadState(stored.entities, stored.version);
      expect(entitiesOf(model)).to.equal(entitiesOf(alice));
      // The commit index survived: a tab that had seen commit 1 reads only what commit 2 wrote.
      expect((await storage.load('election', 1)).entities.map((entity) => entity.oid)).to.deep.equal([c.oid]);
      expect(await storage.identities()).to.deep.equal([{ nodeId: 'alice', reservedUpTo: 2000, lastClaimedAt: 7 }]);
      expect(await storage.readMetadata()).to.deep.equal({ createdAt: 42, persistenceGranted: true });
      c.setAttribute('votes', 3);
      const certificate = Uint8Array.from([1, 2, 3, 4]);
      expect(await storage.merge('election', alice.getEntityStates([c.oid]), alice.version, [certificate])).to.equal(3);
      const since = await storage.load('election', 2);
      expect(since.entities.map((entity) => entity.oid)).to.deep.equal([c.oid]);
      expect(since.certificates.map((bytes) => [...bytes])).to.deep.equal([[1, 2, 3, 4]]);
      const db = await openRaw(dbName);
      raw.push(db);
      expect(db.version).to.equal(DB_VERSION);
      expect(DB_VERSION).to.equal(7);
      expect([...db.objectStoreNames].sort()).to.deep.equal(['certificates', 'chunks', 'identities', 'log', 'meta', 'models', 'quarantine']);
    });
  });

  describe('migration from schema version 4 (one record per entity) to chunks', () => {
    // The version 4 format, written by hand with the raw API as the previous release wrote it.
    async function writeVersion4(models: ReadonlyArray<readonly [string, DomainModel, (oid: string) => number]>, extra: (tx: IDBTransaction) => void): Promise<void> {
      const db = await openRaw(dbName, 4, (upgrade) => {
        upgrade.createObjectStore('models', { keyPath: 'modelId' });
        upgrade.createObjectStore('entities', { keyPath: ['modelId', 'oid'] }).createIndex('by-commit', ['modelId', 'commit']);
        upgrade.createObjectStore('certificates', { keyPath: ['modelId', 'key'] }).createIndex('by-commit', ['modelId', 'commit']);
        upgrade.createObjectStore('identities', { keyPath: 'nodeId' });
        upgrade.createObjectStore('meta');
        upgrade.createObjectStore('quarantine', { keyPath: 'id', autoIncrement: true });
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(['models', 'entities', 'certificates', 'identities', 'meta', 'quarantine'], 'readwrite');
        for (const [modelId, model, commitOf] of models) {
          for (const entity of model.getEntityStates()) tx.objectStore('entities').put({ modelId, oid: entity.oid, commit: commitOf(entity.oid), entity });
          tx.objectStore('models').put({ modelId, version: model.version.toJSON(), commit: 2 });
        }
        tx.objectStore('identities').put({ nodeId: 'alice', reservedUpTo: 2000, lastClaimedAt: 7 });
        tx.objectStore('meta').put({ createdAt: 42 }, 'room');
        extra(tx);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }

    it('moves every entity into chunks with its commit, keeps certificates, identities and the quarantine, and loses nothing', async () => {
      const alice = election('alice');
      const oids = Array.from({ length: 450 }, (_, i) => alice.create('Candidate', { name: `c${i}`, votes: i }).oid);
      const later = new Set(oids.filter((_, i) => i % 3 === 0));
      const other = election('bob', { modelId: 'election-2' });
      other.create('Election', { title: 'Treasurer' });
      const certificate = Uint8Array.from([9, 8, 7]);
      await writeVersion4(
        [
          ['election', alice, (oid) => (later.has(oid) ? 2 : 1)],
          ['election-2', other, () => 1],
        ],
        (tx) => {
          // A record damaged under version 4 moves unchanged and is found by the next load.
          tx.objectStore('entities').put({ modelId: 'election', oid: 'broken', commit: 2, entity: null });
          tx.objectStore('certificates').put({ modelId: 'election', key: 'k1', commit: 1, bytes: certificate });
          tx.objectStore('quarantine').add({ kind: 'metadata', modelId: null, key: 'room', reason: 'old', recovery: 'kept', at: 1, value: 'x' });
        },
      );
      const storage = adapter();
      const stored = await storage.load('election');
      expect(stored.commit).to.equal(2);
      expectSameVersion(stored.version, alice.version, 'stored version');
      const model = election('zed');
      expect(model.loadState(stored.entities, stored.version).rejected).to.deep.equal([]);
      expect(entitiesOf(model)).to.equal(entitiesOf(alice));
      expect(stored.damaged?.map((record) => [record.kind, record.key, record.value])).to.deep.equal([['entity', 'broken', null]]);
      expect(stored.certificates.map((bytes) => [...bytes])).to.deep.equal([[9, 8, 7]]);
      // Commit numbers survived: a tab that had seen commit 1 reads exactly what commit 2 wrote.
      const since = await storage.load('election', 1);
      expect(since.entities.map((entity) => entity.oid).sort()).to.deep.equal([...later].sort());
      expect(since.damaged?.map((record) => record.key)).to.deep.equal(['broken']);
      const second = await storage.load('election-2');
      const secondModel = election('zed', { modelId: 'election-2' });
      secondModel.loadState(second.entities, second.version);
      expect(entitiesOf(secondModel)).to.equal(entitiesOf(other));
      expect(await storage.identities()).to.deep.equal([{ nodeId: 'alice', reservedUpTo: 2000, lastClaimedAt: 7 }]);
      expect((await storage.quarantined()).map((record) => record.reason)).to.deep.equal(['old']);
      // The damaged record is kept aside like any other, and saves continue above commit 2.
      expect((await storage.quarantine('election', [{ kind: 'entity', key: 'broken', value: null, reason: 'stored as null' }], new Map())).map((problem) => problem.key)).to.deep.equal(['broken']);
      expect((await storage.load('election')).damaged).to.equal(undefined);
      alice.update(oids[7]!, { votes: 1000 });
      expect(await storage.merge('election', alice.getEntityStates([oids[7]!]), alice.version)).to.equal(3);
      expect((await storage.load('election', 2)).entities.map((entity) => entity.oid)).to.deep.equal([oids[7]]);
      const db = await openRaw(dbName);
      raw.push(db);
      expect(db.version).to.equal(DB_VERSION);
      expect([...db.objectStoreNames].sort()).to.deep.equal(['certificates', 'chunks', 'identities', 'log', 'meta', 'models', 'quarantine']);
    });

    it('a tab opening a migrated room with ModelPersistence gets every entity and keeps the damaged one aside', async () => {
      const alice = election('alice');
      for (let i = 0; i < 300; i++) alice.create('Candidate', { name: `c${i}` });
      await writeVersion4([['election', alice, () => 1]], (tx) => {
        tx.objectStore('entities').put({ modelId: 'election', oid: 'broken', commit: 1, entity: 'garbage' });
      });
      const storage = adapter();
      const model = election('zed');
      const persistence = new ModelPersistence(model, storage);
      await persistence.load();
      persistence.close();
      expect(entitiesOf(model)).to.equal(entitiesOf(alice));
      expect(persistence.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['entity', 'broken']]);
      expect((await storage.quarantined()).map((record) => record.value)).to.deep.equal(['garbage']);
    });
  });

  it('never opens a database written by a newer version: "outdated", and the data stays', async () => {
    const storage = adapter();
    const alice = election('alice');
    alice.create('Candidate', { name: 'Ada' });
    await storage.merge('election', alice.getEntityStates(), alice.version);
    const outdated = problemOf(storage);
    // A newer release opens the database in another tab: this connection steps aside.
    const newer = await openDB(dbName, DB_VERSION + 1);
    expect((await outdated).code).to.equal('outdated');
    const error = await rejectionOf(storage.load('election'));
    expect(error).to.be.instanceOf(StorageError);
    expect((error as StorageError).code).to.equal('outdated');
    // The live edit's save is in the change log until a fold moves it into a chunk.
    expect((await newer.count('chunks')) + (await newer.count('log'))).to.equal(1);
    newer.close();
  });

  it('reports "deleted" when the database is deleted under it, then works on a fresh one', async () => {
    const storage = adapter();
    const alice = election('alice');
    alice.create('Candidate', { name: 'Ada' });
    await storage.merge('election', alice.getEntityStates(), alice.version);
    const deleted = problemOf(storage);
    await deleteTestDb(dbName);
    expect((await deleted).code).to.equal('deleted');
    expect((await storage.load('election')).commit).to.equal(0);
    expect(await storage.merge('election', alice.getEntityStates(), alice.version)).to.equal(1);
  });

  describe('certificate bundles', () => {
    const certificate = (n: number) => Uint8Array.from({ length: 40 }, (_, i) => (n * 7 + i) & 0xff);
    const bundleKey = '@1.0';

    async function rawBundle(): Promise<unknown> {
      const db = await openRaw(dbName);
      try {
        return await new Promise((resolve, reject) => {
          const request = db.transaction('certificates').objectStore('certificates').get(['election', bundleKey]);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      } finally {
        db.close();
      }
    }

    async function damageBundle(bytes: unknown[]): Promise<void> {
      const db = await openRaw(dbName);
      try {
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction('certificates', 'readwrite');
          tx.objectStore('certificates').put({ modelId: 'election', key: bundleKey, commit: 1, bytes });
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
      } finally {
        db.close();
      }
    }

    it('stores the certificates of one save in one record, loads each once, and forgets them one by one', async () => {
      const storage = adapter();
      const [a, b, c] = [certificate(1), certificate(2), certificate(3)];
      await storage.merge('election', [], new VersionVector(), [a, b, c]);
      expect(((await rawBundle()) as { bytes: Uint8Array[] }).bytes.map((bytes) => [...bytes])).to.deep.equal([a, b, c].map((bytes) => [...bytes]));
      // Stored again, alone and in another bundle (two tabs saved what both received): loaded once each.
      await storage.merge('election', [], new VersionVector(), [b.slice()]);
      await storage.merge('election', [], new VersionVector(), [c.slice(), a.slice()]);
      expect((await storage.load('election')).certificates.map((bytes) => bytes[0]).sort()).to.deep.equal([a, b, c].map((bytes) => bytes[0]).sort());
      await storage.forgetCertificates('election', [b]);
      expect(((await rawBundle()) as { bytes: Uint8Array[] }).bytes.map((bytes) => bytes[0])).to.deep.equal([a[0], c[0]]);
      expect((await storage.load('election')).certificates.map((bytes) => bytes[0]).sort()).to.deep.equal([a[0], c[0]].sort());
      await storage.forgetCertificates('election', [a, c]);
      expect(await rawBundle()).to.equal(undefined);
      expect((await storage.load('election')).certificates).to.deep.equal([]);
    });

    it('keeps aside one damaged member of a bundle, by key or by content, and the rest stay stored', async () => {
      const storage = adapter();
      const [a, b, c] = [certificate(1), certificate(2), certificate(3)];
      await storage.merge('election', [], new VersionVector(), [a, b, c]);
      await damageBundle([a, 'not bytes', b, c]);
      const loaded = await storage.load('election');
      expect(loaded.certificates.map((bytes) => bytes[0])).to.deep.equal([a[0], b[0], c[0]]);
      expect(loaded.damaged?.map((record) => [record.kind, record.key])).to.deep.equal([['certificate', `${bundleKey}#1`]]);
      // The damaged member, as the load reported it; then `b`, found by its bytes (one that does not decode).
      const problems = await storage.quarantine(
        'election',
        [
          { kind: 'certificate', key: `${bundleKey}#1`, value: 'not bytes', reason: 'stored as a string' },
          { kind: 'certificate', bytes: b, value: b, reason: 'does not decode' },
        ],
        new Map(),
      );
      // A member is reported at its position when it was moved: `b` was third, then second.
      expect(problems.map((problem) => problem.key)).to.deep.equal([`${bundleKey}#1`, `${bundleKey}#1`]);
      expect((await storage.quarantined()).map((record) => (record.value instanceof Uint8Array ? record.value[0] : record.value))).to.deep.equal(['not bytes', b[0]]);
      const after = await storage.load('election');
      expect(after.certificates.map((bytes) => bytes[0])).to.deep.equal([a[0], c[0]]);
      expect(after.damaged).to.equal(undefined);
    });
  });

  describe('quota exceeded', () => {
    const put = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = put;
    });

    // Makes the `n`-th put into `store` fail as a full disk does.
    function failNthPut(n: number, store = 'chunks'): void {
      let calls = 0;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
        if (this.name === store && ++calls === n) throw new DOMException('The disk is full', 'QuotaExceededError');
        return put.apply(this, args);
      };
    }

    it('rejects with a "quota-exceeded" StorageError and stores nothing of the failed batch', async () => {
      const storage = adapter();
      const alice = election('alice');
      const a = alice.create('Candidate', { name: 'Ada' });
      await storage.merge('election', alice.getEntityStates(), alice.version);
      const before = await storage.load('election');
      a.setAttribute('name', 'Ada Lovelace');
      alice.create('Candidate', { name: 'Bob' });
      // The last write of the batch (the version, after the chunk).
      failNthPut(1, 'models');
      const error = await rejectionOf(storage.merge('election', alice.getEntityStates(), alice.version));
      expect(error).to.be.instanceOf(StorageError);
      expect((error as StorageError).code).to.equal('quota-exceeded');
      expect((error as StorageError).message).to.match(/storage is full/);
      IDBObjectStore.prototype.put = put;
      const after = await storage.load('election');
      expect(after.entities).to.deep.equal(before.entities);
      expect(after.commit).to.equal(before.commit);
      expectSameVersion(after.version, before.version);
    });

    it('never stores entities without their certificates: a failed certificate write stores nothing of the batch', async () => {
      const storage = adapter();
      const alice = election('alice');
      const a = alice.create('Candidate', { name: 'Ada' });
      await storage.merge('election', alice.getEntityStates(), alice.version, [Uint8Array.from([1])]);
      const before = await storage.load('election');
      a.setAttribute('name', 'Ada Lovelace');
      // The certificates of one save are bundled, 512 to a record: the second record's put fails.
      const many = Array.from({ length: 513 }, (_, i) => Uint8Array.from([2, i >> 8, i & 0xff]));
      failNthPut(2, 'certificates');
      expect((await rejectionOf(storage.merge('election', alice.getEntityStates(), alice.version, many)) as StorageError).code).to.equal('quota-exceeded');
      failNthPut(1, 'certificates');
      const error = await rejectionOf(storage.merge('election', alice.getEntityStates(), alice.version, [Uint8Array.from([2]), Uint8Array.from([3])]));
      expect((error as StorageError).code).to.equal('quota-exceeded');
      IDBObjectStore.prototype.put = put;
      const after = await storage.load('election');
      expect(after.entities).to.deep.equal(before.entities);
      expect(after.certificates.map((bytes) => [...bytes])).to.deep.equal([[1]]);
      expect([after.commit, after.version.equals(before.version)]).to.deep.equal([before.commit, true]);
      // The same batch, retried, stores entities and certificates under one commit.
      const commit = await storage.merge('election', alice.getEntityStates(), alice.version, [Uint8Array.from([2]), Uint8Array.from([3])]);
      const since = await storage.load('election', commit - 1);
      expect(since.entities.map((entity) => entity.oid)).to.deep.equal([a.oid]);
      expect(since.certificates.map((bytes) => [...bytes]).sort()).to.deep.equal([[2], [3]]);
    });

    it('maps a quota error that aborts the transaction', async () => {
      const storage = adapter();
      const original = IDBTransaction.prototype.objectStore;
      IDBTransaction.prototype.objectStore = function (this: IDBTransaction, name: string) {
        const store = original.call(this, name);
        if (this.mode === 'readwrite' && name === 'models')
          queueMicrotask(() => {
            // What the engine does when the disk fills at commit time.
            Object.defineProperty(this, 'error', { value: new DOMException('full', 'QuotaExceededError') });
            this.abort();
          });
        return store;
      };
      try {
        const error = await rejectionOf(storage.merge('election', [], new VersionVector()));
        expect((error as StorageError).code).to.equal('quota-exceeded');
      } finally {
        IDBTransaction.prototype.objectStore = original;
      }
      expect((await storage.load('election')).commit).to.equal(0);
    });
  });

  it('keeps reservations in their own store, per node', async () => {
    const storage = adapter();
    await storage.reserveSequences(asNodeId('alice'), 0, 10);
    await storage.reserveSequences(asNodeId('bob'), 0, 20);
    const db = await openDB(dbName);
    raw.push(db as unknown as IDBDatabase);
    expect(await db.getAll('identities')).to.have.length(2);
    db.close();
  });
});
