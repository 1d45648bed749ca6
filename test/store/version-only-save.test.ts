import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import { MemoryStorageAdapter, ModelPersistence } from '../../src/store/index.js';
import { library } from '../domain/library-schema.js';
import { expectSameVersion } from '../expectations.js';

// Found by the fault simulation (docs/fault-simulation.md, seed 26 of the crash-after-save profile):
// a replica adopting a version whose changes it held already changes no entity, so nothing was
// saved, the stored (claimable) version stayed behind the model's for good, the ack of that delta
// waited for a save that never came, and the peers never showed each other as in sync.
describe('ModelPersistence: a version adopted with no entity changed', () => {
  it('is saved, so what may be claimed catches up with the model', async () => {
    const a = library('a');
    a.create('Book', { title: 'First' });
    const created = a.version;
    const first = a.getDelta(new VersionVector());
    a.create('Book', { title: 'Second' });
    const second = a.getDelta(created);

    const room = new MemoryStorageAdapter();
    const b = library('b');
    const persistence = new ModelPersistence(b, room.openAnother(), { saveDelayMs: 0, maxSaveDelayMs: 0 });
    await persistence.load();
    // The deltas out of order: b holds the second book without adopting the second version.
    expect(b.applyChanges(second)).to.include({ complete: false });
    expect(b.applyChanges(first)).to.include({ complete: true });
    await persistence.whenSaved();
    expect(b.version).to.not.include(a.version);

    // The second again (the resend an incomplete ack asks for): b holds all of it, only its
    // version grows.
    const events: string[] = [];
    const unsubscribe = b.onChange(() => events.push('change'));
    expect(b.applyChanges(second)).to.include({ complete: true });
    unsubscribe();
    expect(events, 'no entity changed').to.deep.equal([]);
    expect(b.version).to.include(a.version);
    expect(persistence.versionUnsaved, 'versionUnsaved before the save').to.equal(true);

    await persistence.whenSaved();
    expect(persistence.versionUnsaved, 'versionUnsaved after the save').to.equal(false);
    expectSameVersion(persistence.claimableVersion(), b.version);
    expectSameVersion((await room.load('library')).version, b.version);
    persistence.close();
  });

  it('is saved by the save timer too, without anyone asking', async () => {
    const a = library('a');
    a.create('Book', { title: 'First' });
    const room = new MemoryStorageAdapter();
    const b = library('b');
    const persistence = new ModelPersistence(b, room.openAnother(), { saveDelayMs: 0, maxSaveDelayMs: 0 });
    await persistence.load();
    b.applyChanges(a.getDelta(new VersionVector()));
    await persistence.whenSaved();
    const grown = new Promise<VersionVector>((resolve) => persistence.onDurable(resolve));
    // A snapshot whose version covers one more seq of a that left nothing in any entity.
    a.markOwnSequenceUsedUpTo(a.version.get(a.nodeId) + 1);
    expect(b.initializeFromSnapshot(a.getSnapshot()), 'initializeFromSnapshot took the snapshot').to.equal(true);
    expectSameVersion((await grown), b.version);
    persistence.close();
  });
});
