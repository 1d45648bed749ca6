import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import type { VersionVector } from '../../src/crdt/index.js';
import type { DomainModel, EntityState } from '../../src/domain/index.js';
import {
  IndexedDbStorageAdapter,
  MemoryStorageAdapter,
  ModelPersistence,
  NodeIdentity,
  type PersistenceEvent,
  type StorageAdapter,
  StorageError,
  exportRoom,
} from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { lockReleased } from './lock-released.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { eventually } from '../eventually.js';
import { expectSome } from '../expectations.js';

/** One open tab of a room: storage connection, identity, model and persistence. */
interface Tab {
  readonly storage: StorageAdapter;
  readonly identity: NodeIdentity;
  readonly model: DomainModel;
  readonly persistence: ModelPersistence;
  readonly events: PersistenceEvent[];
}

/** What a brand-new tab loads from `storage` (closed afterwards). */
async function freshLoad(storage: StorageAdapter): Promise<DomainModel> {
  try {
    const model = election('zed');
    const stored = await storage.load('election');
    model.loadState(stored.entities, stored.version);
    return model;
  } finally {
    storage.close();
  }
}

const backends: Array<[string, () => { open(): StorageAdapter; teardown(): Promise<void> }]> = [
  [
    'memory',
    () => {
      const first = new MemoryStorageAdapter();
      let used = false;
      return {
        open: () => (used ? first.openAnother() : ((used = true), first)),
        teardown: async () => undefined,
      };
    },
  ],
  [
    'IndexedDB',
    () => {
      const dbName = uniqueDbName();
      return {
        open: () => new IndexedDbStorageAdapter({ roomId: 'r', dbName }),
        teardown: () => deleteTestDb(dbName),
      };
    },
  ],
];

for (const [backend, makeBackend] of backends) {
  describe(`ModelPersistence (${backend})`, () => {
    let room: ReturnType<typeof makeBackend>;
    const tabs: Tab[] = [];

    async function openTab(options: { load?: boolean } = {}): Promise<Tab> {
      const storage = room.open();
      const identity = await NodeIdentity.claim(storage);
      const model = election(identity.nodeId);
      const persistence = new ModelPersistence(model, storage, { identity, retryDelayMs: 10 });
      const events: PersistenceEvent[] = [];
      persistence.onEvent((event) => events.push(event));
      if (options.load !== false) await persistence.load();
      const tab = { storage, identity, model, persistence, events };
      tabs.push(tab);
      return tab;
    }

    // Closes a tab abruptly, as a crash or a closed page does: no final save.
    function closeTab(tab: Tab): void {
      tab.persistence.close();
      tab.identity.release();
      tab.storage.close();
      tabs.splice(tabs.indexOf(tab), 1);
    }

    beforeEach(() => {
      room = makeBackend();
    });
    afterEach(async () => {
      for (const tab of [...tabs]) closeTab(tab);
      await room.teardown();
    });

    it('saves a burst of edits made in one turn in one transaction, then reports it saved', async () => {
      const tab = await openTab();
      const election1 = tab.model.create('Election', { title: 'Board' });
      for (let i = 0; i < 50; i++) election1.addChild('candidates', tab.model.create('Candidate', { name: `c${i}` }));
      expect(tab.persistence.pending).to.equal(51);
      await tab.persistence.whenSaved();
      expect(tab.persistence.pending).to.equal(0);
      const saved = tab.events.filter((event) => event.type === 'saved');
      expect(saved).to.have.length(1);
      expect(saved[0]!.type === 'saved' && saved[0]!.oids.length).to.equal(51);
      expect(tab.events.at(-1)).to.deep.include({ type: 'pending', pending: 0 });
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(tab.model));
    });

    it("starts an own edit's save without waiting for a timer (an edit leaves the device only once stored)", async () => {
      const storage = room.open();
      const identity = await NodeIdentity.claim(storage);
      const model = election(identity.nodeId);
      // Timers that never fire: the save of an own edit must not depend on one.
      const persistence = new ModelPersistence(model, storage, { identity, timers: { setTimeout: () => 0, clearTimeout: () => undefined } });
      const events: PersistenceEvent[] = [];
      persistence.onEvent((event) => events.push(event));
      tabs.push({ storage, identity, model, persistence, events });
      await persistence.load();
      model.create('Candidate', { name: 'Ada' });
      await eventually(() => events.some((event) => event.type === 'saved'), 'the edit saved');
      expect(persistence.pending).to.equal(0);
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(model));
    });

    it('loads what is stored before anything else: a reopened tab has everything, with no network', async () => {
      const first = await openTab();
      first.model.create('Candidate', { name: 'Ada', votes: 4 });
      first.model.create('Candidate', { name: 'Bob', votes: 2 });
      await first.persistence.whenSaved();
      const expected = entitiesOf(first.model);
      closeTab(first);
      const reopened = await openTab();
      expect(entitiesOf(reopened.model)).to.equal(expected);
      expect(reopened.events.filter((event) => event.type === 'loaded')).to.have.length(1);
      expect(reopened.events.filter((event) => event.type === 'saved')).to.deep.equal([]);
    });

    it('keeps what removal marks name through saves and a reopen, and a later removal adds to the list', async () => {
      const first = await openTab();
      const board = first.model.create('Election', { title: 'Board' });
      const [ada, bob, cy] = ['Ada', 'Bob', 'Cy'].map((name) => first.model.create('Candidate', { name }));
      for (const candidate of [ada!, bob!, cy!]) board.addChild('candidates', candidate);
      const dotOf = (oid: string) => first.model.get(board.oid)!.toState().children.candidates!.find(([child]) => child === oid)![1];
      const adaDots = dotOf(ada!.oid);
      const bobDots = dotOf(bob!.oid);
      board.removeChild('candidates', ada!);
      await first.persistence.whenSaved();
      const firstNode = first.identity.nodeId;
      closeTab(first);
      const second = await openTab();
      const marks = () => second.model.get(board.oid)!.toState().removals!.candidates!;
      expect(marks().map((mark) => mark.removed)).to.deep.equal([adaDots]);
      second.model.get(board.oid)!.removeChild('candidates', bob!.oid);
      await second.persistence.whenSaved();
      const reloaded = await freshLoad(room.open());
      // Under the first tab's node id again, the new mark also names what the mark from before the
      // reopen named (cumulative); under a new one, each node's mark names its own removal.
      const secondNode = second.identity.nodeId;
      const expected =
        secondNode === firstNode ? [[...adaDots, ...bobDots]] : firstNode < secondNode ? [adaDots, bobDots] : [bobDots, adaDots];
      expect(reloaded.get(board.oid)!.toState().removals!.candidates!.map((mark) => mark.removed)).to.deep.equal(expected);
      expect(entitiesOf(reloaded)).to.equal(entitiesOf(second.model));
    });

    it('saves remote changes applied to the model', async () => {
      const tab = await openTab();
      const bob = election('bob');
      bob.create('Candidate', { name: 'From Bob' });
      tab.model.applyChanges(bob.getDelta(tab.model.version));
      await tab.persistence.whenSaved();
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(tab.model));
    });

    it('saves a burst of remote batches arriving in separate tasks in fewer transactions than batches, every change in the end', async () => {
      const storage = room.open();
      let merges = 0;
      const merge = storage.merge.bind(storage);
      storage.merge = (modelId: string, entities: readonly EntityState[], version: VersionVector) => {
        merges++;
        return merge(modelId, entities, version);
      };
      const model = election('carol');
      const persistence = new ModelPersistence(model, storage, { saveDelayMs: 1000, maxSaveDelayMs: 5000 });
      const savedOids = new Set<string>();
      persistence.onEvent((event) => {
        if (event.type === 'saved') for (const oid of event.oids) savedOids.add(oid);
      });
      await persistence.load();
      const bob = election('bob');
      const batches = 20;
      for (let i = 0; i < batches; i++) {
        bob.create('Candidate', { name: `remote ${i}` });
        model.applyChanges(bob.getDelta(model.version));
        // Each batch in its own task, as the parts of a delta arrive from a data channel.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await persistence.whenSaved();
      expect(merges).to.be.greaterThan(0).and.lessThan(batches);
      expect(savedOids.size).to.equal(batches);
      expect(persistence.pending).to.equal(0);
      persistence.close();
      storage.close();
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(model));
    });

    it('saves on its own while changes keep arriving, at the latest maxSaveDelayMs after a change', async () => {
      const storage = room.open();
      const model = election('carol');
      // Changes never pause for a whole minute here: only the cap makes the saves happen.
      const persistence = new ModelPersistence(model, storage, { saveDelayMs: 60_000, maxSaveDelayMs: 20 });
      const events: PersistenceEvent[] = [];
      persistence.onEvent((event) => events.push(event));
      await persistence.load();
      const bob = election('bob');
      let i = 0;
      while (!events.some((event) => event.type === 'saved')) {
        bob.create('Candidate', { name: `remote ${i++}` });
        model.applyChanges(bob.getDelta(model.version));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // The last changes are saved without a pause of a minute and without whenSaved().
      await eventually(() => persistence.pending === 0);
      persistence.close();
      storage.close();
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(model));
    });

    it('saves at once when the page goes away, without waiting for changes to pause', async () => {
      const storage = room.open();
      const model = election('carol');
      const persistence = new ModelPersistence(model, storage, { saveDelayMs: 60_000, maxSaveDelayMs: 60_000 });
      await persistence.load();
      // A peer's change waits for a pause (this device's own edits are saved at once anyway).
      const bob = election('bob');
      bob.create('Candidate', { name: 'Ada' });
      model.applyChanges(bob.getDelta(model.version));
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(persistence.pending).to.equal(1);
      window.dispatchEvent(new Event('pagehide'));
      await eventually(() => persistence.pending === 0);
      persistence.close();
      storage.close();
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(model));
    });

    it('after a reload claims exactly what was stored: an unsaved write is gone and was never claimable', async () => {
      const first = await openTab();
      const ada = first.model.create('Candidate', { name: 'Ada' });
      await first.persistence.whenSaved();
      const stored = first.model.version.clone();
      expect(first.persistence.claimableVersion().toJSON()).to.deep.equal(stored.toJSON());
      // The tab dies before this write is stored: it was never claimable, so it never left; nor
      // was the stored default it overwrote (seq 2: after a crash it is back, unsuperseded).
      ada.setAttribute('votes', 7);
      const nodeId = first.identity.nodeId;
      expect(first.persistence.claimableVersion().toJSON()).to.deep.equal({ [nodeId]: 1 });
      closeTab(first);
      await lockReleased(nodeId);
      const second = await openTab();
      expect(second.identity.nodeId).to.equal(nodeId);
      expect(second.model.version.toJSON()).to.deep.equal(stored.toJSON());
      expect(second.persistence.claimableVersion().toJSON()).to.deep.equal(stored.toJSON());
      expect(second.model.get(ada.oid)!.getAttribute('votes')).to.not.equal(7);
    });

    it('never claims a stored write superseded by an own edit that is not stored yet', async () => {
      const tab = await openTab();
      const bob = election('bob');
      const remote = bob.create('Candidate', { name: 'Bob’s' });
      tab.model.applyChanges(bob.getDelta(tab.model.version));
      await tab.persistence.whenSaved();
      const bobSeq = bob.version.maxSeen(asNodeId('bob'));
      expect(tab.persistence.claimableVersion().get(asNodeId('bob'))).to.equal(bobSeq);
      // Overwriting Bob's write: until stored, a context covering Bob's write would tell a peer
      // it was superseded, yet after a crash here it is back and nothing supersedes it.
      tab.model.get(remote.oid)!.setAttribute('name', 'Ours');
      const overwritten = tab.model.getEntityStates([remote.oid])[0]!.attributes.name!;
      expect(overwritten.map((write) => write.dot.node)).to.deep.equal([tab.identity.nodeId]);
      expect(tab.persistence.claimableVersion().get(asNodeId('bob'))).to.be.lessThan(bobSeq);
      await tab.persistence.whenSaved();
      expect(tab.persistence.claimableVersion().toJSON()).to.deep.equal(tab.model.version.toJSON());
    });

    it('keeps two tabs writing the same entities at once in step, losing no write', async () => {
      const tabA = await openTab();
      const tabB = await openTab();
      expect(tabA.identity.nodeId).to.not.equal(tabB.identity.nodeId);
      const shared = tabA.model.create('Candidate', { name: 'Shared' });
      await tabA.persistence.whenSaved();
      await eventually(() => tabB.model.get(shared.oid) !== undefined);
      for (let round = 0; round < 20; round++) {
        tabA.model.get(shared.oid)!.setAttribute('votes', round);
        tabB.model.get(shared.oid)!.setAttribute('name', `B${round}`);
        tabA.model.create('Candidate', { name: `A-only ${round}` });
        tabB.model.create('Candidate', { name: `B-only ${round}` });
        if (round % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await Promise.all([tabA.persistence.whenSaved(), tabB.persistence.whenSaved()]);
      await eventually(() => entitiesOf(tabA.model) === entitiesOf(tabB.model) && tabA.model.version.equals(tabB.model.version));
      expect(tabA.model.entities('Candidate').count).to.equal(41);
      expect(tabA.model.get(shared.oid)!.getAttribute('votes')).to.equal(19);
      expect(tabA.model.get(shared.oid)!.getAttribute('name')).to.equal('B19');
      const stored = await freshLoad(room.open());
      expect(entitiesOf(stored)).to.equal(entitiesOf(tabA.model));
    });

    it('keeps concurrent writes to one attribute from two tabs as a conflict in both tabs and storage', async () => {
      const tabA = await openTab();
      const tabB = await openTab();
      const shared = tabA.model.create('Candidate', { name: 'Shared' });
      await tabA.persistence.whenSaved();
      await eventually(() => tabB.model.get(shared.oid) !== undefined);
      tabA.model.get(shared.oid)!.setAttribute('name', 'From A');
      tabB.model.get(shared.oid)!.setAttribute('name', 'From B');
      await Promise.all([tabA.persistence.whenSaved(), tabB.persistence.whenSaved()]);
      await eventually(() => tabA.model.conflicts.length === 1 && tabB.model.conflicts.length === 1);
      const stored = await freshLoad(room.open());
      const names = (m: DomainModel) => m.getEntityStates([shared.oid])[0]!.attributes.name!.map((w) => w.value).sort();
      expect(names(stored)).to.deep.equal(['From A', 'From B']);
      expect(names(tabA.model)).to.deep.equal(['From A', 'From B']);
      expect(names(tabB.model)).to.deep.equal(['From A', 'From B']);
    });

    it('does not echo: loading another tab\'s writes saves nothing', async () => {
      const tabA = await openTab();
      const tabB = await openTab();
      tabA.model.create('Candidate', { name: 'Ada' });
      await tabA.persistence.whenSaved();
      await eventually(() => tabB.model.entities('Candidate').count === 1);
      // An echo would have marked the loaded entity unsaved as it was applied: this saves it now.
      await tabB.persistence.whenSaved();
      expect(tabB.events.filter((event) => event.type === 'saved')).to.deep.equal([]);
      expect(tabB.persistence.pending).to.equal(0);
      expectSome(tabB.events, (event) => event.type === 'loaded' && event.source === 'other-tab');
      const storage = room.open();
      expect((await storage.load('election')).commit).to.equal(1);
      storage.close();
    });

    it('closed in the middle of a burst: every write reported saved is there on reopen', async () => {
      const tab = await openTab();
      const saved = new Map<string, string>();
      const written = new Map<string, string>();
      tab.persistence.onEvent((event) => {
        if (event.type === 'saved') for (const oid of event.oids) saved.set(oid, written.get(oid)!);
      });
      let i = 0;
      // Write one entity per turn until a dozen saves were reported, then close without waiting.
      while (saved.size < 12) {
        const candidate = tab.model.create('Candidate', { name: `n${i++}` });
        written.set(candidate.oid, candidate.getAttribute('name') as string);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      for (let j = 0; j < 20; j++) tab.model.create('Candidate', { name: `late${j}` });
      closeTab(tab);
      const reopened = await openTab();
      for (const [oid, name] of saved) expect(reopened.model.get(oid)?.getAttribute('name')).to.equal(name);
    });

    it('keeps failed saves pending, reports the error, and retries until saved', async () => {
      const tab = await openTab({ load: false });
      let failures = 1;
      const merge = tab.storage.merge.bind(tab.storage);
      tab.storage.merge = (modelId: string, entities: readonly EntityState[], version: VersionVector) =>
        failures-- > 0 ? Promise.reject(new StorageError('quota-exceeded')) : merge(modelId, entities, version);
      await tab.persistence.load();
      tab.model.create('Candidate', { name: 'Ada' });
      const error = await tab.persistence.whenSaved().then(
        () => null,
        (caught: unknown) => caught,
      );
      expect((error as StorageError).code).to.equal('quota-exceeded');
      expect(tab.persistence.pending).to.equal(1);
      const reported = tab.events.find((event) => event.type === 'error');
      expect(reported?.type === 'error' && reported.error.message).to.match(/storage is full/);
      // The retry timer saves it without any further change.
      await eventually(() => tab.persistence.pending === 0);
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(tab.model));
    });

    it('after the stored room is deleted, keeps the model, offers export, and saves everything again', async () => {
      const tab = await openTab();
      tab.model.create('Candidate', { name: 'Ada' });
      tab.model.create('Candidate', { name: 'Bob' });
      await tab.persistence.whenSaved();
      const other = room.open();
      await other.deleteRoom();
      other.close();
      await eventually(() => tab.events.some((event) => event.type === 'error' && event.error.code === 'deleted'));
      expect(tab.model.entities('Candidate').count).to.equal(2);
      expect(tab.persistence.pending).to.equal(2);
      expect(exportRoom('r', [tab.model]).models[0]!.entities).to.have.length(2);
      tab.model.create('Candidate', { name: 'Carol' });
      await tab.persistence.whenSaved();
      expect(entitiesOf(await freshLoad(room.open()))).to.equal(entitiesOf(tab.model));
    });
  });
}
