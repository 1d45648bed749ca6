import { expect } from 'chai';
import { VersionVector, asNodeId } from '../../src/crdt/index.js';
import type { DomainModel, EntityState } from '../../src/domain/index.js';
import { StorageError, type StorageAdapter, type StoredModel } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import { expectSameVersion } from '../expectations.js';

/** One storage to test: adapters opened on it act as tabs of one room. */
export interface StorageAdapterHarness {
  /** A new adapter on the same storage: another tab, or this tab after a reload. */
  open(): Promise<StorageAdapter>;
  /** Closes every adapter opened and deletes the storage. */
  teardown(): Promise<void>;
}

/** What a fresh model holds after loading `stored` (state and version), for comparisons. */
function reloaded(stored: StoredModel, node = 'zed'): DomainModel {
  const model = election(node);
  const result = model.loadState(stored.entities, stored.version);
  expect(result.rejected).to.deep.equal([]);
  return model;
}

/** `length` bytes counting up from `seed`: distinct stand-ins for encoded certificates (opaque to storage). */
const bytes = (seed: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (seed * 31 + i) & 0xff);

/** Byte strings as comparable, ordered arrays. */
const sorted = (list: readonly Uint8Array[]): number[][] => list.map((item) => [...item]).sort((a, b) => String(a).localeCompare(String(b)));

const nextEvent = <T>(subscribe: (listener: (value: T) => void) => () => void): Promise<T> =>
  new Promise((resolve) => {
    const off = subscribe((value) => {
      off();
      resolve(value);
    });
  });

/**
 * The contract every `StorageAdapter` passes: atomic joins that lose no concurrent write, exact
 * versions, commit-numbered partial loads, identities, metadata, deletion and closing.
 */
export function runStorageAdapterContractTests(name: string, setup: () => Promise<StorageAdapterHarness>): void {
  describe(`StorageAdapter contract: ${name}`, () => {
    let harness: StorageAdapterHarness;
    beforeEach(async () => {
      harness = await setup();
    });
    afterEach(async () => {
      await harness.teardown();
    });

    it('loads an unknown model as empty', async () => {
      const storage = await harness.open();
      const stored = await storage.load('election');
      expect(stored.commit).to.equal(0);
      expect(stored.entities).to.deep.equal([]);
      expect(stored.version.toJSON()).to.deep.equal({});
    });

    it('stores entities and version; another adapter reads them back', async () => {
      const alice = election('alice');
      const e = alice.create('Election', { title: 'Board' });
      const c = alice.create('Candidate', { name: 'Ada' });
      e.addChild('candidates', c);
      const storage = await harness.open();
      expect(await storage.merge('election', alice.getEntityStates(), alice.version)).to.equal(1);
      const other = await harness.open();
      const stored = await other.load('election');
      expect(stored.commit).to.equal(1);
      expectSameVersion(stored.version, alice.version);
      expect(entitiesOf(reloaded(stored))).to.equal(entitiesOf(alice));
    });

    it('numbers commits and loads only entities written after a commit', async () => {
      const alice = election('alice');
      const a = alice.create('Candidate', { name: 'Ada' });
      const b = alice.create('Candidate', { name: 'Bob' });
      const storage = await harness.open();
      await storage.merge('election', alice.getEntityStates(), alice.version);
      a.setAttribute('votes', 3);
      expect(await storage.merge('election', alice.getEntityStates([a.oid]), alice.version)).to.equal(2);
      const since = await storage.load('election', 1);
      expect(since.commit).to.equal(2);
      expect(since.entities.map((entity) => entity.oid)).to.deep.equal([a.oid]);
      expectSameVersion(since.version, alice.version);
      expect((await storage.load('election', 2)).entities).to.deep.equal([]);
      expect((await storage.load('election')).entities.map((entity) => entity.oid).sort()).to.deep.equal([a.oid, b.oid].sort());
    });

    it('keeps both of two concurrent writes to one attribute, from two adapters', async () => {
      const alice = election('alice');
      const c = alice.create('Candidate', { name: 'Ada' });
      const bob = election('bob');
      bob.loadState(alice.getEntityStates(), alice.version);
      c.setAttribute('name', 'Ada Lovelace');
      bob.get(c.oid)!.setAttribute('name', 'Countess');
      const [tabA, tabB] = [await harness.open(), await harness.open()];
      await Promise.all([
        tabA.merge('election', alice.getEntityStates(), alice.version),
        tabB.merge('election', bob.getEntityStates(), bob.version),
      ]);
      const stored = await tabA.load('election');
      const names = stored.entities[0]!.attributes.name!.map((write) => write.value).sort();
      expect(names).to.deep.equal(['Ada Lovelace', 'Countess']);
      expectSameVersion(stored.version, alice.version.mergeWith(bob.version));
    });

    it('drops a stored write that the incoming version has seen and replaced', async () => {
      const alice = election('alice');
      const c = alice.create('Candidate', { name: 'Ada' });
      const storage = await harness.open();
      await storage.merge('election', alice.getEntityStates(), alice.version);
      c.setAttribute('name', 'Ada Lovelace');
      await storage.merge('election', alice.getEntityStates(), alice.version);
      const stored = await storage.load('election');
      expect(stored.entities[0]!.attributes.name!.map((write) => write.value)).to.deep.equal(['Ada Lovelace']);
      // An old state merged again (a late writer) does not bring the replaced write back.
      const old = election('alice');
      old.create('Candidate', { name: 'Ada' });
      await storage.merge('election', old.getEntityStates(), old.version);
      expect((await storage.load('election')).entities[0]!.attributes.name!.map((write) => write.value)).to.deep.equal(['Ada Lovelace']);
    });

    it('is idempotent: merging the same state twice changes nothing but the commit number', async () => {
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada', votes: 2 });
      const storage = await harness.open();
      await storage.merge('election', alice.getEntityStates(), alice.version);
      const once = await storage.load('election');
      await storage.merge('election', alice.getEntityStates(), alice.version);
      const twice = await storage.load('election');
      expect(twice.entities).to.deep.equal(once.entities);
      expectSameVersion(twice.version, once.version);
      expect(twice.commit).to.equal(once.commit + 1);
    });

    it('loses nothing when two adapters merge many overlapping batches at once', async () => {
      const base = election('alice');
      const oids = Array.from({ length: 5 }, (_, i) => base.create('Candidate', { name: `c${i}` }).oid);
      const writers = ['bob', 'carol', 'dave', 'erin'].map((node) => {
        const model = election(node);
        model.loadState(base.getEntityStates(), base.version);
        return model;
      });
      const [tabA, tabB] = [await harness.open(), await harness.open()];
      await tabA.merge('election', base.getEntityStates(), base.version);
      const merges: Promise<number>[] = [];
      for (let round = 0; round < 5; round++) {
        writers.forEach((model, w) => {
          for (const oid of oids) model.get(oid)!.setAttribute('votes', round * 10 + w);
          merges.push((w % 2 ? tabB : tabA).merge('election', model.getEntityStates(), model.version));
        });
      }
      expect(new Set(await Promise.all(merges)).size).to.equal(merges.length);
      const stored = await tabB.load('election');
      const expected = writers.reduce((version, model) => version.mergeWith(model.version), base.version);
      expectSameVersion(stored.version, expected);
      // Each writer's last write to each register is concurrent with the others: all four survive.
      for (const entity of stored.entities) {
        const votes = entity.attributes.votes!.map((write) => write.value).sort();
        expect(votes).to.deep.equal([40, 41, 42, 43]);
      }
    });

    it('copies values in and out: mutating them afterwards changes nothing stored', async () => {
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      const storage = await harness.open();
      const states = alice.getEntityStates() as Array<EntityState & { attributes: Record<string, unknown> }>;
      const version = alice.version;
      await storage.merge('election', states, version);
      states[0]!.attributes.name = [];
      version.add({ node: asNodeId('mallory'), seq: 1 });
      const first = await storage.load('election');
      (first.entities[0]!.attributes as Record<string, unknown>).name = [];
      const second = await storage.load('election');
      expect(second.entities[0]!.attributes.name!.map((write) => write.value)).to.deep.equal(['Ada']);
      expect(second.version.get(asNodeId('mallory'))).to.equal(0);
    });

    it('keeps models apart', async () => {
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      const storage = await harness.open();
      await storage.merge('election', alice.getEntityStates(), alice.version);
      const other = await storage.load('election-2');
      expect(other.entities).to.deep.equal([]);
      expect(other.commit).to.equal(0);
    });

    it('stores certificates with the entities in one commit; loads them all, or only later ones', async () => {
      const alice = election('alice');
      const a = alice.create('Candidate', { name: 'Ada' });
      const storage = await harness.open();
      const [first, second, third] = [bytes(1, 40), bytes(2, 90), bytes(3, 7)];
      expect(await storage.merge('election', alice.getEntityStates(), alice.version, [first, second])).to.equal(1);
      a.setAttribute('votes', 1);
      expect(await storage.merge('election', alice.getEntityStates([a.oid]), alice.version, [third])).to.equal(2);
      const other = await harness.open();
      expect(sorted((await other.load('election')).certificates)).to.deep.equal(sorted([first, second, third]));
      const since = await other.load('election', 1);
      expect(since.entities.map((entity) => entity.oid)).to.deep.equal([a.oid]);
      expect(sorted(since.certificates)).to.deep.equal(sorted([third]));
      expect((await other.load('election', 2)).certificates).to.deep.equal([]);
      expect((await other.load('election-2')).certificates).to.deep.equal([]);
    });

    it('keeps one copy of a certificate stored twice, and stores certificates without entities', async () => {
      const storage = await harness.open();
      const other = await harness.open();
      const certificate = bytes(9, 120);
      await storage.merge('election', [], new VersionVector(), [certificate]);
      await other.merge('election', [], new VersionVector(), [certificate.slice(), bytes(10, 120)]);
      const stored = await storage.load('election');
      expect(stored.entities).to.deep.equal([]);
      expect(stored.commit).to.equal(2);
      expect(sorted(stored.certificates)).to.deep.equal(sorted([certificate, bytes(10, 120)]));
      // Stored again by the later commit: a tab that saw commit 1 reads it again (no loss, no echo).
      expect((await storage.load('election', 1)).certificates).to.have.length(2);
    });

    it('forgets certificates by content, of one model only, ignoring unknown ones', async () => {
      const storage = await harness.open();
      const [a, b, c] = [bytes(1, 40), bytes(2, 40), bytes(3, 40)];
      await storage.merge('election', [], new VersionVector(), [a, b]);
      await storage.merge('election-2', [], new VersionVector(), [a]);
      await storage.forgetCertificates('election', [a.slice(), c]);
      const other = await harness.open();
      expect((await other.load('election')).certificates).to.deep.equal([b]);
      expect((await other.load('election-2')).certificates).to.deep.equal([a]);
      await storage.forgetCertificates('election-3', [a]);
    });

    it('copies certificate bytes in and out, even a view into a larger buffer', async () => {
      const storage = await harness.open();
      const buffer = bytes(5, 64);
      const view = buffer.subarray(8, 40);
      await storage.merge('election', [], new VersionVector(), [view]);
      buffer.fill(0);
      const [loaded] = (await storage.load('election')).certificates;
      expect([...loaded!]).to.deep.equal([...bytes(5, 64).subarray(8, 40)]);
      expect(loaded!.byteLength).to.equal(32);
      loaded!.fill(0);
      expect([...(await storage.load('election')).certificates[0]!]).to.deep.equal([...bytes(5, 64).subarray(8, 40)]);
    });

    it('reserves sequence numbers atomically and never lowers a reservation', async () => {
      const storage = await harness.open();
      const alice = asNodeId('alice');
      expect(await storage.reserveSequences(alice, 0, 1000)).to.deep.equal({ previous: 0, reservedUpTo: 1000 });
      expect(await storage.reserveSequences(alice, 1700, 1000)).to.deep.equal({ previous: 1000, reservedUpTo: 2700 });
      expect(await storage.reserveSequences(alice, 5, 10)).to.deep.equal({ previous: 2700, reservedUpTo: 2710 });
      const other = await harness.open();
      const results = await Promise.all([other.reserveSequences(alice, 0, 100), storage.reserveSequences(alice, 0, 100)]);
      expect(results.map((r) => r.previous).sort()).to.deep.equal([2710, 2810]);
      const identities = await other.identities();
      expect(identities.map((identity) => [identity.nodeId, identity.reservedUpTo])).to.deep.equal([['alice', 2910]]);
    });

    it('shallow-merges metadata', async () => {
      const storage = await harness.open();
      await storage.writeMetadata({ createdAt: 5 });
      await storage.writeMetadata({ persistenceGranted: 'unsupported' });
      const metadata = await (await harness.open()).readMetadata();
      expect(metadata.createdAt).to.equal(5);
      expect(metadata.persistenceGranted).to.equal('unsupported');
    });

    it('tells other adapters, not itself, that a model changed', async () => {
      const [tabA, tabB] = [await harness.open(), await harness.open()];
      const own: Array<string | null> = [];
      tabA.onExternalChange((modelId) => own.push(modelId));
      const heard = nextEvent<string | null>((listener) => tabB.onExternalChange(listener));
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      await tabA.merge('election', alice.getEntityStates(), alice.version);
      expect(await heard).to.equal('election');
      expect(own).to.deep.equal([]);
    });

    it('deletes the room: data is gone, other adapters hear "deleted", and storage works afresh', async () => {
      const [tabA, tabB] = [await harness.open(), await harness.open()];
      const alice = election('alice');
      alice.create('Candidate', { name: 'Ada' });
      await tabA.merge('election', alice.getEntityStates(), alice.version, [bytes(1, 10)]);
      await tabA.reserveSequences(asNodeId('alice'), 0, 10);
      await tabB.load('election');
      const problem = nextEvent<StorageError>((listener) => tabB.onProblem(listener));
      await tabA.deleteRoom();
      expect((await problem).code).to.equal('deleted');
      const after = await tabB.load('election');
      expect([after.commit, after.entities.length, after.certificates.length, after.version.isEmpty()]).to.deep.equal([0, 0, 0, true]);
      expect(await tabB.identities()).to.deep.equal([]);
      expect(await tabA.merge('election', alice.getEntityStates(), alice.version)).to.equal(1);
    });

    it('rejects calls after close with a "closed" StorageError', async () => {
      const storage = await harness.open();
      storage.close();
      for (const call of [() => storage.load('election'), () => storage.merge('election', [], new VersionVector()), () => storage.identities()]) {
        const error = await call().then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).to.be.instanceOf(StorageError);
        expect((error as StorageError).code).to.equal('closed');
      }
    });
  });
}
