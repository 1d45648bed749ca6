// Digest benchmark: what the state digest (src/domain/state-digest.ts) costs on the 10,000-entity
// electoral model of bench/lib/electoral-workload.js. `node bench/digest.bench.js [--quick]`
// prints the rows; `npm run bench` collects them.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildOurs } from './lib/electoral-workload.js';
import { loadCore } from './lib/load-core.js';

const ENTITIES = 10_000;

/**
 * Median and relative spread of `runs` values (after one warm-up) of `measure`.
 * @param {number} runs
 * @param {() => number} measure
 */
function repeat(runs, measure) {
  measure();
  const values = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  const median = values[Math.floor(runs / 2)];
  return { median, spread: +((values[runs - 1] - values[0]) / Math.abs(median)).toFixed(3), runs };
}

/**
 * Milliseconds of CPU time `work` takes. The machines this runs on are shared: CPU time, unlike
 * wall time, does not count the time other processes hold the cores.
 * @param {() => void} work
 */
function cpuMs(work) {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/**
 * Runs the benchmark; `quick` does fewer repetitions. Returns the measurements.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const core = await loadCore();
  const runs = quick ? 3 : 7;
  const results = [];
  const { model, voters } = buildOurs(core, ENTITIES, 'alice');
  model.digest();

  // A replica that received the whole model in one delta hashes every entity at its first digest.
  const full = core.decodeChangeBatch(JSON.parse(JSON.stringify(model.getDelta(new core.VersionVector()))));
  if ('error' in full) throw new Error(full.error);
  let entities = 0;
  const scratch = repeat(runs, () => {
    const bob = new core.ElectoralSystemModel({ modelId: 'bench', nodeId: 'bob', roles: 'open' });
    bob.applyChanges(full);
    return cpuMs(() => (entities = bob.digest().entities));
  });
  // The workload holds a few entities besides its voters (elections, candidates).
  const held = model.getEntityStates().length;
  if (entities !== held) throw new Error(`expected ${held} entities, digest counted ${entities}`);
  results.push({ name: 'first digest after receiving a 10,000-entity model (every entity hashed)', value: +scratch.median.toFixed(2), unit: 'ms CPU', runs, spread: scratch.spread });

  // One local write, then the digest (one entity rehashed, its bucket and the root adjusted),
  // against the same writes alone, in alternation: the difference is what the digest adds per edit.
  const writes = quick ? 10_000 : 50_000;
  let round = 0;
  /** @param {boolean} digest */
  const writeMs = (digest) =>
    cpuMs(() => {
      round++;
      for (let i = 0; i < writes; i++) {
        voters[i % voters.length].setAttribute('district', `District ${round}.${i}`);
        if (digest) model.digest();
      }
    });
  /** @type {number[]} */
  const plain = [];
  const added = repeat(runs, () => {
    const without = writeMs(false);
    plain.push(without);
    return ((writeMs(true) - without) * 1000) / writes;
  });
  const plainUs = (plain.sort((a, b) => a - b)[Math.floor(plain.length / 2)] * 1000) / writes;
  results.push({
    name: 'digest cost per local write (write + digest() minus write alone), 10,000 entities (the model alone, in Node: the engine asks the same digest() at most a few times per delta it sends or acks)',
    value: +added.median.toFixed(3),
    unit: 'µs CPU/edit',
    runs,
    spread: added.spread,
    writeAloneUs: +plainUs.toFixed(3),
  });

  // An unchanged model answers from its cache.
  const cached = repeat(runs, () => {
    const began = performance.now();
    for (let i = 0; i < 100_000; i++) model.digest();
    return ((performance.now() - began) * 1000) / 100_000;
  });
  results.push({ name: 'digest() of an unchanged model', value: +cached.median.toFixed(4), unit: 'µs', runs, spread: cached.spread });

  // What a repair reads: the bucket list, then one bucket's entity hashes and states.
  let read = { buckets: model.digestBuckets(), hashes: model.entityDigestsInBuckets([7]), states: model.entityStatesInBuckets([7]) };
  const locate = repeat(runs, () =>
    cpuMs(() => {
      read = { buckets: model.digestBuckets(), hashes: model.entityDigestsInBuckets([7]), states: model.entityStatesInBuckets([7]) };
    }),
  );
  results.push({
    name: 'bucket list, then hashes and states of one bucket, 10,000 entities',
    value: +locate.median.toFixed(2),
    unit: 'ms CPU',
    runs,
    spread: locate.spread,
    bucketListBytes: Buffer.byteLength(JSON.stringify(read.buckets)),
    entitiesInBucket: read.hashes.length,
    stateBytes: Buffer.byteLength(JSON.stringify(read.states)),
  });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'digest', ...row }));
}
