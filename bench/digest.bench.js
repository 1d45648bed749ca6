// Digest benchmark: what the state digest (src/domain/state-digest.ts) costs on the 10,000-entity
// electoral model of bench/lib/electoral-workload.js. `node bench/digest.bench.js [--quick]`
// prints the rows; `npm run bench` collects them.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildOurs } from './lib/electoral-workload.js';
import { loadCore } from './lib/load-core.js';

const ENTITIES = 10_000;

/**
 * Median and relative spread of `runs` timings (after one warm-up) of `measure`.
 * @param {number} runs
 * @param {() => number} measure
 */
function repeat(runs, measure) {
  measure();
  const values = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  const median = values[Math.floor(runs / 2)];
  return { median, spread: +((values[runs - 1] - values[0]) / median).toFixed(3), runs };
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

  // Every entity was created since the model was made: the first digest hashes them all.
  let start = performance.now();
  const first = model.digest();
  const scratchMs = performance.now() - start;
  results.push({ name: 'first digest of a 10,000-entity model (every entity hashed)', value: +scratchMs.toFixed(2), unit: 'ms', entities: first.entities });

  // One local write, then the digest (one entity rehashed, one bucket adjusted, the root
  // rehashed), against the same write alone: the difference is what the digest adds per edit.
  const writes = quick ? 10_000 : 50_000;
  let round = 0;
  /** @param {boolean} digest */
  const writeRate = (digest) => {
    round++;
    const began = performance.now();
    for (let i = 0; i < writes; i++) {
      voters[i % voters.length].setAttribute('district', `District ${round}.${i}`);
      if (digest) model.digest();
    }
    return writes / ((performance.now() - began) / 1000);
  };
  const plain = repeat(runs, () => writeRate(false));
  const digested = repeat(runs, () => writeRate(true));
  const perEditUs = 1e6 / digested.median - 1e6 / plain.median;
  results.push({
    name: 'digest cost per local write (write + digest() vs write alone), 10,000 entities',
    value: +perEditUs.toFixed(3),
    unit: 'µs/edit',
    runs,
    writesPerSecondWithDigest: Math.round(digested.median),
    writesPerSecondWithout: Math.round(plain.median),
    spreadWith: digested.spread,
    spreadWithout: plain.spread,
  });

  // An unchanged model answers from its cache.
  const cached = repeat(runs, () => {
    const began = performance.now();
    for (let i = 0; i < 100_000; i++) model.digest();
    return ((performance.now() - began) * 1000) / 100_000;
  });
  results.push({ name: 'digest() of an unchanged model', value: +cached.median.toFixed(4), unit: 'µs', runs, spread: cached.spread });

  // What a repair reads: the bucket list, then one bucket's entity hashes and states.
  start = performance.now();
  const buckets = model.digestBuckets();
  const hashes = model.entityDigestsInBuckets([7]);
  const states = model.entityStatesInBuckets([7]);
  const locateMs = performance.now() - start;
  results.push({
    name: 'bucket list, then hashes and states of one bucket, 10,000 entities',
    value: +locateMs.toFixed(2),
    unit: 'ms',
    bucketListBytes: Buffer.byteLength(JSON.stringify(buckets)),
    entitiesInBucket: hashes.length,
    stateBytes: Buffer.byteLength(JSON.stringify(states)),
  });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'digest', ...row }));
}
