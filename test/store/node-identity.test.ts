import { expect } from 'chai';
import { asNodeId, isNodeId } from '../../src/crdt/index.js';
import { IndexedDbStorageAdapter, MemoryStorageAdapter, NodeIdentity, type StorageAdapter } from '../../src/store/index.js';
import { lockReleased } from './lock-released.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';

describe('NodeIdentity', () => {
  let dbName: string;
  const held: NodeIdentity[] = [];
  const adapters: StorageAdapter[] = [];
  const open = (): IndexedDbStorageAdapter => {
    const storage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
    adapters.push(storage);
    return storage;
  };
  const claim = async (storage: StorageAdapter): Promise<NodeIdentity> => {
    const identity = await NodeIdentity.claim(storage);
    held.push(identity);
    return identity;
  };

  beforeEach(() => {
    dbName = uniqueDbName();
  });
  afterEach(async () => {
    for (const identity of held.splice(0)) identity.release();
    for (const storage of adapters.splice(0)) storage.close();
    await deleteTestDb(dbName);
  });

  it('gives two open tabs distinct ids, and a later tab reuses a released one', async () => {
    const tabA = await claim(open());
    const tabB = await claim(open());
    expect(isNodeId(tabA.nodeId), `${tabA.nodeId} is a node id`).to.equal(true);
    expect(tabB.nodeId).to.not.equal(tabA.nodeId);
    tabA.release();
    await lockReleased(tabA.nodeId);
    // A reloaded tab takes the free identity back instead of minting a new one.
    const tabC = await claim(open());
    expect(tabC.nodeId).to.equal(tabA.nodeId);
    expect(await adapters[0]!.identities()).to.have.length(2);
  });

  it('never takes back a stored identity the caller may not reuse (an id of another key), and mints one instead', async () => {
    const old = await claim(open());
    old.release();
    await lockReleased(old.nodeId);
    const identity = await NodeIdentity.claim(open(), {
      newNodeId: () => asNodeId('device-key-tab-1'),
      canReuse: (nodeId) => nodeId.startsWith('device-key-'),
    });
    held.push(identity);
    expect(identity.nodeId).to.equal('device-key-tab-1');
    expect((await adapters[0]!.identities()).map((stored) => stored.nodeId)).to.have.members([old.nodeId, 'device-key-tab-1']);
  });

  it('claims from memory storage without Web Locks too', async () => {
    const storage = new MemoryStorageAdapter();
    const locks = realmOnlyLocks();
    const a = await NodeIdentity.claim(storage, { locks, newNodeId: () => asNodeId('alice') });
    const b = await NodeIdentity.claim(storage, { locks, newNodeId: () => asNodeId('bob') });
    expect([a.nodeId, b.nodeId]).to.deep.equal(['alice', 'bob']);
    a.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const c = await NodeIdentity.claim(storage, { locks, newNodeId: () => asNodeId('carol') });
    expect(c.nodeId).to.equal('alice');
    b.release();
    c.release();
  });
});

// A lock manager with the Web Locks semantics used (`ifAvailable`), held in this page only.
function realmOnlyLocks() {
  const heldNames = new Set<string>();
  return {
    async request(name: string, _options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown> | undefined) {
      if (heldNames.has(name)) return callback(null);
      heldNames.add(name);
      try {
        return await callback({ name });
      } finally {
        heldNames.delete(name);
      }
    },
  };
}
