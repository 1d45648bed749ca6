// Core benchmark: the pure CRDT and domain layers in Node, on a 10,000-entity electoral model.
// `run({ quick })` returns one measurement object per line of output; `node bench/core.bench.js`
// prints them. The TypeScript sources are bundled with esbuild first (types stripped, not checked).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @typedef {object} Core
 * @property {typeof import('../src/crdt/index.js').VersionVector} VersionVector
 * @property {typeof import('../src/domain/index.js').decodeChangeBatch} decodeChangeBatch
 * @property {typeof import('../src/models/electoral/index.js').ElectoralSystemModel} ElectoralSystemModel
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTITIES = 10_000;
const CHANGED_ATTRIBUTES = 100;

/**
 * Bundles the core (crdt, domain, electoral model) into a temporary module and imports it.
 * @returns {Promise<Core>}
 */
async function loadCore() {
  const outfile = join(tmpdir(), `ednet-core-bench-${process.pid}.mjs`);
  await build({
    stdin: {
      contents: [
        "export { VersionVector } from './src/crdt/index.ts';",
        "export { decodeChangeBatch } from './src/domain/index.ts';",
        "export { ElectoralSystemModel } from './src/models/electoral/index.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}

/**
 * A realistic electoral model of `ENTITIES` entities: 10 open elections with 4 candidates each,
 * voters registered for one election each, and one ballot from each voter but 50.
 * @param {Core} core
 * @param {string} nodeId
 */
function electoralModel(core, nodeId) {
  const model = new core.ElectoralSystemModel({ modelId: 'bench', nodeId });
  const elections = [];
  for (let e = 0; e < 10; e++) {
    const election = model.createElection({
      title: `Election ${e}`,
      description: 'Annual election of the board of the cooperative.',
      opensAt: '2024-05-01T08:00:00.000Z',
      closesAt: '2024-05-01T20:00:00.000Z',
    });
    const candidates = [0, 1, 2, 3].map((c) => model.addCandidate(election.oid, { name: `Candidate ${e}.${c}`, party: `Party ${c}`, statement: 'For a fair budget.' }));
    elections.push({ election, candidates });
  }
  for (const { election } of elections) model.openElection(election.oid);
  const voterCount = (ENTITIES - 10 - 40 + 50) / 2;
  for (let v = 0; v < voterCount; v++) {
    const { election, candidates } = elections[v % 10];
    const voter = model.registerVoter({
      name: `Voter ${v}`,
      voterNumber: `V-${v}`,
      email: `voter${v}@example.org`,
      district: `District ${v % 50}`,
      address: `${v} Main Street, Springfield`,
      birthDate: '1980-01-01',
    });
    model.registerForElection(voter.oid, election.oid);
    if (v >= 50) model.castBallot({ voterId: voter.oid, electionId: election.oid, candidateId: candidates[v % 4].oid, channel: 'in-person' });
  }
  return model;
}

/**
 * Median and relative spread of `runs` timings of `measure` (each returns operations per second).
 * @param {number} runs
 * @param {() => number} measure
 */
function repeat(runs, measure) {
  measure(); // warm-up, not counted
  const rates = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  const median = rates[Math.floor(runs / 2)];
  return { value: Math.round(median), median: Math.round(median), spread: +((rates[runs - 1] - rates[0]) / median).toFixed(3), runs };
}

/** @param {unknown} value */
const bytes = (value) => Buffer.byteLength(JSON.stringify(value));

/**
 * Runs the benchmark; `quick` does fewer repetitions. Returns the measurements.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const core = await loadCore();
  const runs = quick ? 3 : 7;
  const results = [];

  const built = performance.now();
  const alice = electoralModel(core, 'alice');
  const buildMs = performance.now() - built;
  const snapshot = alice.getSnapshot();
  const attributes = snapshot.entities.reduce((sum, entity) => sum + Object.keys(entity.attributes).length, 0);
  results.push({ name: 'build 10,000-entity electoral model', value: Math.round(buildMs), unit: 'ms', entities: snapshot.entities.length, attributesPerEntity: +(attributes / snapshot.entities.length).toFixed(2) });

  const voters = alice.voters().toArray();
  const writes = quick ? 20_000 : 100_000;
  let round = 0;
  results.push({
    name: 'local attribute writes',
    unit: 'writes/s',
    ...repeat(runs, () => {
      round++;
      const start = performance.now();
      for (let i = 0; i < writes; i++) voters[i % voters.length].setAttribute('district', `District ${round}.${i}`);
      return writes / ((performance.now() - start) / 1000);
    }),
  });

  const full = core.decodeChangeBatch(JSON.parse(JSON.stringify(alice.getDelta(new core.VersionVector()))));
  if ('error' in full) throw new Error(full.error);
  results.push({
    name: 'remote changes applied',
    unit: 'changes/s',
    changes: full.changes.length,
    ...repeat(runs, () => {
      const bob = new core.ElectoralSystemModel({ modelId: 'bench', nodeId: 'bob' });
      const start = performance.now();
      const result = bob.applyChanges(full);
      const seconds = (performance.now() - start) / 1000;
      if (result.applied !== full.changes.length || !result.complete) throw new Error('benchmark delta was not applied whole');
      return full.changes.length / seconds;
    }),
  });

  const since = alice.version;
  for (let i = 0; i < CHANGED_ATTRIBUTES; i++) voters[(i * 37) % voters.length].setAttribute('name', `Renamed ${i}`);
  const start = performance.now();
  const delta = alice.getChangesSince(since);
  const deltaMs = performance.now() - start;
  if (delta.length !== CHANGED_ATTRIBUTES) throw new Error(`expected ${CHANGED_ATTRIBUTES} changes, got ${delta.length}`);
  results.push({ name: 'getChangesSince bytes, 100 changed attributes of 10,000 entities', value: bytes(delta), unit: 'bytes', changes: delta.length });
  results.push({ name: 'getChangesSince time, 100 changed attributes of 10,000 entities', value: +deltaMs.toFixed(3), unit: 'ms' });
  results.push({ name: 'snapshot bytes, 10,000 entities', value: bytes(alice.getSnapshot()), unit: 'bytes', entities: snapshot.entities.length });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'core', ...row }));
}
