import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/version-vector.js';
import type { EntityState } from '../../src/domain/model-change.js';
import { MemoryStorageAdapter } from '../../src/store/memory-storage-adapter.js';
import { CrashableStorage } from './fault-simulation/crashable-storage.js';
import {
  CHECKS,
  type CheckName,
  FAULT_PROFILES,
  type FaultProfile,
  type SeedResult,
  formatFailure,
  runSeed,
} from './fault-simulation/fault-simulation.js';
import { expectSome } from '../expectations.js';

/**
 * Checks the slice below (seeds 1–20, 200 fault steps) still fails, by fault profile, as pending
 * tests. Before durable-before-visible, bounded claims and digests (issue 12) nearly every check
 * failed in every profile (docs/fault-simulation.md has the table). Nothing is known to fail now;
 * a check that fails for a reason not fixed yet goes here with that reason and a seed.
 */
const STILL_FAILING: Readonly<Record<FaultProfile, readonly CheckName[]>> = {
  network: [],
  'crash-after-save': [],
  'crash-unsaved': [],
  'storage-failures': [],
  mixed: [],
};

const SLICE_SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const SLICE_STEPS = 200;

describe('CrashableStorage: the fault simulation’s storage', () => {
  const entity = (oid: string, seq: number): EntityState => ({
    entityType: 'Author',
    oid,
    attributes: { name: [{ value: oid, ts: { ms: 1, c: 0 }, dot: { node: asNodeId('a'), seq } }] },
    children: {},
  });

  it('a crash loses every write not yet committed, and only those', async () => {
    const room = new MemoryStorageAdapter();
    const committed: string[] = [];
    const storage = new CrashableStorage(room.openAnother(), (entities) => committed.push(...entities.map((e) => e.oid)));
    const first = storage.merge('m', [entity('x', 1)], VersionVector.fromJSON({ a: 1 }));
    void storage.merge('m', [entity('y', 2)], VersionVector.fromJSON({ a: 2 }));
    expect(storage.pendingWrites).to.equal(2);
    expect((await room.load('m')).entities).to.deep.equal([]);
    expect(await storage.commitNext(), 'commitNext had a write to commit').to.equal(true);
    expect(await first).to.equal(1);
    storage.crash();
    const stored = await room.load('m');
    expect(stored.entities.map((e) => e.oid)).to.deep.equal(['x']);
    expect(stored.version.toJSON()).to.deep.equal({ a: 1 });
    expect(committed).to.deep.equal(['x']);
    await storage.merge('m', [], new VersionVector()).then(
      () => expect.fail('a crashed storage accepted a write'),
      (error: Error) => expect(error.name).to.equal('StorageError'),
    );
  });

  it('a failed write stores nothing and rejects', async () => {
    const room = new MemoryStorageAdapter();
    const storage = new CrashableStorage(room.openAnother(), () => undefined);
    const write = storage.merge('m', [entity('x', 1)], VersionVector.fromJSON({ a: 1 }));
    expect(storage.failNext(), 'failNext had a write to fail').to.equal(true);
    await write.then(
      () => expect.fail('a failed write resolved'),
      (error: Error) => expect(error.name).to.equal('StorageError'),
    );
    expect((await room.load('m')).commit).to.equal(0);
  });
});

describe('Fault simulation: a fast slice of seeds (the long run is `npm run fault-sim`)', () => {
  const results: SeedResult[] = [];

  before(async function () {
    // Generous: the machine may be slow; nothing here measures time.
    this.timeout(15 * 60_000);
    for (const seed of SLICE_SEEDS) results.push(await runSeed({ seed, steps: SLICE_STEPS }));
  });

  it('covers every fault profile, signed and unsigned seeds, crashes and 3 to 7 nodes', () => {
    expect(new Set(results.map((result) => result.profile))).to.have.lengthOf(FAULT_PROFILES.length);
    expectSome(results, (result) => result.signed);
    expectSome(results, (result) => !result.signed);
    expect(results.reduce((sum, result) => sum + result.stats.crashes, 0)).to.be.greaterThan(20);
    expect(Math.min(...results.map((result) => result.nodes))).to.be.at.least(3);
    expect(Math.max(...results.map((result) => result.nodes))).to.be.at.most(7);
    // The sliced receive, verification and save paths pause, and the broadcast's timers fire, all
    // at steps of the simulation (a seed of the shipped slice size never pauses).
    expectSome(results, (result) => result.itemsPerSlice < 250 && result.signed, 'a signed seed with slices under 250 items');
    expect(results.reduce((sum, result) => sum + result.stats.slices, 0)).to.be.greaterThan(100);
    expect(results.reduce((sum, result) => sum + result.stats.broadcastTimers, 0)).to.be.greaterThan(20);
  });

  // The sliced paths and Plumtree came after the simulation was written: their pauses and timers
  // were the machine's (a 1 s announcement round fired wherever the run happened to be), so what a
  // seed did depended on the machine's speed. Every wait of the code under test is the simulation's.
  it('no code under test arms a real timer during a seed: slices and broadcast rounds wait for the simulation', async function () {
    this.timeout(5 * 60_000);
    const real = globalThis.setTimeout;
    const armed: string[] = [];
    globalThis.setTimeout = ((callback: () => void, ms?: number, ...rest: unknown[]) => {
      const caller = new Error().stack?.split('\n').find((line) => line.includes('/src/'));
      if ((ms ?? 0) > 1 && caller) armed.push(`${ms} ms at ${caller.trim()}`);
      return real(callback, ms, ...rest);
    }) as typeof setTimeout;
    let result: SeedResult;
    try {
      result = await runSeed({ seed: 1, steps: 200, itemsPerSlice: 2 });
    } finally {
      globalThis.setTimeout = real;
    }
    expect(armed).to.deep.equal([]);
    expect(result.stats.slices).to.be.greaterThan(0);
    expect(result.stats.broadcastTimers).to.be.greaterThan(0);
    expect(result.failures, formatFailure(result)).to.deep.equal([]);
  });

  for (const profile of FAULT_PROFILES)
    for (const check of CHECKS) {
      const knownToFail = STILL_FAILING[profile].includes(check);
      // Pending: see STILL_FAILING.
      (knownToFail ? it.skip : it)(`${profile}: ${check}`, () => {
        const failed = results.filter((result) => result.profile === profile && result.failures.some((failure) => failure.check === check));
        const report = failed.map((result) => formatFailure({ ...result, failures: result.failures.filter((failure) => failure.check === check) }));
        expect(failed.map((result) => result.seed), report.join('\n\n')).to.deep.equal([]);
      });
    }

  // Seeds of the long run that once failed, with what was wrong, replayed whole (400 fault steps).
  const ONCE_FAILED: ReadonlyArray<readonly [number, string]> = [
    [491, 'the final drain fired broadcast rounds before saves: two nodes announcing to each other what neither had stored yet never let the saves that end it run'],
  ];
  for (const [seed, what] of ONCE_FAILED)
    it(`seed ${seed} of the long run passes every check (${what})`, async function () {
      this.timeout(5 * 60_000);
      const result = await runSeed({ seed });
      expect(result.failures, formatFailure(result)).to.deep.equal([]);
    });

  for (const itemsPerSlice of [250, 2])
    it(`a seed replays identically, signed and with crashes (${itemsPerSlice} items per slice)`, async function () {
      this.timeout(5 * 60_000);
      const first = await runSeed({ seed: 4, steps: 120, itemsPerSlice, traceLines: 100_000 });
      const again = await runSeed({ seed: 4, steps: 120, itemsPerSlice, traceLines: 100_000 });
      expect(first.signed, 'seed 4 signs its changes').to.equal(true);
      expect(first.stats.crashes).to.be.greaterThan(0);
      if (itemsPerSlice < 250) expect(first.stats.slices).to.be.greaterThan(0);
      expect(again.trace).to.deep.equal(first.trace);
      expect(again.failures).to.deep.equal(first.failures);
      expect(again.stats).to.deep.equal(first.stats);
    });
});
