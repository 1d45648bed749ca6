// `node --expose-gc bench/lib/heap-probe.js <ours|yjs> <n> <core bundle>`: builds one side's
// `n`-entity electoral workload in a fresh process and prints the retained V8 heap per entity
// (heapUsed after full collections, minus heapUsed before building) as JSON.
import { buildOurs, buildYjs } from './electoral-workload.js';
import { importCore } from './load-core.js';

const [side, count, corePath] = process.argv.slice(2);
const n = Number(count);
const gc = /** @type {(() => void) | undefined} */ (globalThis.gc);
if (!gc) throw new Error('run with --expose-gc');
if (side !== 'ours' && side !== 'yjs') throw new Error('side must be ours or yjs');

const core = await importCore(corePath);
const collect = () => {
  for (let i = 0; i < 4; i++) gc();
};
// Warm up code and schema caches with a small build, so only the entities' state is counted.
let built = side === 'ours' ? buildOurs(core, 100, 'warmup') : buildYjs(100);
built = /** @type {any} */ (undefined);
collect();
const before = process.memoryUsage().heapUsed;
built = side === 'ours' ? buildOurs(core, n, 'alice') : buildYjs(n);
collect();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ side, n, bytesPerEntity: (after - before) / n, held: Boolean(built) }));
