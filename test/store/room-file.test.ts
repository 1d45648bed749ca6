import { expect } from 'chai';
import { deleteDB } from 'idb';
import { VersionVector } from '../../src/crdt/index.js';
import type { DomainModel, SynchronizableDomainModel } from '../../src/domain/index.js';
import { ChangeCertification, DeviceIdentity } from '../../src/security/index.js';
import {
  MemoryStorageAdapter,
  ModelPersistence,
  ROOM_FILE_FORMAT,
  type RoomFile,
  exportRoom,
  importRoom,
  readRoomFile,
  roomFileBlob,
  roomFileName,
} from '../../src/store/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { Hostile } from '../models/electoral/roles-fixture.js';
import { election, entitiesOf } from './election-model.js';
import { expectSameVersion } from '../expectations.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

const lookup = (...models: DomainModel[]) => ({
  get: (modelId: string): SynchronizableDomainModel | undefined => models.find((model) => model.modelId === modelId),
});

const snapshotText = (model: DomainModel) => JSON.stringify(model.getSnapshot());

describe('Room files: export and import', () => {
  it('exports every model with its version, as a JSON blob with a clear file name', async () => {
    const alice = election('alice');
    alice.create('Candidate', { name: 'Ada' });
    const file = exportRoom('town-hall', [alice], { now: new Date('2026-03-01T10:00:00Z') });
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
    expectSameVersion(bob.version, alice.version);
  });

  it('merges: an older file never overwrites newer data, and local-only data stays', async () => {
    const alice = election('alice');
    const ada = alice.create('Candidate', { name: 'Ada', votes: 1 });
    const old = JSON.stringify(exportRoom('r', [alice]));
    ada.setAttribute('votes', 5);
    alice.create('Candidate', { name: 'Only here' });
    const before = entitiesOf(alice);
    const result = await importRoom(old, lookup(alice), { roomId: 'r' });
    expect(result).to.include({ ok: true });
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
    expectSameVersion(stored.version, alice.version);
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
        expect(result).to.include({ ok: false });
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
      expect(result).to.include({ ok: false });
      expect(bob.entities('Candidate').count).to.equal(0);
      expect(bob.version.toJSON()).to.deep.equal({});
    });
  });
});

describe('Room files with signed changes', () => {
  const dbNames = ['alice', 'bob'].map((name) => `room-file-${name}-${Math.random().toString(36).slice(2)}`);
  let aliceKey: DeviceIdentity;
  let bobKey: DeviceIdentity;
  before(async () => {
    [aliceKey, bobKey] = (await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))))) as [DeviceIdentity, DeviceIdentity];
  });
  after(async () => {
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });

  /** A device's model with every item signed, as the sync engine signs local edits. */
  async function signedModel(key: DeviceIdentity, modelId = 'election') {
    const model = election(key.newNodeId(), { modelId });
    const certification = new ChangeCertification(key);
    const e = model.create('Election', { title: 'Board' });
    e.addChild('candidates', model.create('Candidate', { name: 'Ada', votes: 2 }));
    await certification.certify(modelId, model.getChangesSince(new VersionVector()));
    return { model, certification };
  }

  /** What may be sent to peers right now: everything, if every item has its certificate. */
  const sendableCount = (model: DomainModel, certification: ChangeCertification) =>
    certification.sendable(model.modelId, model.getChangesSince(new VersionVector()), model.version).changes.length;

  it("exports every item's certificate; a device importing the file verifies them and can pass the items on", async () => {
    const alice = await signedModel(aliceKey);
    const file = exportRoom('r', [alice.model], { certification: alice.certification });
    expect(file.certificates!.election).to.have.length(1);
    const bob = election(bobKey.newNodeId());
    const bobCertification = new ChangeCertification(bobKey);
    const result = await importRoom(roomFileBlob(file), lookup(bob), { roomId: 'r', certification: bobCertification });
    expect(result).to.deep.equal({ ok: true, value: [{ modelId: 'election', entities: 2 }] });
    expect(entitiesOf(bob)).to.equal(entitiesOf(alice.model));
    const held = bobCertification.store('election').certificates();
    expect(held.map((certificate) => certificate.node)).to.deep.equal([alice.model.nodeId]);
    const all = bob.getChangesSince(new VersionVector()).length;
    expect(sendableCount(bob, bobCertification)).to.equal(all);
  });

  it('refuses a validly signed file that breaks election roles before taking any certificate from it', async () => {
    const MODEL_ID = 'election-2024';
    const organiser = new ElectoralSystemModel({ modelId: MODEL_ID, nodeId: aliceKey.newNodeId() });
    const electionId = organiser.createElection({ title: 'Board' }).oid;
    const organiserCertification = new ChangeCertification(aliceKey);
    await organiserCertification.certify(MODEL_ID, organiser.getChangesSince(new VersionVector()));
    // Bob's device, keeping no rules, renames Alice's election and signs that with its own key.
    const hostile = new Hostile(bobKey.newNodeId());
    hostile.applyChanges(organiser.getDelta(new VersionVector()));
    hostile.update(electionId, { title: 'Bob decides' });
    const hostileCertification = new ChangeCertification(bobKey);
    hostileCertification.store(MODEL_ID).add(organiserCertification.store(MODEL_ID).certificates());
    await hostileCertification.certify(MODEL_ID, hostile.getChangesSince(new VersionVector()));
    const file = exportRoom('r', [hostile], { certification: hostileCertification });

    const importer = new ElectoralSystemModel({ modelId: MODEL_ID, nodeId: aliceKey.newNodeId() });
    const certification = new ChangeCertification(aliceKey);
    const result = await importRoom(roomFileBlob(file), lookup(importer), { roomId: 'r', certification });
    expect(result).to.include({ ok: false });
    expect(!result.ok && result.error).to.match(/refused.*Nothing was imported/);
    expect(importer.version.toJSON()).to.deep.equal({});
    expect(certification.store(MODEL_ID).size).to.equal(0);
  });

  it('imports a signed file without a certification (library use), ignoring its certificates', async () => {
    const alice = await signedModel(aliceKey);
    const bob = election('bob');
    const result = await importRoom(JSON.stringify(exportRoom('r', [alice.model], { certification: alice.certification })), lookup(bob), { roomId: 'r' });
    expect(result).to.include({ ok: true });
    expect(entitiesOf(bob)).to.equal(entitiesOf(alice.model));
  });

  const refusals: Array<[string, (file: RoomFile & Record<string, unknown>) => unknown, RegExp]> = [
    [
      'an item altered after it was signed',
      (file) => {
        const [snapshot] = file.models as unknown as Array<{ entities: Array<{ attributes: Record<string, Array<{ value: unknown }>> }> }>;
        const candidate = snapshot!.entities.find((entity) => entity.attributes.votes)!;
        candidate.attributes.votes![0]!.value = 999;
        return file;
      },
      // The certificate travels without its hash list when the file holds all its items, so the
      // altered item's hash makes the signature fail; with the list, the item would not match it.
      /not signed by its authors: (operation .* does not match its author's certificate|certificate of .*: the signature does not verify).*Nothing was imported/,
    ],
    ['a file without certificates', (file) => ({ ...file, certificates: undefined }), /not signed by its authors: operation .* has no certificate/],
    [
      'a certificate whose signature does not verify',
      (file) => {
        const text = file.certificates!.election![0]!;
        const flipped = text.slice(0, -2) + (text.at(-2) === 'A' ? 'B' : 'A') + text.at(-1);
        return { ...file, certificates: { election: [flipped] } };
      },
      /signature does not verify/,
    ],
    ['certificates that are not base64url text', (file) => ({ ...file, certificates: { election: [42] } }), /certificates are unreadable/],
    ['certificates for a model the file does not hold', (file) => ({ ...file, certificates: { ...file.certificates, payroll: [] } }), /model "payroll" but no data/],
  ];
  for (const [what, corrupt, message] of refusals) {
    it(`refuses ${what}, and changes nothing`, async () => {
      const alice = await signedModel(aliceKey);
      const file = JSON.parse(JSON.stringify(exportRoom('r', [alice.model], { certification: alice.certification })));
      const bob = election(bobKey.newNodeId());
      bob.create('Candidate', { name: 'Bob' });
      const bobCertification = new ChangeCertification(bobKey);
      await bobCertification.certify('election', bob.getChangesSince(new VersionVector()));
      const before = snapshotText(bob);
      const result = await importRoom(JSON.stringify(corrupt(file)), lookup(bob), { roomId: 'r', certification: bobCertification });
      expect(result).to.include({ ok: false });
      expect(!result.ok && result.error).to.match(message);
      expect(snapshotText(bob)).to.equal(before);
      expect(bobCertification.store('election').size).to.equal(1);
    });
  }

  it('refuses a two-model file whose second model is unsigned: the first model gains neither items nor certificates', async () => {
    const alice = await signedModel(aliceKey);
    const ballots = election(alice.model.nodeId, { modelId: 'ballots' });
    ballots.create('Candidate', { name: 'Ballot' });
    const file = exportRoom('r', [alice.model, ballots], { certification: alice.certification });
    const bob = election(bobKey.newNodeId());
    const bobBallots = election(bob.nodeId, { modelId: 'ballots' });
    const bobCertification = new ChangeCertification(bobKey);
    const result = await importRoom(JSON.stringify(file), lookup(bob, bobBallots), { roomId: 'r', certification: bobCertification });
    expect(!result.ok && result.error).to.match(/model "ballots" is not signed/);
    expect(bob.version.toJSON()).to.deep.equal({});
    expect(bobCertification.store('election').size).to.equal(0);
  });
});
