import { expect } from 'chai';
import { openDB } from 'idb';
import { asNodeId } from '../../src/crdt/index.js';
import type { DomainModel, EntityState } from '../../src/domain/index.js';
import { IndexedDbStorageAdapter, ModelPersistence, NodeIdentity, type StorageAdapter } from '../../src/store/index.js';
import { CHUNK_MAX_ENTITIES, type ChunkRecord, NodeTable, chunkEntries, decodeEntity, encodeEntity } from '../../src/store/entity-chunks.js';
import { election, entitiesOf } from './election-model.js';
import { putRawEntity } from './put-raw-entity.js';
import { expectEvery } from '../expectations.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';

const MODEL = 'election';

describe('the compact entity encoding of chunks', () => {
  it('writes and reads back entity states exactly: conflicts, children with several dots, removal marks', () => {
    const alice = election('alice');
    const board = alice.create('Election', { title: 'Board' });
    const [ada, bob] = [alice.create('Candidate', { name: 'Ada', votes: 3 }), alice.create('Candidate', { name: 'Bob' })];
    board.addChild('candidates', ada);
    board.addChild('candidates', bob);
    const carol = election('carol');
    carol.loadState(alice.getEntityStates(), alice.version);
    carol.get(board.oid)!.addChild('candidates', ada.oid);
    carol.get(board.oid)!.setAttribute('title', 'Council');
    board.setAttribute('title', 'Committee');
    board.removeChild('candidates', bob);
    alice.applyChanges(carol.getDelta(alice.version));
    const states = alice.getEntityStates();
    const boardState = states.find((state) => state.oid === board.oid)!;
    expect(boardState.attributes.title).to.have.length(2);
    expect(boardState.removals).to.not.equal(undefined);
    const table = new NodeTable();
    for (const state of states) {
      const json = encodeEntity(state, table);
      expect(json).to.be.a('string');
      expect(json!.length).to.be.below(JSON.stringify(state).length / 1.5);
      expect(decodeEntity(state.oid, JSON.parse(json!), table.nodes)).to.deep.equal(state);
    }
    expect(table.nodes.sort()).to.deep.equal(['alice', 'carol']);
  });

  it('keeps what each removal mark names, reads states stored before marks had lists, and reports damaged lists', () => {
    const mark = (seq: number, removed?: Array<{ node: string; seq: number }>) => ({ node: 'alice', seq, ...(removed ? { removed } : {}) });
    const state = {
      entityType: 'Election',
      oid: 'e',
      attributes: {},
      children: { candidates: [['c2', [{ node: 'alice', seq: 2 }]]] },
      removals: { candidates: [mark(4, [{ node: 'alice', seq: 1 }, { node: 'bob', seq: 3 }])], approvedVoters: [mark(5)] },
    } as unknown as EntityState;
    const table = new NodeTable();
    const json = encodeEntity(state, table)!;
    expect(decodeEntity('e', JSON.parse(json), table.nodes)).to.deep.equal(state);
    const legacy = { ...state, removals: { candidates: [mark(4)] } } as unknown as EntityState;
    const stored = JSON.parse(encodeEntity(legacy, new NodeTable())!) as unknown[];
    expect(stored, 'a state without lists is stored as before').to.have.length(5);
    expect(decodeEntity('e', stored, ['alice'])).to.deep.equal(legacy);
    const compact = JSON.parse(json) as unknown[];
    for (const removed of [['candidates', [[0, 1]], 'other', [0]], ['candidates', []], ['candidates', [[0]]], 'x']) {
      const damaged = [...compact.slice(0, 5), removed];
      expect(decodeEntity('e', damaged, table.nodes), JSON.stringify(removed)).to.match(/damaged/);
    }
  });

  it('refuses what it cannot write exactly (kept loose instead), and reports damaged data instead of throwing', () => {
    const write = (value: unknown) => ({ value, ts: { ms: 5, c: 0 }, dot: { node: 'alice', seq: 1 } });
    const state = (value: unknown) => ({ entityType: 'Candidate', oid: 'x', attributes: { votes: [write(value)] }, children: {} }) as unknown as EntityState;
    for (const value of [-0, Number.NaN, Infinity, { nested: 1 }, undefined]) expect(encodeEntity(state(value), new NodeTable()), String(value)).to.equal(undefined);
    expect(encodeEntity(state(1.5), new NodeTable())).to.be.a('string');
    for (const damaged of [null, 'x', [], ['Candidate', 0, ['votes', [1, 0, 0, 7, 1]], []], ['Candidate', 0, ['__proto__', []], []], ['Candidate', 0, [], ['candidates', ['c', [0]]]]])
      expect(decodeEntity('x', damaged, ['alice']), JSON.stringify(damaged)).to.match(/damaged/);
  });
});

describe('IndexedDB layout: entities in chunk records', () => {
  let dbName: string;
  const cleanups: Array<() => void> = [];
  const adapter = (): IndexedDbStorageAdapter => {
    const storage = new IndexedDbStorageAdapter({ roomId: 'chunks', dbName });
    cleanups.push(() => storage.close());
    return storage;
  };
  /** The chunk records as stored, in key order. */
  const chunksOf = async (): Promise<ChunkRecord[]> => {
    const db = await openDB(dbName);
    try {
      return (await db.getAll('chunks')) as ChunkRecord[];
    } finally {
      db.close();
    }
  };
  const reloaded = async (storage: StorageAdapter): Promise<DomainModel> => {
    const stored = await storage.load(MODEL);
    expect(stored.damaged).to.equal(undefined);
    const model = election('zed');
    expect(model.loadState(stored.entities, stored.version).rejected).to.deep.equal([]);
    return model;
  };

  beforeEach(() => {
    dbName = uniqueDbName();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    await deleteTestDb(dbName);
  });

  it('keeps many entities in few chunks, sorted and covering disjoint oid ranges, and loads them all back', async () => {
    const alice = election('alice');
    for (let i = 0; i < 1_000; i++) alice.create('Candidate', { name: `c${i}` });
    const storage = adapter();
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    const chunks = await chunksOf();
    expect(chunks.length).to.be.within(3, 10);
    expect(chunks[0]!.start).to.equal('');
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.oids.length).to.be.within(1, CHUNK_MAX_ENTITIES);
      expect([...chunk.oids]).to.deep.equal([...chunk.oids].sort());
      expect(chunk.oids[0]! >= chunk.start, `chunk ${i}: its first oid ${chunk.oids[0]} is not before its start ${chunk.start}`).to.equal(true);
      if (i + 1 < chunks.length) expect(chunk.oids.at(-1)! < chunks[i + 1]!.start, `chunk ${i}: its last oid ${chunk.oids.at(-1)} is before the next start ${chunks[i + 1]!.start}`).to.equal(true);
      expect(chunkEntries(chunk).problem).to.equal(undefined);
    }
    expect(entitiesOf(await reloaded(adapter()))).to.equal(entitiesOf(alice));
  });

  it('a small save (appended to the log) is folded into one chunk, and another tab reads back only the entity it changed', async () => {
    const alice = election('alice');
    const oids = Array.from({ length: 1_000 }, (_, i) => alice.create('Candidate', { name: `c${i}` }).oid);
    const storage = adapter();
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    alice.update(oids[500]!, { votes: 7 });
    expect(await storage.merge(MODEL, alice.getEntityStates([oids[500]!]), alice.version)).to.equal(2);
    expect((await chunksOf()).filter((chunk) => chunk.commit === 2)).to.have.length(0);
    expect(await storage.fold(MODEL)).to.equal(1);
    expect((await chunksOf()).filter((chunk) => chunk.commit === 2)).to.have.length(1);
    const since = await adapter().load(MODEL, 1);
    expect(since.entities.map((entity) => entity.oid)).to.deep.equal([oids[500]]);
    expect(since.entities[0]!.attributes.votes!.map((write) => write.value)).to.deep.equal([7]);
  });

  it('splits chunks as they grow, joins into every one of them, and loses nothing', async () => {
    const alice = election('alice');
    const storage = adapter();
    // Batches whose oids land between earlier ones: every batch grows chunks that exist.
    for (let batch = 0; batch < 6; batch++) {
      const created = Array.from({ length: 250 }, (_, i) => alice.create('Candidate', { name: `b${batch}-${i}` }, { oid: `c${String(i).padStart(3, '0')}-${batch}` }).oid);
      await storage.merge(MODEL, alice.getEntityStates(created), alice.version);
      expect(entitiesOf(await reloaded(storage))).to.equal(entitiesOf(alice));
    }
    const chunks = await chunksOf();
    expectEvery(chunks, (chunk) => chunk.oids.length <= CHUNK_MAX_ENTITIES, `every chunk to hold at most ${CHUNK_MAX_ENTITIES} entities`);
    expect(chunks.reduce((sum, chunk) => sum + chunk.oids.length, 0)).to.equal(1_500);
    // A concurrent writer's edits to every entity join with what is stored (both writes kept).
    const bob = election('bob');
    bob.loadState(alice.getEntityStates(), alice.version);
    for (const candidate of bob.entities('Candidate').toArray()) candidate.setAttribute('votes', 2);
    for (const candidate of alice.entities('Candidate').toArray()) candidate.setAttribute('votes', 1);
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    await adapter().merge(MODEL, bob.getEntityStates(), bob.version);
    const stored = await storage.load(MODEL);
    expect(stored.entities).to.have.length(1_500);
    for (const entity of stored.entities) expect(entity.attributes.votes!.map((write) => write.value).sort()).to.deep.equal([1, 2]);
  });

  it('a merge that fails midway stores nothing of it: every chunk as before', async () => {
    const alice = election('alice');
    for (let i = 0; i < 1_000; i++) alice.create('Candidate', { name: `c${i}` });
    const storage = adapter();
    await storage.merge(MODEL, alice.getEntityStates(), alice.version);
    const before = await chunksOf();
    for (const candidate of alice.entities('Candidate').toArray()) candidate.setAttribute('votes', 3);
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      // The third chunk written: two are queued in the transaction already.
      if (this.name === 'chunks' && ++calls === 3) throw new DOMException('The disk is full', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      const error = await storage.merge(MODEL, alice.getEntityStates(), alice.version).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect((error as { code?: string } | null)?.code).to.equal('quota-exceeded');
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(await chunksOf()).to.deep.equal(before);
    expect((await storage.load(MODEL)).commit).to.equal(1);
  });

  describe('damage', () => {
    /** Alice's board and 600 candidates (several chunks), saved; a tab then opens it. */
    async function savedRoom(): Promise<{ alice: DomainModel; oids: string[] }> {
      const alice = election('alice');
      const board = alice.create('Election', { title: 'Board' });
      const oids = Array.from({ length: 600 }, (_, i) => alice.create('Candidate', { name: `c${i}` }).oid);
      board.addChild('candidates', oids[0]!);
      const storage = new IndexedDbStorageAdapter({ roomId: 'chunks', dbName });
      await storage.merge(MODEL, alice.getEntityStates(), alice.version);
      storage.close();
      return { alice, oids: [board.oid, ...oids] };
    }
    async function openTab() {
      const storage = adapter();
      const identity = await NodeIdentity.claim(storage);
      const model = election(identity.nodeId);
      const persistence = new ModelPersistence(model, storage, { identity });
      cleanups.push(() => {
        persistence.close();
        identity.release();
      });
      await persistence.load();
      return { storage, model, persistence };
    }
    /** The dots of `state` that `model`'s version claims, as `node:seq`. */
    const claimedDots = (model: { version: { covers(dot: { node: string; seq: number }): boolean } }, state: ReturnType<DomainModel['getEntityStates']>[number]) =>
      Object.values(state.attributes)
        .flat()
        .filter((write) => model.version.covers(write.dot))
        .map((write) => `${write.dot.node}:${write.dot.seq}`);

    it("an entity whose JSON does not parse costs only itself: kept aside as text, its claims given up", async () => {
      const { alice, oids } = await savedRoom();
      const victim = oids[300]!;
      await putRawEntity(dbName, MODEL, victim, '{"entityType":"Candid', { asJson: true });
      const tab = await openTab();
      expect(tab.model.get(victim)).to.equal(undefined);
      expect(tab.model.entities('Candidate').count).to.equal(599);
      expect(tab.persistence.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['entity', victim]]);
      expect(tab.persistence.problems[0]!.reason).to.match(/does not parse/);
      expect(claimedDots(tab.model, alice.get(victim)!.toState()), 'dots of the unreadable entity the model still claims').to.deep.equal([]);
      expect((await tab.storage.quarantined()).map((record) => record.value)).to.deep.equal(['{"entityType":"Candid']);
      const stored = await tab.storage.load(MODEL);
      expect(stored.damaged).to.equal(undefined);
      expect(stored.entities).to.have.length(600);
    });

    it('a chunk that cannot be read at all is kept aside whole; the other chunks open and the version claims nothing', async () => {
      const { oids } = await savedRoom();
      const chunks = await chunksOf();
      expect(chunks.length).to.be.at.least(2);
      const broken = chunks[1]!;
      const db = await openDB(dbName);
      await db.put('chunks', { ...broken, lengths: broken.lengths.slice(1) });
      db.close();
      const tab = await openTab();
      expect(tab.model.getEntityStates()).to.have.length(601 - broken.oids.length);
      for (const oid of broken.oids) expect(tab.model.get(oid)).to.equal(undefined);
      expect(tab.model.get(oids[0]!)?.getAttribute('title')).to.equal('Board');
      expect(tab.persistence.problems.map((problem) => problem.kind)).to.deep.equal(['entity']);
      expect(tab.persistence.problems[0]!.reason).to.match(/arrays of different lengths/);
      expect(tab.model.version.get(asNodeId('alice'))).to.equal(0);
      const aside = await tab.storage.quarantined();
      expect((aside[0]!.value as ChunkRecord).oids).to.deep.equal(broken.oids);
      const stored = await tab.storage.load(MODEL);
      expect(stored.damaged).to.equal(undefined);
      expect(stored.entities).to.have.length(601 - broken.oids.length);
      expect(stored.version.get(asNodeId('alice'))).to.equal(0);
    });

    it('a save into a chunk damaged since the load keeps the chunk aside, stores the entity and claims nothing', async () => {
      const { alice, oids } = await savedRoom();
      const storage = adapter();
      const chunks = await chunksOf();
      const db = await openDB(dbName);
      await db.put('chunks', { ...chunks.at(-1)!, data: 42 });
      db.close();
      const last = chunks.at(-1)!.oids.at(-1)!;
      alice.update(last, { votes: 9 });
      await storage.merge(MODEL, alice.getEntityStates([last]), alice.version);
      // The save is appended to the log; the fold joins it into the chunk and meets the damage.
      await storage.fold(MODEL);
      const stored = await storage.load(MODEL);
      expect(stored.damaged).to.equal(undefined);
      expect(stored.version.toJSON(), 'stored version').to.deep.equal({});
      expect(stored.entities.find((entity) => entity.oid === last)!.attributes.votes!.map((write) => write.value)).to.deep.equal([9]);
      expect(stored.entities).to.have.length(oids.length - chunks.at(-1)!.oids.length + 1);
      expect((await storage.quarantined()).map((record) => record.kind)).to.deep.equal(['entity']);
    });
  });
});
