import { expect } from 'chai';
import { type Dot, type NodeId, VersionVector, asNodeId, dotKey } from '../../src/crdt/index.js';
import type { DomainModel, EntityState } from '../../src/domain/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import {
  type ChangeCertificate,
  CertificateStore,
  DeviceIdentity,
  decodeCertificate,
  encodeCertificate,
  isCertificateError,
} from '../../src/security/index.js';
import {
  IndexedDbStorageAdapter,
  MemoryStorageAdapter,
  ModelPersistence,
  type PersistenceEvent,
  type StorageAdapter,
} from '../../src/store/index.js';
import { type SyncEngineEvent, SynchronizationEngine } from '../../src/sync/index.js';
import { election, entitiesOf } from './election-model.js';
import { signingPeer } from './signing-peer.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { testIdentities } from '../security/test-identities.js';
import { eventually } from '../eventually.js';
import { ManualTimers } from '../manual-timers.js';
import { expectSameVersion, expectSome } from '../expectations.js';

const MODEL = 'election';
const quiet = { warn: () => {} };

/** A certificate-shaped value: storage and persistence neither check signatures nor hashes. */
function fakeCertificate(node: string, seqs: number[], fill = 7): ChangeCertificate {
  return {
    node: asNodeId(node),
    publicKey: new Uint8Array(32).fill(fill),
    seqs,
    hashes: new Uint8Array(16 * seqs.length).fill(fill),
    signature: new Uint8Array(64).fill(fill),
  };
}

const encodings = (certificates: readonly ChangeCertificate[]): string[] =>
  certificates.map((certificate) => encodeCertificate(certificate).join(',')).sort();

/** Every dot of a stored entity: attribute writes, child adds, removal marks. */
function dotsOf(entity: EntityState): Dot[] {
  const dots: Dot[] = [];
  for (const writes of Object.values(entity.attributes)) for (const write of writes) dots.push(write.dot);
  for (const items of Object.values(entity.children)) for (const [, added] of items) dots.push(...added);
  for (const marks of Object.values(entity.removals ?? {})) dots.push(...marks);
  return dots;
}

const backends: Array<[string, () => { open(): StorageAdapter; teardown(): Promise<void> }]> = [
  [
    'memory',
    () => {
      const first = new MemoryStorageAdapter();
      let used = false;
      return { open: () => (used ? first.openAnother() : ((used = true), first)), teardown: async () => undefined };
    },
  ],
  [
    'IndexedDB',
    () => {
      const dbName = uniqueDbName();
      return { open: () => new IndexedDbStorageAdapter({ roomId: 'r', dbName }), teardown: () => deleteTestDb(dbName) };
    },
  ],
];

for (const [backend, makeBackend] of backends) {
  describe(`ModelPersistence with change certificates (${backend})`, () => {
    let room: ReturnType<typeof makeBackend>;
    const cleanups: Array<() => void> = [];

    /** A persistence with its own certificate store, loaded, as one tab of the room. */
    async function openTab(node: string) {
      const storage = room.open();
      const model = election(node);
      const certificates = new CertificateStore();
      const persistence = new ModelPersistence(model, storage, { certificates, retryDelayMs: 10 });
      const events: PersistenceEvent[] = [];
      persistence.onEvent((event) => events.push(event));
      cleanups.push(() => {
        persistence.close();
        storage.close();
      });
      await persistence.load();
      return { storage, model, certificates, persistence, events };
    }

    beforeEach(() => {
      room = makeBackend();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      await room.teardown();
    });

    it('saves certificates with the entities, in one commit, and loads them into the store before the state', async () => {
      const tab = await openTab('alice');
      const candidate = tab.model.create('Candidate', { name: 'Ada' });
      tab.certificates.add([fakeCertificate('alice', [1])]);
      await tab.persistence.whenSaved();
      const saved = tab.events.filter((event) => event.type === 'saved');
      expect(saved).to.have.length(1);
      const stored = await tab.storage.load(MODEL);
      expect(stored.entities.map((entity) => entity.oid)).to.deep.equal([candidate.oid]);
      expect(stored.certificates).to.have.length(1);

      // A reload: the certificate is in the store by the time the model hears of its item.
      const storage = room.open();
      const model = election('alice');
      const certificates = new CertificateStore();
      const seenOnChange: number[] = [];
      model.onChange(() => seenOnChange.push(certificates.size));
      const persistence = new ModelPersistence(model, storage, { certificates });
      cleanups.push(() => (persistence.close(), storage.close()));
      await persistence.load();
      expect(encodings(certificates.certificates())).to.deep.equal(encodings([fakeCertificate('alice', [1])]));
      expect(seenOnChange).to.deep.equal([1]);
      // Loaded certificates are stored already: nothing is written back.
      expect(persistence.pending).to.equal(0);
      await persistence.whenSaved();
      expect((await storage.load(MODEL)).commit).to.equal(stored.commit);
    });

    it('drops at startup the certificates whose items are all gone, in memory and in storage', async () => {
      const tab = await openTab('alice');
      const candidate = tab.model.create('Candidate', { name: 'Ada' });
      const nameDot = () => tab.model.getEntityStates([candidate.oid])[0]!.attributes.name![0]!.dot;
      const first = fakeCertificate('alice', [nameDot().seq]);
      const nothing = fakeCertificate('alice', [99], 8);
      tab.certificates.add([first, nothing]);
      tab.model.update(candidate.oid, { name: 'Ada L.' });
      const second = fakeCertificate('alice', [nameDot().seq], 9);
      tab.certificates.add([second]);
      await tab.persistence.whenSaved();
      expect((await tab.storage.load(MODEL)).certificates).to.have.length(3);
      // The first name was overwritten: its certificate goes. Seq 99 never held anything here, but
      // it is alice's highest signed seq, the proof of how far versions may claim her: it stays.
      const reloaded = await openTab('alice');
      expect(encodings(reloaded.certificates.certificates())).to.have.members(encodings([second, nothing]));
      expect(reloaded.certificates.certificateOf({ node: asNodeId('alice'), seq: first.seqs[0]! })).to.equal(undefined);
      expect((await reloaded.storage.load(MODEL)).certificates.map((bytes) => bytes.join(','))).to.have.members(encodings([second, nothing]));
      expect(entitiesOf(reloaded.model)).to.equal(entitiesOf(tab.model));
    });

    it('saves a certificate made after its entity was saved (an own edit signed later), and whenSaved waits for it', async () => {
      const tab = await openTab('alice');
      tab.model.create('Candidate', { name: 'Ada' });
      await tab.persistence.whenSaved();
      const commit = (await tab.storage.load(MODEL)).commit;
      tab.certificates.add([fakeCertificate('alice', [1])]);
      expect(tab.persistence.pending).to.equal(0);
      await tab.persistence.whenSaved();
      const since = await tab.storage.load(MODEL, commit);
      expect(since.commit).to.equal(commit + 1);
      expect(since.entities).to.deep.equal([]);
      expect(since.certificates.map((bytes) => bytes.join(','))).to.deep.equal(encodings([fakeCertificate('alice', [1])]));
      // The version stored with a certificate-only commit is still exact.
      expectSameVersion(since.version, tab.model.version);
    });

    it("loads another tab's new certificates when it commits, and does not save them back", async () => {
      const tabA = await openTab('alice');
      const tabB = await openTab('bob');
      tabA.model.create('Candidate', { name: 'Ada' });
      tabA.certificates.add([fakeCertificate('alice', [1])]);
      await tabA.persistence.whenSaved();
      await eventually(() => tabB.certificates.size === 1 && tabB.model.getEntityStates().length === 1);
      expect(encodings(tabB.certificates.certificates())).to.deep.equal(encodings([fakeCertificate('alice', [1])]));
      const commit = (await tabB.storage.load(MODEL)).commit;
      // A second commit: only what it wrote is read.
      tabA.certificates.add([fakeCertificate('alice', [2, 3], 9)]);
      await tabA.persistence.whenSaved();
      await eventually(() => tabB.certificates.size === 2);
      expect(tabB.persistence.pending).to.equal(0);
      await tabB.persistence.whenSaved();
      expect(tabB.events.filter((event) => event.type === 'saved')).to.deep.equal([]);
      expect((await tabB.storage.load(MODEL)).commit).to.equal(commit + 1);
    });

    it('keeps a malformed stored certificate aside and reports it, loads the others, and never throws', async () => {
      const storage = room.open();
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      const good = encodeCertificate(fakeCertificate('alice', [1]));
      const truncated = good.slice(0, 50);
      await storage.merge(MODEL, alice.getEntityStates(), alice.version, [Uint8Array.from([99, 1, 2]), good, truncated]);
      storage.close();
      const tab = await openTab('alice');
      expect(encodings(tab.certificates.certificates())).to.deep.equal([good.join(',')]);
      expect(entitiesOf(tab.model)).to.equal(entitiesOf(alice));
      expect(tab.events.filter((event) => event.type === 'error')).to.deep.equal([]);
      // Reported as state (read whenever a view mounts) and once as an event.
      expect(tab.persistence.problems.map((problem) => [problem.kind, problem.reason.slice(0, 31)])).to.deep.equal([
        ['certificate', 'the certificate does not decode'],
        ['certificate', 'the certificate does not decode'],
      ]);
      const quarantined = tab.events.filter((event) => event.type === 'quarantined');
      expect(quarantined).to.have.length(1);
      // Kept aside, not deleted; the next load no longer meets them.
      const aside = await tab.persistence.storage.quarantined();
      expect(aside.map((record) => [...(record.value as Uint8Array)].join(',')).sort()).to.deep.equal([truncated.join(','), '99,1,2'].sort());
      expect((await tab.persistence.storage.load(MODEL)).certificates.map((bytes) => bytes.join(','))).to.deep.equal([good.join(',')]);
    });

    it('writes the certificates again, with the entities, after the database was deleted under it', async () => {
      const tab = await openTab('alice');
      tab.model.create('Candidate', { name: 'Ada' });
      tab.certificates.add([fakeCertificate('alice', [1])]);
      await tab.persistence.whenSaved();
      const other = room.open();
      cleanups.push(() => other.close());
      await other.deleteRoom();
      await eventually(() => tab.events.some((event) => event.type === 'error' && event.error.code === 'deleted'));
      await tab.persistence.whenSaved();
      const stored = await room.open().load(MODEL);
      expect(stored.entities).to.have.length(1);
      expect(stored.certificates.map((bytes) => bytes.join(','))).to.deep.equal(encodings([fakeCertificate('alice', [1])]));
    });

    it('keeps certificates that failed to save waiting, and stores them with the retry', async () => {
      const tab = await openTab('alice');
      const merge = tab.storage.merge.bind(tab.storage);
      let failures = 1;
      tab.storage.merge = (...args) => (failures-- > 0 ? Promise.reject(new DOMException('full', 'QuotaExceededError')) : merge(...args));
      tab.model.create('Candidate', { name: 'Ada' });
      tab.certificates.add([fakeCertificate('alice', [1])]);
      await eventually(() => tab.events.some((event) => event.type === 'error'));
      await tab.persistence.whenSaved();
      const stored = await tab.storage.load(MODEL);
      expect(stored.entities).to.have.length(1);
      expect(stored.certificates.map((bytes) => bytes.join(','))).to.deep.equal(encodings([fakeCertificate('alice', [1])]));
    });
  });
}

interface Peer {
  readonly id: NodeId;
  readonly model: DomainModel;
  readonly engine: SynchronizationEngine;
  readonly transport: MemoryTransport;
  readonly events: SyncEngineEvent[];
}

describe('When certificates alone are saved', () => {
  it('an own certificate alone waits for a longer pause (it rides along with the next edit), and a change from a peer brings the save forward again', async () => {
    const timers = new ManualTimers();
    const model = election('alice');
    const certificates = new CertificateStore();
    const storage = new MemoryStorageAdapter();
    const persistence = new ModelPersistence(model, storage, { certificates, timers });
    await persistence.load();
    certificates.add([fakeCertificate('alice', [1])]);
    expect(timers.delays).to.deep.equal([100]);
    // A peer's change (its certificate comes with it) may not wait that long: its ack waits for the save.
    const bob = election('bob');
    bob.create('Candidate', { name: 'Bo' });
    model.applyChanges(bob.getDelta(new VersionVector()));
    expect(timers.delays).to.deep.equal([10]);
    timers.runAll();
    await persistence.whenSaved();
    expect((await storage.load(MODEL)).certificates).to.have.length(1);
    persistence.close();
  });
});

describe('Stored certificates let a reloaded replica relay signed changes', () => {
  const identities = testIdentities('certificate-persistence', ['alice', 'bob', 'carol']);
  let network: MemoryNetwork;
  let roomDb: string;
  const cleanups: Array<() => void> = [];

  beforeEach(() => {
    network = new MemoryNetwork();
    roomDb = uniqueDbName();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    network.close();
    await deleteTestDb(roomDb);
  });

  /**
   * A signing peer. With `storage`, its model is persisted and loaded before it is registered with
   * the engine, as a room session does.
   */
  async function peer(identity: DeviceIdentity, id: NodeId, storage?: StorageAdapter) {
    const { model, engine, transport, events, persistence, close } = await signingPeer(network, identity, id, storage, cleanups);
    return { peer: { id, model, engine, transport, events } satisfies Peer, persistence, close };
  }

  const link = async (a: Peer, b: Peer) => a.engine.addConnection(await a.transport.connect(b.id));
  const offences = (p: Peer) => p.events.filter((event) => event.type === 'peer-offence');
  const storeOf = (p: Peer) => p.engine.certification!.store(MODEL);

  it('a reloaded bob keeps alice\'s certificates (stored with her items) and passes her items on to carol, who accepts them', async () => {
    const [aliceKey, bobKey, carolKey] = identities as [DeviceIdentity, DeviceIdentity, DeviceIdentity];
    const bobId = bobKey.newNodeId();
    const { peer: alice } = await peer(aliceKey, aliceKey.newNodeId());
    const bobStorage = new IndexedDbStorageAdapter({ roomId: 'r', dbName: roomDb });
    // Every commit bob makes, to check that no item of alice's is ever stored before its certificate.
    const commits: Array<{ entities: readonly EntityState[]; certificates: readonly Uint8Array[] }> = [];
    const merge = bobStorage.merge.bind(bobStorage);
    bobStorage.merge = (modelId, entities, version, certificates = []) => {
      commits.push({ entities: structuredClone(entities), certificates: [...certificates] });
      return merge(modelId, entities, version, certificates);
    };
    const bobSession = await peer(bobKey, bobId, bobStorage);
    const bob = bobSession.peer;

    const board = alice.model.create('Election', { title: 'Board' });
    board.addChild('candidates', alice.model.create('Candidate', { name: 'Ada' }));
    await link(alice, bob);
    await eventually(() => entitiesOf(bob.model) === entitiesOf(alice.model));
    bob.model.get(board.oid)!.addChild('candidates', bob.model.create('Candidate', { name: 'Bob' }));
    await eventually(() => storeOf(bob).certificates().some((certificate) => certificate.node === bob.id));
    await bobSession.persistence!.whenSaved();
    expectSome(storeOf(bob).certificates(), (certificate) => certificate.node === alice.id);
    const bobHolds = entitiesOf(bob.model);

    const covered = new Set<string>();
    for (const commit of commits) {
      for (const bytes of commit.certificates) {
        const certificate = decodeCertificate(bytes);
        if (isCertificateError(certificate)) throw new Error(certificate.error);
        for (const seq of certificate.seqs) covered.add(dotKey({ node: certificate.node, seq }));
      }
      for (const entity of commit.entities)
        for (const dot of dotsOf(entity)) if (dot.node === alice.id) expect(covered.has(dotKey(dot)), `${dotKey(dot)} stored without its certificate`).to.equal(true);
    }

    // Bob reloads: a fresh engine and model, loaded from the same database before registration.
    bobSession.close();
    const { peer: bobAgain } = await peer(bobKey, bobId, new IndexedDbStorageAdapter({ roomId: 'r', dbName: roomDb }));
    expect(entitiesOf(bobAgain.model)).to.equal(bobHolds);
    // Right after registration (before any signature could be made), every item, alice's and bob's
    // own, has its certificate: all of it may be sent, and nothing needs signing again.
    const all = bobAgain.model.getChangesSince(new VersionVector());
    const sendable = bobAgain.engine.certification!.sendable(MODEL, all, bobAgain.model.version);
    expect(sendable.changes).to.deep.equal(all);
    expectSameVersion(sendable.version, bobAgain.model.version);

    // Carol meets only the reloaded bob: alice's items reach her with alice's own signatures.
    const { peer: carol } = await peer(carolKey, carolKey.newNodeId());
    await link(carol, bobAgain);
    await eventually(() => entitiesOf(carol.model) === bobHolds);
    expectSameVersion(carol.model.version, bobAgain.model.version);
    expect(offences(carol)).to.deep.equal([]);
    const authors = new Set(storeOf(carol).certificates().map((certificate) => certificate.node));
    expect([...authors].sort()).to.deep.equal([alice.id, bob.id].sort());
    expect(carol.engine.certification!.counters.rejectedItems).to.equal(0);
    expect(bobAgain.engine.certification!.counters.signed).to.equal(0);
  });

  it('without the stored certificates, the reloaded bob holds alice\'s items back (what storing them fixes)', async () => {
    const [aliceKey, bobKey] = identities as [DeviceIdentity, DeviceIdentity, DeviceIdentity];
    const bobId = bobKey.newNodeId();
    const { peer: alice } = await peer(aliceKey, aliceKey.newNodeId());
    const storage = new MemoryStorageAdapter();
    const bobSession = await peer(bobKey, bobId, storage.openAnother());
    alice.model.create('Candidate', { name: 'Ada' });
    await link(alice, bobSession.peer);
    await eventually(() => entitiesOf(bobSession.peer.model) === entitiesOf(alice.model));
    await bobSession.persistence!.whenSaved();
    bobSession.close();

    // A reload whose persistence is not given the certificate store: alice's certificates stay on disk.
    const model = election(bobId);
    const persistence = new ModelPersistence(model, storage.openAnother());
    await persistence.load();
    cleanups.push(() => persistence.close());
    const engine = new SynchronizationEngine({ nodeId: bobId, antiEntropyIntervalMs: 0, logger: quiet, signer: bobKey });
    engine.registerModel(MODEL, model);
    cleanups.push(() => engine.stop());
    // Nothing of alice's may go out: a peer would refuse it, so bob can never bring carol up to date.
    const all = model.getChangesSince(new VersionVector());
    expect(all).to.not.deep.equal([]);
    expect(engine.certification!.sendable(MODEL, all, model.version).changes).to.deep.equal([]);
  });
});
