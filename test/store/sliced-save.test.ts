import { expect } from 'chai';
import { IndexedDbStorageAdapter, MemoryStorageAdapter, ModelPersistence } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { expectSameVersion } from '../expectations.js';
import { countingSlicer } from '../counting-slicer.js';

describe('saving a large arrival a slice at a time', () => {
  it('IndexedDB joins and writes at most entitiesPerTask entities per task, all in one transaction', async () => {
    const dbName = uniqueDbName();
    const tasks: number[] = [];
    const storage = new IndexedDbStorageAdapter({ roomId: 'sliced', dbName, entitiesPerTask: 100, onSaveTask: (entities) => tasks.push(entities) });
    try {
      const model = election('alice');
      for (let i = 0; i < 1_000; i++) model.create('Election', { title: `Election ${i}` });
      const first = await storage.merge('election', model.getEntityStates(), model.version);
      // A first save puts every entity in one new chunk: 10 tasks join them, 10 encode them.
      expect(tasks).to.have.length(20);
      expect(Math.max(...tasks)).to.equal(100);
      // A second save of every entity joins into what is stored: one commit more, same state.
      for (const entity of model.entities('Election').toArray().slice(0, 500)) model.update(entity.oid, { title: `${entity.getAttribute('title')} (2)` });
      const second = await storage.merge('election', model.getEntityStates(), model.version);
      expect(second).to.equal(first + 1);
      const stored = await storage.load('election');
      const reloaded = election('zed');
      reloaded.loadState(stored.entities, stored.version);
      expect(entitiesOf(reloaded)).to.equal(entitiesOf(model));
      expectSameVersion(stored.version, model.version);
    } finally {
      storage.close();
      await deleteTestDb(dbName);
    }
  });

  it('ModelPersistence reads many dirty entities in slices, and a change made between two slices is saved with an exact version', async () => {
    const storage = new MemoryStorageAdapter();
    const writer = election('alice');
    for (let i = 0; i < 1_000; i++) writer.create('Election', { title: `Election ${i}` });
    const model = election('bob');
    let changed: string | undefined;
    const slicer = countingSlicer(100, (pauses) => {
      // Between two slices, a remote change to an entity read in the first slice.
      if (pauses !== 2) return;
      const oid = writer.entities('Election').toArray()[0]!.oid;
      writer.update(oid, { title: 'Renamed meanwhile' });
      model.applyChanges(writer.getDelta(model.version));
      changed = oid;
    });
    const persistence = new ModelPersistence(model, storage, { slicer, saveDelayMs: 0 });
    await persistence.load();
    const reads: number[] = [];
    const getEntityStates = model.getEntityStates.bind(model);
    model.getEntityStates = (oids) => {
      if (oids) reads.push([...oids].length);
      return getEntityStates(oids);
    };
    model.applyChanges(writer.getDelta(model.version));
    await persistence.whenSaved();
    expect(changed).to.be.a('string');
    expect(Math.max(...reads)).to.be.at.most(100);
    expect(slicer.pauses).to.be.at.least(9);
    const stored = await storage.load('election');
    const reloaded = election('zed');
    reloaded.loadState(stored.entities, stored.version);
    expect(reloaded.get(changed!)?.getAttribute('title')).to.equal('Renamed meanwhile');
    expect(entitiesOf(reloaded)).to.equal(entitiesOf(writer));
    expectSameVersion(stored.version, model.version);
    persistence.close();
  });
});
