import { expect } from 'chai';
import { openDB } from 'idb';
import { asNodeId } from '../../src/crdt/index.js';
import type { DomainModel } from '../../src/domain/index.js';
import {
  IndexedDbStorageAdapter,
  MemoryStorageAdapter,
  ModelPersistence,
  NodeIdentity,
  type PersistenceEvent,
  type RawPlace,
  type StorageAdapter,
} from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { putRawEntity } from './put-raw-entity.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { expectSameVersion } from '../expectations.js';
import { eventually } from '../eventually.js';

const MODEL = 'election';

/** A room whose stored records a test can damage, as a browser bug, a full disk or an old build might. */
interface DamageableRoom {
  open(): StorageAdapter;
  /** Stores `value` unchecked where the adapter keeps the record at `place`. */
  putRaw(place: RawPlace, value: unknown): Promise<void>;
  teardown(): Promise<void>;
}

const backends: Array<[string, () => DamageableRoom]> = [
  [
    'memory',
    () => {
      const first = new MemoryStorageAdapter();
      return { open: () => first.openAnother(), putRaw: async (place, value) => first.putRaw(place, value), teardown: async () => first.close() };
    },
  ],
  [
    'IndexedDB',
    () => {
      const dbName = uniqueDbName();
      return {
        open: () => new IndexedDbStorageAdapter({ roomId: 'r', dbName }),
        async putRaw(place, value) {
          // Created (or migrated) by the adapter first; then opened at its own version.
          const adapter = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
          await adapter.open();
          adapter.close();
          const db = await openDB(dbName);
          try {
            if (place.store === 'meta') await db.put('meta', value, 'room');
            else if (place.store === 'identities') await db.put('identities', value);
            else if (place.store === 'models') await db.put('models', { ...(value as object), modelId: place.modelId });
            else if (place.store === 'entities') await putRawEntity(dbName, place.modelId, place.oid, value);
            else await db.put('certificates', { modelId: place.modelId, key: place.key, commit: 1, bytes: value });
          } finally {
            db.close();
          }
        },
        teardown: () => deleteTestDb(dbName),
      };
    },
  ],
];

for (const [backend, makeRoom] of backends) {
  describe(`Damaged storage is kept aside and the room opens (${backend})`, () => {
    let room: DamageableRoom;
    const cleanups: Array<() => void> = [];

    beforeEach(() => {
      room = makeRoom();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) cleanup();
      await room.teardown();
    });

    /** Opens the room as a tab does: identity, model, persistence, load. */
    async function openTab(node?: string) {
      const storage = room.open();
      const identity = await NodeIdentity.claim(storage, { ...(node ? { newNodeId: () => asNodeId(node) } : {}) });
      const model = election(identity.nodeId);
      const persistence = new ModelPersistence(model, storage, { identity, retryDelayMs: 10 });
      const events: PersistenceEvent[] = [];
      persistence.onEvent((event) => events.push(event));
      cleanups.push(() => {
        persistence.close();
        identity.release();
        storage.close();
      });
      await persistence.load();
      return { storage, identity, model, persistence, events };
    }

    /** Alice's board with two candidates, saved; returns what was saved. */
    async function savedBoard(): Promise<{ model: DomainModel; board: string; ada: string; bob: string }> {
      const storage = room.open();
      const alice = election('alice');
      const board = alice.create('Election', { title: 'Board' });
      const ada = alice.create('Candidate', { name: 'Ada' });
      const bob = alice.create('Candidate', { name: 'Bob' });
      board.addChild('candidates', ada);
      await storage.merge(MODEL, alice.getEntityStates(), alice.version);
      storage.close();
      return { model: alice, board: board.oid, ada: ada.oid, bob: bob.oid };
    }

    const damagedEntities: Array<[string, (state: Record<string, unknown>) => unknown, RegExp]> = [
      ['stored as null', () => null, /stored as null/],
      ['stored as a number', () => 42, /stored as 42/],
      ['with a value of the wrong type', (state) => withAttribute(state, 'name', 17), /Candidate\.name/],
      ['of an unknown concept', (state) => ({ ...state, entityType: 'Dragon' }), /unknown concept Dragon/],
      ['with a string over the cap', (state) => withAttribute(state, 'name', 'x'.repeat(20_000)), /Candidate\.name/],
      ['with unreadable dots', (state) => ({ ...state, attributes: { name: [{ value: 'Ada', ts: 1, dot: 'nowhere' }] } }), /./],
    ];

    for (const [what, damage, reason] of damagedEntities) {
      it(`an entity ${what}: opens with the rest, reports it, keeps it aside and claims none of its dots`, async () => {
        const saved = await savedBoard();
        const original = saved.model.get(saved.ada)!.toState() as unknown as Record<string, unknown>;
        const damaged = damage(structuredClone(original));
        await room.putRaw({ store: 'entities', modelId: MODEL, oid: saved.ada }, damaged);

        const tab = await openTab();
        expect(tab.model.get(saved.ada)).to.equal(undefined);
        expect(tab.model.get(saved.bob)?.getAttribute('name')).to.equal('Bob');
        expect(tab.model.get(saved.board)?.getAttribute('title')).to.equal('Board');
        // Reported as state, readable by views that mount later, and once as an event.
        expect(tab.persistence.problems.map((problem) => [problem.kind, problem.modelId, problem.key])).to.deep.equal([['entity', MODEL, saved.ada]]);
        expect(tab.persistence.problems[0]!.reason).to.match(reason);
        expect(tab.events.filter((event) => event.type === 'quarantined')).to.have.length(1);
        expect(tab.storage.problems).to.deep.equal(tab.persistence.problems);
        // The version no longer claims Ada's dots, in memory and in storage: peers send her again.
        for (const write of Object.values(saved.model.get(saved.ada)!.toState().attributes).flat())
          expect(tab.model.version.covers(write.dot), `model claims ${write.dot.seq}`).to.equal(false);
        const stored = await tab.storage.load(MODEL);
        expect(stored.damaged).to.equal(undefined);
        expect(stored.entities.map((entity) => entity.oid).sort()).to.deep.equal([saved.board, saved.bob].sort());
        for (const write of Object.values(saved.model.get(saved.ada)!.toState().attributes).flat())
          expect(stored.version.covers(write.dot), `storage claims ${write.dot.seq}`).to.equal(false);
        // Kept aside, as it was stored.
        const aside = await tab.storage.quarantined();
        expect(aside.map((record) => [record.kind, record.key])).to.deep.equal([['entity', saved.ada]]);
        expect(aside[0]!.value).to.deep.equal(damaged);
      });
    }

    it('a damaged stored version: opens with every entity, claims nothing, keeps the record aside', async () => {
      const saved = await savedBoard();
      await room.putRaw({ store: 'models', modelId: MODEL }, { version: { alice: 'lots' }, commit: 1 });
      const tab = await openTab();
      expect(entitiesOf(tab.model)).to.equal(entitiesOf(saved.model));
      expect(tab.model.version.get(asNodeId('alice'))).to.equal(0);
      expect(tab.persistence.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['version', MODEL]]);
      const aside = await tab.storage.quarantined();
      expect(aside.map((record) => (record.value as { version: unknown }).version)).to.deep.equal([{ alice: 'lots' }]);
      // Saving works again, with a version that claims what the model holds.
      tab.model.create('Candidate', { name: 'Cy' });
      await tab.persistence.whenSaved();
      const stored = await tab.storage.load(MODEL);
      expect(stored.damaged).to.equal(undefined);
      expectSameVersion(stored.version, tab.model.version);
    });

    it('a damaged stored version of a model without identity: own seqs found in the entities are never reused', async () => {
      const storage = room.open();
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      await storage.merge(MODEL, alice.getEntityStates(), alice.version);
      storage.close();
      await room.putRaw({ store: 'models', modelId: MODEL }, { version: 'garbage', commit: 1 });
      const again = election('alice');
      const persistence = new ModelPersistence(again, room.open());
      cleanups.push(() => persistence.close());
      await persistence.load();
      expect(again.nextSeq).to.be.greaterThan(alice.version.maxSeen(asNodeId('alice')));
    });

    it('a certificate stored as something else than bytes is kept aside', async () => {
      await savedBoard();
      await room.putRaw({ store: 'certificates', modelId: MODEL, key: 'broken' }, 'not bytes');
      const tab = await openTab();
      expect(tab.model.entities('Candidate').count).to.equal(2);
      expect(tab.persistence.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['certificate', 'broken']]);
      expect((await tab.storage.quarantined()).map((record) => record.value)).to.deep.equal(['not bytes']);
      expect((await tab.storage.load(MODEL)).certificates).to.deep.equal([]);
    });

    it('a damaged sequence reservation: a fresh one a block beyond every seq of the node in storage', async () => {
      // Alice used seqs up to 250 (stored), and her reservation record is damaged.
      const storage = room.open();
      const alice = election('alice', { firstSeq: 240 });
      alice.create('Candidate', { name: 'Ada' });
      const highest = alice.version.maxSeen(asNodeId('alice'));
      await storage.merge(MODEL, alice.getEntityStates(), alice.version);
      storage.close();
      await room.putRaw({ store: 'identities', nodeId: 'alice' }, { nodeId: 'alice', reservedUpTo: 'many', lastClaimedAt: 1 });

      const tab = await openTab('alice');
      expect(tab.identity.nodeId).to.equal('alice');
      // Own seqs continue after the stored ones, whatever the reservation record said.
      tab.model.create('Candidate', { name: 'Bo' }, { oid: 'bo' });
      expect(tab.model.version.maxSeen(asNodeId('alice'))).to.be.greaterThan(highest);
      expect(tab.storage.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['reservation', 'alice']]);
      expect((await tab.storage.quarantined()).map((record) => record.value)).to.deep.equal([{ nodeId: 'alice', reservedUpTo: 'many', lastClaimedAt: 1 }]);
      // Repaired for good: the next claim is an ordinary one.
      expect(await tab.storage.identities()).to.have.length(1);
    });

    it('an identity record without a node id is left unused and reported; the tab takes another', async () => {
      await room.putRaw({ store: 'identities', nodeId: '??' }, { nodeId: '??', reservedUpTo: 5, lastClaimedAt: 1 });
      const tab = await openTab('alice');
      expect(tab.identity.nodeId).to.equal('alice');
      expect(tab.storage.problems.map((problem) => problem.kind)).to.deep.equal(['identity']);
    });

    for (const [what, metadata, expected] of [
      ['not an object', 'garbage', {}],
      ['with fields of the wrong type', { createdAt: 'yesterday', persistenceGranted: 'maybe', acknowledgedOwnSeq: { 'election@a': -1, 'election@b': 4 } }, { acknowledgedOwnSeq: { 'election@b': 4 } }],
    ] as const) {
      it(`room metadata ${what}: the valid fields, reported, the record kept aside`, async () => {
        await room.putRaw({ store: 'meta' }, metadata);
        const storage = room.open();
        cleanups.push(() => storage.close());
        expect(await storage.readMetadata()).to.deep.equal(expected);
        expect(storage.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['metadata', 'room']]);
        expect((await storage.quarantined()).map((record) => record.value)).to.deep.equal([metadata]);
        // Repaired: read again, nothing more to report; writes merge into the repaired record.
        await storage.writeMetadata({ createdAt: 5 });
        expect(await storage.readMetadata()).to.deep.equal({ ...expected, createdAt: 5 });
        expect(storage.problems).to.have.length(1);
      });
    }

    it('quarantine moves a record only while it still holds what was loaded (another tab may have stored a healthy copy)', async () => {
      const saved = await savedBoard();
      const storage = room.open();
      cleanups.push(() => storage.close());
      const healthy = saved.model.get(saved.ada)!.toState();
      const problems = await storage.quarantine(MODEL, [{ kind: 'entity', key: saved.ada, value: null, reason: 'stored as null' }], new Map());
      expect(problems).to.deep.equal([]);
      expect((await storage.load(MODEL)).entities.find((entity) => entity.oid === saved.ada)).to.deep.equal(healthy);
      expect(await storage.quarantined()).to.deep.equal([]);
    });

    it('a save over an entity record damaged since the load keeps the damaged one aside and stores the model\'s', async () => {
      const saved = await savedBoard();
      const tab = await openTab();
      await room.putRaw({ store: 'entities', modelId: MODEL, oid: saved.ada }, null);
      tab.model.get(saved.ada)!.setAttribute('votes', 3);
      await tab.persistence.whenSaved();
      const stored = await tab.storage.load(MODEL);
      expect(stored.damaged).to.equal(undefined);
      expect(stored.entities.find((entity) => entity.oid === saved.ada)).to.deep.equal(tab.model.get(saved.ada)!.toState());
      // (IndexedDB: a live edit's save is appended to the change log; the fold that joins it into
      // the chunk, once saves pause, keeps the damaged record aside.)
      const keptAside = async () => JSON.stringify((await tab.storage.quarantined()).map((record) => [record.kind, record.key, record.value]));
      await eventually(async () => (await keptAside()) === JSON.stringify([['entity', saved.ada, null]]), 'the damaged record kept aside');
    });
  });
}

function withAttribute(state: Record<string, unknown>, attribute: string, value: unknown): Record<string, unknown> {
  const attributes = state.attributes as Record<string, Array<Record<string, unknown>>>;
  return { ...state, attributes: { ...attributes, [attribute]: attributes[attribute]!.map((write) => ({ ...write, value })) } };
}
