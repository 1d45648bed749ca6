import { expect } from 'chai';
import type { DomainModel, SynchronizableDomainModel } from '../../src/domain/index.js';
import {
  MemoryStorageAdapter,
  ModelPersistence,
  ROOM_FILE_FORMAT,
  exportRoom,
  importRoom,
  readRoomFile,
  roomFileBlob,
  roomFileName,
} from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';

const lookup = (...models: DomainModel[]) => ({
  get: (modelId: string): SynchronizableDomainModel | undefined => models.find((model) => model.modelId === modelId),
});

const snapshotText = (model: DomainModel) => JSON.stringify(model.getSnapshot());

describe('Room files: export and import', () => {
  it('exports every model with its version, as a JSON blob with a clear file name', async () => {
    const alice = election('alice');
    alice.create('Candidate', { name: 'Ada' });
    const file = exportRoom('town-hall', [alice], new Date('2026-03-01T10:00:00Z'));
    expect(file).to.deep.include({ format: ROOM_FILE_FORMAT, formatVersion: 1, roomId: 'town-hall', exportedAt: '2026-03-01T10:00:00.000Z' });
    expect(file.models[0]!.version).to.deep.equal(alice.version.toJSON());
    const blob = roomFileBlob(file);
    expect(blob.type).to.equal('application/json');
    expect(JSON.parse(await blob.text())).to.deep.equal(JSON.parse(JSON.stringify(file)));
    expect(roomFileName(file)).to.equal('ednet-room-town-hall-2026-03-01.json');
  });

  it('round-trips: importing into an empty device gives the same model', async () => {
    const alice = election('alice');
    const e = alice.create('Election', { title: 'Board' });
    e.addChild('candidates', alice.create('Candidate', { name: 'Ada', votes: 3 }));
    const blob = roomFileBlob(exportRoom('r', [alice]));
    const bob = election('bob');
    const result = await importRoom(blob, lookup(bob), { roomId: 'r' });
    expect(result).to.deep.equal({ ok: true, value: [{ modelId: 'election', entities: 2 }] });
    expect(entitiesOf(bob)).to.equal(entitiesOf(alice));
    expect(bob.version.equals(alice.version)).to.equal(true);
  });

  it('merges: an older file never overwrites newer data, and local-only data stays', async () => {
    const alice = election('alice');
    const ada = alice.create('Candidate', { name: 'Ada', votes: 1 });
    const old = JSON.stringify(exportRoom('r', [alice]));
    ada.setAttribute('votes', 5);
    alice.create('Candidate', { name: 'Only here' });
    const before = entitiesOf(alice);
    const result = await importRoom(old, lookup(alice), { roomId: 'r' });
    expect(result.ok).to.equal(true);
    expect(entitiesOf(alice)).to.equal(before);
    expect(alice.get(ada.oid)!.getAttribute('votes')).to.equal(5);
  });

  it('saves what an import added, through the model\'s persistence', async () => {
    const alice = election('alice');
    alice.create('Candidate', { name: 'Ada' });
    const bob = election('bob');
    const storage = new MemoryStorageAdapter();
    const persistence = new ModelPersistence(bob, storage);
    await persistence.load();
    await importRoom(JSON.stringify(exportRoom('r', [alice])), lookup(bob), { roomId: 'r' });
    await persistence.whenSaved();
    const stored = await storage.load('election');
    expect(stored.entities).to.have.length(1);
    expect(stored.version.equals(alice.version)).to.equal(true);
  });

  describe('refuses bad files with a clear message and changes nothing', () => {
    const cases: Array<[string, (file: Record<string, unknown>) => unknown, RegExp]> = [
      ['not JSON', () => '{ nope', /not valid JSON/],
      ['another kind of JSON', () => ({ hello: 'world' }), /not a room export/],
      ['a newer file version', (file) => ({ ...file, formatVersion: 2 }), /version 2/],
      ['another room', (file) => ({ ...file, roomId: 'elsewhere' }), /holds room "elsewhere"/],
      ['an unknown model', (file) => ({ ...file, models: [{ ...(file.models as object[])[0], modelId: 'payroll' }] }), /does not know/],
      ['a damaged snapshot', (file) => ({ ...file, models: [{ ...(file.models as object[])[0], version: 'yesterday' }] }), /damaged/],
      [
        'an entity the model does not define',
        (file) => {
          const [snapshot] = file.models as Array<{ entities: Array<Record<string, unknown>> }>;
          return { ...file, models: [{ ...snapshot, entities: [{ ...snapshot!.entities[0], entityType: 'Bribe' }] }] };
        },
        /refused.*Nothing was imported/,
      ],
      ['a model twice', (file) => ({ ...file, models: [(file.models as object[])[0], (file.models as object[])[0]] }), /twice/],
    ];
    for (const [what, corrupt, message] of cases) {
      it(what, async () => {
        const alice = election('alice');
        alice.create('Candidate', { name: 'Ada' });
        const file = JSON.parse(JSON.stringify(exportRoom('r', [alice]))) as Record<string, unknown>;
        const bad = corrupt(file);
        const bob = election('bob');
        bob.create('Candidate', { name: 'Bob' });
        const before = snapshotText(bob);
        const result = await importRoom(typeof bad === 'string' ? bad : JSON.stringify(bad), lookup(bob), { roomId: 'r' });
        expect(result.ok).to.equal(false);
        expect(!result.ok && result.error).to.match(message);
        expect(snapshotText(bob)).to.equal(before);
      });
    }

    it('a file over the size limit, before reading it', async () => {
      const result = await readRoomFile(new Blob(['x'.repeat(2000)]), { maxBytes: 1000, maxModels: 4 });
      expect(!result.ok && result.error).to.match(/too large/);
    });

    it('a two-model file whose second model is bad leaves the first model unchanged too', async () => {
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      const aliceBallots = election('alice', { modelId: 'ballots' });
      aliceBallots.create('Candidate', { name: 'Ballot' });
      const file = JSON.parse(JSON.stringify(exportRoom('r', [alice, aliceBallots]))) as { models: Array<{ entities: Array<Record<string, unknown>> }> };
      file.models[1]!.entities[0]!.entityType = 'Bribe';
      const bob = election('bob');
      const bobBallots = election('bob', { modelId: 'ballots' });
      const result = await importRoom(JSON.stringify(file), lookup(bob, bobBallots), { roomId: 'r' });
      expect(result.ok).to.equal(false);
      expect(bob.entities('Candidate').count).to.equal(0);
      expect(bob.version.isEmpty()).to.equal(true);
    });
  });
});
