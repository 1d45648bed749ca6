import { expect } from 'chai';
import { openDB } from 'idb';
import { VersionVector, asNodeId } from '../../src/crdt/index.js';
import { DB_VERSION, IndexedDbStorageAdapter, type StorageAdapter, StorageError } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { runStorageAdapterContractTests } from './storage-adapter-contract.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';

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
      expect(stored.version.equals(expectedVersion)).to.equal(true);
      expect(await storage.identities()).to.deep.equal([{ nodeId: 'alice', reservedUpTo: 3000, lastClaimedAt: 0 }]);
      expect((await storage.readMetadata()).createdAt).to.equal(42);
      // Commits continue above the migrated data, and partial loads see only later writes.
      model.get(model.entities('Candidate').first()!.oid)!.setAttribute('votes', 3);
      expect(await storage.merge('election', model.getEntityStates(), model.version)).to.equal(2);
      expect((await storage.load('election', 1)).entities).to.have.length(model.getEntityStates().length);
      const db = await openRaw(dbName);
      raw.push(db);
      expect(db.version).to.equal(DB_VERSION);
      expect([...db.objectStoreNames].sort()).to.deep.equal(['entities', 'identities', 'meta', 'models']);
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
    expect(await newer.count('entities')).to.equal(1);
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

  describe('quota exceeded', () => {
    const put = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = put;
    });

    // Makes the `n`-th entity put of the next transaction fail as a full disk does.
    function failNthPut(n: number): void {
      let calls = 0;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
        if (this.name === 'entities' && ++calls === n) throw new DOMException('The disk is full', 'QuotaExceededError');
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
      failNthPut(2);
      const error = await rejectionOf(storage.merge('election', alice.getEntityStates(), alice.version));
      expect(error).to.be.instanceOf(StorageError);
      expect((error as StorageError).code).to.equal('quota-exceeded');
      expect((error as StorageError).message).to.match(/storage is full/);
      IDBObjectStore.prototype.put = put;
      const after = await storage.load('election');
      expect(after.entities).to.deep.equal(before.entities);
      expect(after.commit).to.equal(before.commit);
      expect(after.version.equals(before.version)).to.equal(true);
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
