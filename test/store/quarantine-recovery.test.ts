import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/index.js';
import type { DomainModel } from '../../src/domain/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { IndexedDbStorageAdapter, MemoryStorageAdapter, ModelPersistence, NodeIdentity, type StorageAdapter } from '../../src/store/index.js';
import { SynchronizationEngine } from '../../src/sync/index.js';
import { election, entitiesOf } from './election-model.js';
import { putRawEntity } from './put-raw-entity.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { eventually } from '../eventually.js';

const MODEL = 'election';
const quiet = { warn: () => {} };

interface Peer {
  readonly model: DomainModel;
  readonly engine: SynchronizationEngine;
  readonly transport: MemoryTransport;
  readonly persistence?: ModelPersistence;
  readonly storage?: StorageAdapter;
  close(): void;
}

const backends: Array<[string, () => { open(): StorageAdapter; damage(oid: string): Promise<void>; teardown(): Promise<void> }]> = [
  [
    'memory',
    () => {
      const first = new MemoryStorageAdapter();
      return {
        open: () => first.openAnother(),
        damage: async (oid) => first.putRaw({ store: 'entities', modelId: MODEL, oid }, null),
        teardown: async () => first.close(),
      };
    },
  ],
  [
    'IndexedDB',
    () => {
      const dbName = uniqueDbName();
      return {
        open: () => new IndexedDbStorageAdapter({ roomId: 'r', dbName }),
        damage: (oid) => putRawEntity(dbName, MODEL, oid, null),
        teardown: () => deleteTestDb(dbName),
      };
    },
  ],
];

for (const [backend, makeRoom] of backends) {
  describe(`A peer sends back what damaged storage lost (${backend})`, () => {
    let network: MemoryNetwork;
    let room: ReturnType<typeof makeRoom>;
    const cleanups: Array<() => void> = [];

    beforeEach(() => {
      network = new MemoryNetwork();
      room = makeRoom();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) cleanup();
      network.close();
      await room.teardown();
    });

    /** A peer; with `stored`, it opens the room's storage as a tab does before registering the model. */
    async function peer(id: string, stored = false): Promise<Peer> {
      const storage = stored ? room.open() : undefined;
      const identity = storage ? await NodeIdentity.claim(storage, { newNodeId: () => asNodeId(id) }) : undefined;
      const model = election(id);
      const engine = new SynchronizationEngine({ nodeId: asNodeId(id), antiEntropyIntervalMs: 0, logger: quiet });
      const persistence = storage ? new ModelPersistence(model, storage, { identity }) : undefined;
      await persistence?.load();
      engine.registerModel(MODEL, model);
      const transport = new MemoryTransport(network, asNodeId(id), { logger: quiet });
      transport.onConnection((connection) => engine.addConnection(connection));
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        persistence?.close();
        engine.stop();
        transport.close();
        identity?.release();
        storage?.close();
      };
      cleanups.push(close);
      return { model, engine, transport, persistence, storage, close };
    }

    const link = async (a: Peer, _b: Peer, bId: string) => a.engine.addConnection(await a.transport.connect(asNodeId(bId)));

    for (const author of ['alice', 'bob'] as const) {
      it(`bob's stored record of an election ${author} made is damaged: the room opens without it, and alice sends it back`, async () => {
        const alice = await peer('alice');
        let bob = await peer('bob', true);
        const maker = author === 'alice' ? alice : bob;
        const board = maker.model.create('Election', { title: 'Board' }, { oid: 'board' });
        board.addChild('candidates', maker.model.create('Candidate', { name: 'Ada' }, { oid: 'ada' }));
        await link(alice, bob, 'bob');
        await eventually(() => entitiesOf(bob.model) === entitiesOf(alice.model));
        await bob.persistence!.whenSaved();
        bob.close();
        alice.transport.close();

        await room.damage('board');
        const aliceAgain = { ...alice, transport: new MemoryTransport(network, asNodeId('alice'), { logger: quiet }) };
        aliceAgain.transport.onConnection((connection) => alice.engine.addConnection(connection));
        cleanups.push(() => aliceAgain.transport.close());
        bob = await peer('bob', true);
        expect(bob.model.get('board')).to.equal(undefined);
        expect(bob.model.get('ada')?.getAttribute('name')).to.equal('Ada');
        expect(bob.persistence!.problems.map((problem) => [problem.kind, problem.key])).to.deep.equal([['entity', 'board']]);

        await link(bob, aliceAgain, 'alice');
        await eventually(() => entitiesOf(bob.model) === entitiesOf(alice.model));
        expect(bob.model.get('board')?.getAttribute('title')).to.equal('Board');
        // Bob writes on: no seq of his is used twice, so alice gets the new write too.
        bob.model.get('board')!.setAttribute('title', 'Board 2026');
        await eventually(() => alice.model.get('board')?.getAttribute('title') === 'Board 2026');
        await bob.persistence!.whenSaved();
        const stored = await bob.storage!.load(MODEL);
        expect(stored.damaged).to.equal(undefined);
        expect(stored.entities.find((entity) => entity.oid === 'board')).to.deep.equal(bob.model.get('board')!.toState());
        // The damaged record is still kept aside.
        expect((await bob.storage!.quarantined()).map((record) => [record.kind, record.key, record.value])).to.deep.equal([['entity', 'board', null]]);
      });
    }
  });
}
