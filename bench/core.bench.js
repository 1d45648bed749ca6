// Core benchmark: the pure CRDT and domain layers in Node, on a 10,000-entity electoral model.
// `run({ quick })` returns one measurement object per line of output; `node bench/core.bench.js`
// prints them. The TypeScript sources are bundled with esbuild first (bench/lib/load-core.js); the
// model is the electoral workload of bench/lib/electoral-workload.js.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildOurs } from './lib/electoral-workload.js';
import { loadCore } from './lib/load-core.js';

const ENTITIES = 10_000;
const CHANGED_ATTRIBUTES = 100;

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
  const { model: alice, voters } = buildOurs(core, ENTITIES, 'alice');
  const buildMs = performance.now() - built;
  const snapshot = alice.getSnapshot();
  const attributes = snapshot.entities.reduce((sum, entity) => sum + Object.keys(entity.attributes).length, 0);
  results.push({ name: 'build 10,000-entity electoral model', value: Math.round(buildMs), unit: 'ms', entities: snapshot.entities.length, attributesPerEntity: +(attributes / snapshot.entities.length).toFixed(2) });

  const writes = quick ? 20_000 : 100_000;
  let round = 0;
  results.push({
    name: 'local attribute writes, 10,000 entities',
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
    name: 'remote changes applied, already decoded batch (applyChanges only)',
    unit: 'changes/s',
    changes: full.changes.length,
    ...repeat(runs, () => {
      const bob = new core.ElectoralSystemModel({ modelId: 'bench', nodeId: 'bob', roles: 'open' });
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
  // Wire bytes: the delta message as a peer that speaks sync protocol 2 sends it (packed).
  const message = /** @type {const} */ ({ t: 'delta', seq: 1, part: 1, parts: 1, batch: alice.getDelta(since) });
  const wire = core.encodeSyncMessage(message, 'compact').byteLength;
  results.push({ name: 'delta wire bytes, 100 changed attributes of 10,000 entities', value: wire, unit: 'bytes', changes: delta.length, jsonBytes: core.encodeSyncMessage(message).byteLength });
  results.push({ name: 'getChangesSince time, 100 changed attributes of 10,000 entities', value: +deltaMs.toFixed(3), unit: 'ms' });
  results.push({ name: 'snapshot bytes, 10,000 entities', value: bytes(alice.getSnapshot()), unit: 'bytes', entities: snapshot.entities.length });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'core', ...row }));
}
